import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import type { Secrets } from './secrets.js';

/**
 * Ed25519 signing keys with versions, derived from the deployment's master secret (one 32-byte
 * seed per purpose and version, by the same HKDF as every other key): nothing new to provision or
 * to protect — on AWS the master secret is a Secrets Manager secret, encrypted with KMS — and a
 * rotation is a new version number. Signatures made with an older version verify until that
 * version is retired. Public keys are what a verifier elsewhere (an offline door device) gets.
 */
export interface SigningKeys {
  /** The version new signatures are made with. */
  readonly current: number;
  /** Signs with the current version (Ed25519: 64 bytes, the same for the same message). */
  sign(message: Uint8Array): Buffer;
  /** Whether `signature` is `message` signed with `version`, which must be in service. */
  verify(version: number, message: Uint8Array, signature: Uint8Array): boolean;
  /** The versions in service (retired ones left out), each with its raw 32-byte public key. */
  publicKeys(): readonly { readonly version: number; readonly publicKey: Buffer }[];
}

export interface SigningKeysOptions {
  readonly purpose: string;
  /** The version to sign with (1 or more). */
  readonly current: number;
  /** Versions below this no longer verify (1: none retired). */
  readonly retiredBelow: number;
}

/** PKCS#8 DER of an Ed25519 private key is this prefix and the 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function signingKeys(secrets: Secrets, options: SigningKeysOptions): SigningKeys {
  const { purpose, current, retiredBelow } = options;
  if (!Number.isInteger(current) || current < 1 || current > 255) {
    throw new Error('the current signing key version must be an integer from 1 to 255');
  }
  if (retiredBelow > current) throw new Error('the current signing key version is retired');
  const keys = new Map<number, { private: KeyObject; public: KeyObject }>();
  const keyOf = (version: number) => {
    let found = keys.get(version);
    if (!found) {
      const seed = secrets.key(`${purpose}:ed25519:v${version}`);
      const privateKey = createPrivateKey({
        key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
        format: 'der',
        type: 'pkcs8',
      });
      found = { private: privateKey, public: createPublicKey(privateKey) };
      keys.set(version, found);
    }
    return found;
  };
  const inService = (version: number) =>
    Number.isInteger(version) && version >= retiredBelow && version <= current;
  return {
    current,
    sign: (message) => sign(null, message, keyOf(current).private),
    verify: (version, message, signature) =>
      inService(version) &&
      signature.length === 64 &&
      verify(null, message, keyOf(version).public, signature),
    publicKeys: () => {
      const listed = [];
      for (let version = Math.max(1, retiredBelow); version <= current; version++) {
        const jwk = keyOf(version).public.export({ format: 'jwk' });
        listed.push({ version, publicKey: Buffer.from(jwk.x as string, 'base64url') });
      }
      return listed;
    },
  };
}
