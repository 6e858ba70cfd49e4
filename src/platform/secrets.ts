import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { onFirstUse } from './on-first-use.js';

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

/**
 * A function's keys, behind the one step that may wait: getting the master secret. On AWS the
 * first call fetches it from Secrets Manager and every later call shares it, so a function that
 * never derives a key never fetches it, and one that does pays for the fetch on the first request
 * that needs a key rather than on every cold start. Locally, and in tests, it is there at once.
 */
export type SecretSource = () => Promise<Secrets>;

/**
 * The keys derived from the master secret `load` answers, loaded by the first call; a failed load
 * is forgotten, so the next call tries again.
 */
export function secretsOnFirstUse(load: () => Promise<Buffer>): SecretSource {
  return onFirstUse(async () => deriveSecrets(await load()));
}

/** A service every method of which answers a promise, so that each can wait before it runs. */
export type AsyncService<S> = {
  [K in keyof S]: S[K] extends (...args: never[]) => infer R
    ? R extends PromiseLike<unknown>
      ? S[K]
      : never
    : S[K];
};

/**
 * Keys for code that cannot wait for them: a row mapped to a domain object by a synchronous
 * function, say. `secrets` answers synchronously inside a method of a service that `gate`
 * wrapped, which waits for the keys before it runs the method; anywhere else, before any such
 * method has run, it throws, naming the mistake (a test that builds the container from a
 * `SecretSource` not yet loaded finds it).
 */
export interface GatedSecrets {
  readonly secrets: Secrets;
  /** `service`, each of whose methods first waits for the keys (calls inside it run as before). */
  gate<S extends AsyncService<S>>(service: S): S;
}

export function gatedSecrets(source: SecretSource): GatedSecrets {
  let loaded: Secrets | undefined;
  const load = async () => {
    loaded ??= await source();
  };
  const now = (): Secrets => {
    if (!loaded) {
      throw new Error(
        'a key was used synchronously before the keys were loaded: use it inside a service wrapped by gate()',
      );
    }
    return loaded;
  };
  return {
    secrets: {
      key: (purpose) => now().key(purpose),
      seal: (purpose, plaintext) => now().seal(purpose, plaintext),
      open: (purpose, sealed) => now().open(purpose, sealed),
    },
    gate: (service) =>
      new Proxy(service, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property, target);
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            await load();
            return value.apply(target, args);
          };
        },
      }),
  };
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
