import { readFile, writeFile } from 'node:fs/promises';

/**
 * The text of a file the local runtime keeps in its data directory (a key, a secret), created
 * once with `create()` when it does not exist yet: mode 0600, and `wx` so that when two processes
 * start on the same directory at once, one writer wins and both read its file.
 */
export async function readOrCreate(file: string, create: () => string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeFile(file, create(), { mode: 0o600, flag: 'wx' }).catch(
    (error: NodeJS.ErrnoException) => {
      // Another process created it first: use theirs.
      if (error.code !== 'EEXIST') throw error;
    },
  );
  return readFile(file, 'utf8');
}
