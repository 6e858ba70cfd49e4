/**
 * The signed-in credential, kept for this tab only (sessionStorage): it goes into request
 * headers and nowhere else — never a URL, a log line or localStorage. Signing out removes it.
 */
export type Credential =
  | { readonly kind: 'api-key'; readonly key: string }
  | {
      readonly kind: 'token';
      readonly token: string;
      readonly username: string;
      /** Epoch milliseconds. */
      readonly expiresAt: number;
    };

export type SessionStorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export const SESSION_KEY = 'roster.console.credential';

export interface SessionStore {
  read(): Credential | undefined;
  write(credential: Credential): void;
  clear(): void;
}

export function sessionStore(
  storage: SessionStorageLike,
  now: () => number = Date.now,
): SessionStore {
  const clear = () => storage.removeItem(SESSION_KEY);
  return {
    read() {
      const raw = storage.getItem(SESSION_KEY);
      if (raw === null) return undefined;
      const credential = parseCredential(raw);
      if (!credential || (credential.kind === 'token' && credential.expiresAt <= now())) {
        clear();
        return undefined;
      }
      return credential;
    },
    write(credential) {
      storage.setItem(SESSION_KEY, JSON.stringify(credential));
    },
    clear,
  };
}

function parseCredential(raw: string): Credential | undefined {
  try {
    const value = JSON.parse(raw) as Record<string, unknown>;
    if (value.kind === 'api-key' && typeof value.key === 'string' && value.key !== '') {
      return { kind: 'api-key', key: value.key };
    }
    if (
      value.kind === 'token' &&
      typeof value.token === 'string' &&
      typeof value.username === 'string' &&
      typeof value.expiresAt === 'number'
    ) {
      return {
        kind: 'token',
        token: value.token,
        username: value.username,
        expiresAt: value.expiresAt,
      };
    }
  } catch {
    // not ours, or damaged: treated as signed out
  }
  return undefined;
}

/** The request headers that carry a credential. */
export function authHeaders(credential: Credential): Record<string, string> {
  return credential.kind === 'api-key'
    ? { 'x-api-key': credential.key }
    : { authorization: `Bearer ${credential.token}` };
}

/** Who is signed in, as the header shows it: a key only by its last characters. */
export function describeCredential(credential: Credential): string {
  return credential.kind === 'api-key'
    ? `API key …${credential.key.slice(-4)}`
    : credential.username;
}
