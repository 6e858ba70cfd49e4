import { ApiError, networkProblem, problemOf } from '../lib/problem';
import type { Credential } from '../lib/session';

/**
 * Username + password → bearer token through `POST /auth/token` (SPEC: auth). Offered only when
 * the API has that route (`hasOperation`); until the auth module lands its path is not in the
 * generated types, so this one call is written by hand against the SPEC's shape.
 */
interface TokenResponse {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
}

export async function requestToken(
  apiUrl: string,
  username: string,
  password: string,
  now: () => number = Date.now,
): Promise<Credential> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  } catch (error) {
    throw new ApiError(networkProblem(error));
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw new ApiError(problemOf(response.status, response.statusText, body));
  const token = body as Partial<TokenResponse> | undefined;
  if (typeof token?.access_token !== 'string' || typeof token.expires_in !== 'number') {
    throw new ApiError({
      title: 'Unexpected answer',
      status: response.status,
      detail: 'POST /auth/token did not return an access token.',
    });
  }
  return {
    kind: 'token',
    token: token.access_token,
    username,
    expiresAt: now() + token.expires_in * 1000,
  };
}
