import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import {
  FetchError,
  JwtBaseError,
  JwtExpiredError,
  JwtInvalidSignatureAlgorithmError,
  JwtNotBeforeError,
} from 'aws-jwt-verify/error';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import { AppError, unavailable } from '../errors.js';
import { invalidTokenChallenge, type TokenVerifier } from '../http/auth.js';
import type { Caller } from '../http/context.js';
import type { JsonWebKeySet } from './tokens.js';

/*
 * Bearer-token verification with aws-jwt-verify, for both kinds of issuer. Only access tokens of
 * the configured app client pass: RS256 signature by a key of the issuer's JWKS (picked by `kid`),
 * `iss`, `token_use: access`, `client_id`, `exp` and `nbf`. A token that fails any check is a 401
 * problem with an RFC 6750 challenge; a JWKS that cannot be fetched is a 503 (it says nothing
 * about the token).
 */

/** A 401 for a presented bearer token that is not acceptable. */
export function invalidToken(detail: string, cause?: unknown): AppError {
  return new AppError('unauthorized', 'AUTH.TOKEN_INVALID', 'Unauthorized', {
    detail,
    headers: { 'www-authenticate': invalidTokenChallenge(detail) },
    cause,
  });
}

/**
 * Checks every issuer's tokens get on top of the library's: RS256 only, whatever the key's own
 * `alg` says; and an `exp` (the library checks `exp` only when there is one, and a token that
 * never expires is not one we issue).
 */
function commonChecks({ header, payload }: { header: JwtHeader; payload: JwtPayload }): void {
  if (header.alg !== 'RS256') {
    throw new JwtInvalidSignatureAlgorithmError('only RS256 is accepted', header.alg, 'RS256');
  }
  if (typeof payload.exp !== 'number') throw new JwtInvalidClaimValue('exp', payload.exp, 'a time');
}

function callerOf(payload: JwtPayload): Caller {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0) throw invalidToken('The token has no subject.');
  return { id: `user:${sub}`, via: 'jwt', subject: sub };
}

async function verifying(check: () => Promise<JwtPayload> | JwtPayload): Promise<Caller> {
  let payload: JwtPayload;
  try {
    payload = await check();
  } catch (error) {
    if (error instanceof FetchError) {
      throw unavailable(
        'AUTH.JWKS_UNAVAILABLE',
        'The token issuer’s keys could not be fetched; retry later.',
        1,
        error,
      );
    }
    if (error instanceof JwtExpiredError) throw invalidToken('The token has expired.', error);
    if (error instanceof JwtNotBeforeError)
      throw invalidToken('The token is not valid yet.', error);
    if (error instanceof JwtBaseError) throw invalidToken('The token is not valid.', error);
    throw error;
  }
  return callerOf(payload);
}

export interface UserPoolVerifierOptions {
  readonly userPoolId: string;
  readonly clientId: string;
  /** The pool's JWKS when already known (tests, or a pre-fetched copy); fetched otherwise. */
  readonly jwks?: JsonWebKeySet;
}

/** Access tokens of a Cognito user pool's app client; the JWKS is fetched over HTTPS and cached. */
export function userPoolVerifier(options: UserPoolVerifierOptions): TokenVerifier {
  const verifier = CognitoJwtVerifier.create({
    userPoolId: options.userPoolId,
    tokenUse: 'access',
    clientId: options.clientId,
    customJwtCheck: commonChecks,
  });
  if (options.jwks) verifier.cacheJwks(options.jwks as Parameters<typeof verifier.cacheJwks>[0]);
  return (token) => verifying(() => verifier.verify(token));
}

export interface StaticKeysVerifierOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly jwks: JsonWebKeySet;
}

/**
 * Access tokens of an issuer whose keys are known here (the local issuer): verified against
 * `jwks` only, never fetched, so an unknown `kid` is a 401 rather than a network call.
 */
export function staticKeysVerifier(options: StaticKeysVerifierOptions): TokenVerifier {
  const verifier = JwtVerifier.create({
    issuer: options.issuer,
    audience: null,
    // Never fetched (verifySync only reads the cache); required when the issuer is no URL.
    jwksUri: 'https://jwks.invalid/.well-known/jwks.json',
    customJwtCheck: (props) => {
      commonChecks(props);
      const { payload } = props;
      if (payload.token_use !== 'access') {
        throw new JwtInvalidClaimValue('token_use', payload.token_use, 'access');
      }
      if (payload.client_id !== options.clientId) {
        throw new JwtInvalidClaimValue('client_id', payload.client_id, options.clientId);
      }
    },
  });
  verifier.cacheJwks(options.jwks as Parameters<typeof verifier.cacheJwks>[0]);
  return (token) => verifying(() => verifier.verifySync(token));
}

/** A claim other than the standard ones has the wrong value (a JwtBaseError, so a 401). */
class JwtInvalidClaimValue extends JwtBaseError {
  constructor(claim: string, actual: unknown, expected: string) {
    super(`${claim} is ${JSON.stringify(actual)}, expected ${expected}`);
  }
}
