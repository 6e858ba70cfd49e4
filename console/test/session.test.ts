import { describe, expect, it } from 'vitest';
import {
  authHeaders,
  type Credential,
  describeCredential,
  methodOf,
  msUntilExpiry,
  SESSION_KEY,
  type SessionStorageLike,
  sessionEndReason,
  sessionStore,
  TOKEN_EXPIRED_MESSAGE,
} from '../src/lib/session';

/** The part of the browser's sessionStorage the store uses, in memory. */
function memoryStorage(): SessionStorageLike & { readonly items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

describe('session credential', () => {
  it('keeps an API key for the tab and removes it on sign-out', () => {
    const storage = memoryStorage();
    const store = sessionStore(storage);

    store.write({ kind: 'api-key', key: 'k-123456' });
    expect(store.read()).toEqual({ kind: 'api-key', key: 'k-123456' });

    store.clear();
    expect(store.read()).toBeUndefined();
    expect(storage.items.size).toBe(0);
  });

  it('forgets a token once it has expired', () => {
    const storage = memoryStorage();
    let now = 1_000;
    const store = sessionStore(storage, () => now);
    store.write({ kind: 'token', token: 't', username: 'ana', expiresAt: 2_000 });

    expect(store.read()?.kind).toBe('token');
    now = 2_000;
    expect(store.read()).toBeUndefined();
    expect(storage.items.has(SESSION_KEY)).toBe(false);
  });

  it('treats damaged or foreign contents as signed out', () => {
    for (const raw of ['{', '"key"', '{"kind":"api-key","key":""}', '{"kind":"token"}']) {
      const storage = memoryStorage();
      storage.setItem(SESSION_KEY, raw);
      expect(sessionStore(storage).read(), raw).toBeUndefined();
      expect(storage.items.size, raw).toBe(0);
    }
  });

  it('sends an API key as x-api-key and a token as a bearer authorization', () => {
    expect(authHeaders({ kind: 'api-key', key: 'k' })).toEqual({ 'x-api-key': 'k' });
    expect(authHeaders({ kind: 'token', token: 't', username: 'u', expiresAt: 1 })).toEqual({
      authorization: 'Bearer t',
    });
  });

  it('shows only the last characters of a key', () => {
    expect(describeCredential({ kind: 'api-key', key: 'secret-key-abcd' })).toBe('API key …abcd');
    expect(describeCredential({ kind: 'token', token: 't', username: 'ana', expiresAt: 1 })).toBe(
      'ana',
    );
  });

  it('counts down to a token’s expiry; an API key has none', () => {
    const token: Credential = { kind: 'token', token: 't', username: 'u', expiresAt: 5_000 };
    expect(msUntilExpiry(token, 1_000)).toBe(4_000);
    expect(msUntilExpiry(token, 9_000)).toBe(0);
    expect(msUntilExpiry({ kind: 'api-key', key: 'k' }, 1_000)).toBeUndefined();
  });

  it('offers the method of the session that ended when signing in again', () => {
    expect(methodOf({ kind: 'api-key', key: 'k' })).toBe('api-key');
    expect(methodOf({ kind: 'token', token: 't', username: 'u', expiresAt: 1 })).toBe('password');
  });
});

describe('a 401 to a request made with the signed-in credential', () => {
  const key: Credential = { kind: 'api-key', key: 'k' };
  const token: Credential = { kind: 'token', token: 't', username: 'ana', expiresAt: 1 };

  it('ends a token session with “expired” when the API says the token has expired', () => {
    expect(
      sessionEndReason(token, { code: 'AUTH.TOKEN_INVALID', detail: 'The token has expired.' }),
    ).toBe(TOKEN_EXPIRED_MESSAGE);
  });

  it('ends a session whose credential the API refuses, saying why', () => {
    expect(
      sessionEndReason(token, { code: 'AUTH.TOKEN_INVALID', detail: 'The token is not valid.' }),
    ).toBe('The API refused your sign-in (The token is not valid.). Sign in again.');
    expect(sessionEndReason(key, { code: 'AUTH.UNAUTHORIZED' })).toMatch(/API key/);
    expect(sessionEndReason(key, undefined)).toMatch(/API key/);
  });

  it('keeps an API key session when the route only takes a bearer token', () => {
    expect(sessionEndReason(key, { code: 'AUTH.TOKEN_REQUIRED', detail: '…' })).toBeUndefined();
  });
});
