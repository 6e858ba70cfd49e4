import { describe, expect, it } from 'vitest';
import { credentialOfToken } from '../src/auth/token';
import { authHeaders } from '../src/lib/session';

describe('the credential of a token answer', () => {
  it('keeps the access token (not the id token) and its expiry on this clock', () => {
    const credential = credentialOfToken(
      { access_token: 'access.jwt.sig', expires_in: 3600 },
      'alice',
      1_000_000,
    );
    expect(credential).toEqual({
      kind: 'token',
      token: 'access.jwt.sig',
      username: 'alice',
      expiresAt: 1_000_000 + 3_600_000,
    });
    expect(authHeaders(credential)).toEqual({ authorization: 'Bearer access.jwt.sig' });
  });
});
