import { hkdfSync } from 'node:crypto';

/**
 * One master secret per deployment (a file in the data directory locally, a Secrets Manager
 * secret on AWS), from which each use derives its own key with HKDF-SHA256. A key for one
 * purpose (signing cursors) says nothing about another (keying CPF guards), and adding a purpose
 * needs no new secret to provision.
 */
export interface Secrets {
  /** A 32-byte key for `purpose`, the same on every call and in every process of a deployment. */
  key(purpose: string): Buffer;
}

export const MIN_MASTER_SECRET_BYTES = 32;

export function deriveSecrets(master: Buffer): Secrets {
  if (master.length < MIN_MASTER_SECRET_BYTES) {
    throw new Error(`the master secret needs at least ${MIN_MASTER_SECRET_BYTES} bytes`);
  }
  const keys = new Map<string, Buffer>();
  return {
    key(purpose) {
      let key = keys.get(purpose);
      if (!key) {
        key = Buffer.from(hkdfSync('sha256', master, 'roster', `roster:${purpose}`, 32));
        keys.set(purpose, key);
      }
      return key;
    },
  };
}
