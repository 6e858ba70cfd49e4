import type { TokenVerifier } from '../http/auth.js';

// Re-exported so that a module's service types its verifier through the port, not platform/http.
export type { TokenVerifier };

/**
 * The token port: who issues bearer tokens (JWTs) and how the API checks them. Two kinds:
 *
 * - `user-pool`: a managed identity provider (Amazon Cognito on AWS) holds the users, checks
 *   their passwords and signs the tokens; the app only forwards credentials (`authenticate`).
 * - `self-issued`: the deployment signs its own tokens (the local runtime's RS256 issuer). It
 *   holds no users: whoever checked the password (the auth module's user store) asks it to
 *   `issue` tokens for that subject, and it publishes its public keys (`jwks`).
 *
 * Both verify the same way (RS256 signatures against the issuer's JWKS; `iss`, `client_id`,
 * `token_use`, `exp`, `nbf`) and issue tokens with the same Cognito-shaped claims, so what the
 * rest of the app sees of a caller does not depend on the kind.
 */
export type TokenPort = UserPoolTokens | SelfIssuedTokens;

export interface IssuedTokens {
  readonly accessToken: string;
  readonly idToken: string;
  /** Seconds until both tokens expire. */
  readonly expiresIn: number;
}

export interface UserPoolTokens {
  readonly kind: 'user-pool';
  /**
   * Exchanges a username and password for tokens. Rejects with a `TokenIssuerError` when the
   * provider refuses (wrong credentials, its own throttling, a challenge the API can't answer);
   * any other rejection means the provider could not be reached.
   */
  authenticate(username: string, password: string): Promise<IssuedTokens>;
  /** Accepts the provider's access tokens for this app client, and nothing else. */
  readonly verify: TokenVerifier;
}

export interface SelfIssuedTokens {
  readonly kind: 'self-issued';
  /** Signs an access token and an id token for a subject whose password was already checked. */
  issue(subject: TokenSubject): Promise<IssuedTokens>;
  /** The public keys tokens are signed with, for `/.well-known/jwks.json`. */
  jwks(): JsonWebKeySet;
  /** Accepts this issuer's access tokens, and nothing else. */
  readonly verify: TokenVerifier;
}

export interface TokenSubject {
  /** Stable, never reused: what other data records as the principal. */
  readonly sub: string;
  readonly username: string;
}

export interface JsonWebKeySet {
  readonly keys: readonly Readonly<Record<string, string>>[];
}

export type TokenIssuerRefusal = 'invalid-credentials' | 'throttled' | 'challenge-required';

/** The identity provider said no (as opposed to: could not be reached). */
export class TokenIssuerError extends Error {
  override name = 'TokenIssuerError';
  constructor(
    readonly reason: TokenIssuerRefusal,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Token lifetime of the local issuer, and Cognito's default for access and id tokens. */
export const TOKEN_LIFETIME_SECONDS = 3600;

/** The scope Cognito puts in access tokens from USER_PASSWORD_AUTH; the local issuer does too. */
export const USER_POOL_ACCESS_SCOPE = 'aws.cognito.signin.user.admin';
