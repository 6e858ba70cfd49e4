import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ResolvedApiKeys {
  readonly keys: readonly string[];
  /** Where a generated key is kept, when it was generated. */
  readonly file?: string;
}

/** `API_KEYS` when set; otherwise one key generated once and kept under the data directory. */
export async function resolveApiKeys(
  configured: readonly string[] | undefined,
  dataDir: string,
): Promise<ResolvedApiKeys> {
  if (configured && configured.length > 0) return { keys: configured };
  const file = join(dataDir, 'api-key');
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key.length > 0) return { keys: [key], file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = `rk_${randomBytes(24).toString('base64url')}`;
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return { keys: [key], file };
}
