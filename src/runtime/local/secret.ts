import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIN_MASTER_SECRET_BYTES } from '../../platform/secrets.js';

/**
 * The local master secret: `APP_SECRET` when set, else 32 random bytes generated once and kept in
 * the data directory (mode 0600), like the generated API key. Losing the file invalidates what
 * was derived from it (pagination cursors in flight, and any keyed lookups a module makes), so
 * it lives with the data it protects.
 */
export async function resolveLocalSecret(
  configured: string | undefined,
  dataDir: string,
): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'base64url');
  const file = join(dataDir, 'app-secret');
  try {
    const stored = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
    if (stored.length >= MIN_MASTER_SECRET_BYTES) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(MIN_MASTER_SECRET_BYTES);
  await writeFile(file, `${secret.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' }).catch(
    async (error: NodeJS.ErrnoException) => {
      // Another process created it first: use theirs.
      if (error.code !== 'EEXIST') throw error;
    },
  );
  return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
}
