import { type Api, type Schemas, unwrap } from '../api/client';
import type { Credential } from '../lib/session';

/**
 * The credential a `POST /auth/token` answer gives: the access token (the id token is not a
 * credential and is not kept) and when it expires, counted from now on this machine's clock, so
 * a clock that differs from the issuer's doesn't matter.
 */
export function credentialOfToken(
  answer: Pick<Schemas['TokenResponse'], 'access_token' | 'expires_in'>,
  username: string,
  now: number,
): Credential {
  return {
    kind: 'token',
    token: answer.access_token,
    username,
    expiresAt: now + answer.expires_in * 1000,
  };
}

/** Username + password → bearer token through the typed client (a public route). */
export async function requestToken(
  api: Api,
  username: string,
  password: string,
  now: () => number = Date.now,
): Promise<Credential> {
  const { data } = await unwrap(api.POST('/auth/token', { body: { username, password } }));
  return credentialOfToken(data, username, now());
}
