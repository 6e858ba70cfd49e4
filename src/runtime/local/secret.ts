import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MIN_MASTER_SECRET_BYTES } from '../../platform/secrets.js';
import { readOrCreate } from './data-file.js';

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
  // A stored secret shorter than the minimum is refused where it is used (deriveSecrets).
  const stored = await readOrCreate(
    join(dataDir, 'app-secret'),
    () => `${randomBytes(MIN_MASTER_SECRET_BYTES).toString('base64url')}\n`,
  );
  return Buffer.from(stored.trim(), 'base64url');
}
