import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * One master secret per deployment (a file in the data directory locally, a Secrets Manager
 * secret on AWS), from which each use derives its own key with HKDF-SHA256. A key for one
 * purpose (signing cursors) says nothing about another (keying CPF guards), and adding a purpose
 * needs no new secret to provision.
 */
export interface Secrets {
  /** A 32-byte key for `purpose`, the same on every call and in every process of a deployment. */
  key(purpose: string): Buffer;
  /**
   * `plaintext` encrypted for storage (AES-256-GCM under the key for `purpose`, a fresh nonce
   * each time): for values kept at rest that must be read back, such as webhook signing secrets.
   */
  seal(purpose: string, plaintext: string): string;
  /** What `seal` encrypted; throws when the value was altered or sealed for another purpose. */
  open(purpose: string, sealed: string): string;
}

export const MIN_MASTER_SECRET_BYTES = 32;

export function deriveSecrets(master: Buffer): Secrets {
  if (master.length < MIN_MASTER_SECRET_BYTES) {
    throw new Error(`the master secret needs at least ${MIN_MASTER_SECRET_BYTES} bytes`);
  }
  const keys = new Map<string, Buffer>();
  const key = (purpose: string): Buffer => {
    let found = keys.get(purpose);
    if (!found) {
      found = Buffer.from(hkdfSync('sha256', master, 'roster', `roster:${purpose}`, 32));
      keys.set(purpose, found);
    }
    return found;
  };
  return {
    key,
    seal: (purpose, plaintext) => seal(key(`sealed:${purpose}`), plaintext),
    open: (purpose, sealed) => open(key(`sealed:${purpose}`), sealed),
  };
}

const SEAL_VERSION = 'v1';

function seal(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const parts = [nonce, body, cipher.getAuthTag()].map((part) => part.toString('base64url'));
  return [SEAL_VERSION, ...parts].join('.');
}

function open(key: Buffer, sealed: string): string {
  const [version, nonce, body, tag] = sealed.split('.');
  if (version !== SEAL_VERSION || !nonce || !body || !tag) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([
    decipher.update(Buffer.from(body, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
}
