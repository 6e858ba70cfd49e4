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

/** How the sign-in page offers to sign in: the method last used, or the one a screen needs. */
export type SignInMethod = 'api-key' | 'password';

export const methodOf = (credential: Credential): SignInMethod =>
  credential.kind === 'api-key' ? 'api-key' : 'password';

/** What the sign-in page says when a token ran out while the console was open. */
export const TOKEN_EXPIRED_MESSAGE = 'Your sign-in has expired. Sign in again to continue.';

/**
 * Milliseconds until a token's expiry (0 once it has passed); undefined for an API key, which
 * does not expire on its own. The console signs out at that moment, before the API refuses it.
 */
export function msUntilExpiry(credential: Credential, now: number): number | undefined {
  if (credential.kind !== 'token') return undefined;
  return Math.max(credential.expiresAt - now, 0);
}

/** The part of a problem document the session looks at. */
interface RefusalProblem {
  readonly code?: string | undefined;
  readonly detail?: string | undefined;
}

/**
 * Whether a 401 to a request sent with the stored credential ends the session, and what the
 * sign-in page then says. `AUTH.TOKEN_REQUIRED` does not: the credential is good, the route only
 * takes a bearer token (an API key filing an SLA error); that screen explains it instead.
 */
export function sessionEndReason(
  credential: Credential,
  problem: RefusalProblem | undefined,
): string | undefined {
  if (problem?.code === 'AUTH.TOKEN_REQUIRED') return undefined;
  if (credential.kind === 'api-key') {
    return 'The API no longer accepts this API key (it may have been replaced). Sign in again.';
  }
  if (problem?.detail && /expired/i.test(problem.detail)) return TOKEN_EXPIRED_MESSAGE;
  return `The API refused your sign-in${problem?.detail ? ` (${problem.detail})` : ''}. Sign in again.`;
}
