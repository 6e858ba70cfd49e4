import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';
import type { AppEnv, Caller } from './context.js';
import type { RouteConfig } from './routes.js';

/**
 * Verifies a bearer token; resolves to the caller, or throws an `unauthorized` AppError for a
 * token that is not valid (any other error means the verifier could not decide: a 5xx).
 */
export type TokenVerifier = (token: string) => Promise<Caller>;

export interface AuthOptions {
  /** `local`: compare `x-api-key` with `apiKeys`; `api-gateway`: API Gateway checked the key. */
  readonly apiKeySource: 'local' | 'api-gateway';
  readonly apiKeys: readonly string[];
  readonly verifyToken?: TokenVerifier | undefined;
  readonly isPublic: (method: string, path: string) => boolean;
}

const unauthorized = (detail: string) =>
  new AppError('unauthorized', 'AUTH.UNAUTHORIZED', 'Unauthorized', {
    detail,
    headers: { 'www-authenticate': 'Bearer, ApiKey header="x-api-key"' },
  });

/** The RFC 6750 challenge for a bearer token that was presented and refused. */
export function invalidTokenChallenge(description: string): string {
  return `Bearer error="invalid_token", error_description="${description.replaceAll('"', "'")}"`;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Runs before routing, so an unknown path answers 401 like a known one and reveals nothing.
 * Either credential is enough: a valid bearer token (tried first, so a route that needs a JWT
 * sees the token's caller even when a key came along) or a valid API key. A credential that
 * can't be used — a `Basic` header, an expired token — does not spoil a valid other one; with no
 * valid credential at all, the answer explains the one that was tried.
 *
 * Keys are compared as SHA-256 digests with `timingSafeEqual`, against every configured key
 * without an early exit, so the time taken says nothing about how much of a key matched.
 */
export function authenticate(options: AuthOptions): MiddlewareHandler<AppEnv> {
  const keyDigests = options.apiKeys.map((key) => ({ digest: digest(key), id: keyId(key) }));

  const matchLocalKey = (presented: string): Caller | undefined => {
    const candidate = digest(presented);
    let match: Caller | undefined;
    for (const key of keyDigests) {
      if (timingSafeEqual(candidate, key.digest)) match = { id: key.id, via: 'api-key' };
    }
    return match;
  };

  const keyCaller = (c: Parameters<MiddlewareHandler<AppEnv>>[0]): Caller | AppError => {
    if (options.apiKeySource === 'api-gateway') {
      // API Gateway has already rejected requests without a valid key for this usage plan.
      const event = c.env?.event as { requestContext?: { identity?: { apiKeyId?: string } } };
      const apiKeyId = event?.requestContext?.identity?.apiKeyId;
      if (!apiKeyId) return unauthorized('An API key (x-api-key) or a bearer token is required.');
      return { id: `key:${apiKeyId}`, via: 'api-key' };
    }
    const presented = c.req.header('x-api-key');
    if (!presented) return unauthorized('An API key (x-api-key) or a bearer token is required.');
    return matchLocalKey(presented) ?? unauthorized('The API key is not valid.');
  };

  return async (c, next) => {
    if (c.req.method === 'OPTIONS' || options.isPublic(c.req.method, c.req.path)) {
      c.set('caller', undefined);
      return next();
    }
    let bearerProblem: AppError | undefined;
    const authorization = c.req.header('authorization');
    if (authorization !== undefined) {
      const [scheme, token] = authorization.split(' ', 2);
      if (scheme?.toLowerCase() !== 'bearer' || !token) {
        bearerProblem = unauthorized('The Authorization header must be "Bearer <token>".');
      } else if (!options.verifyToken) {
        bearerProblem = unauthorized('Bearer tokens are not accepted here.');
      } else {
        try {
          c.set('caller', await options.verifyToken(token));
          return next();
        } catch (error) {
          if (!(error instanceof AppError) || error.kind !== 'unauthorized') throw error;
          bearerProblem = error;
        }
      }
    }
    const caller = keyCaller(c);
    if (caller instanceof AppError) {
      // No usable key: say what was wrong with the token, if one was the caller's attempt.
      const keyGiven = c.req.header('x-api-key') !== undefined;
      throw keyGiven || !bearerProblem ? caller : bearerProblem;
    }
    c.set('caller', caller);
    return next();
  };
}

/** A short, non-reversible name for a key, usable in logs and as an idempotency scope. */
export function keyId(key: string): string {
  return `key:${digest(key).toString('hex').slice(0, 16)}`;
}

/** The OpenAPI security of a route that takes a bearer token and nothing else. */
export const BEARER_ONLY = [{ Bearer: [] as string[] }];

/**
 * Route middleware: the caller must have come with a valid bearer token; an API key alone is not
 * enough (the auth middleware has already turned away an invalid token that came alone).
 */
export const requireBearerToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get('caller')?.via === 'jwt') return next();
  const tokenPresented = c.req.header('authorization') !== undefined;
  throw new AppError('unauthorized', 'AUTH.TOKEN_REQUIRED', 'Unauthorized', {
    detail:
      'This route needs a bearer access token (Authorization: Bearer <token>); an API key is not enough.',
    headers: {
      'www-authenticate': tokenPresented
        ? invalidTokenChallenge('a valid access token is required')
        : 'Bearer',
    },
  });
};

/**
 * A route that only a bearer-token caller may use: documents `security: [{ Bearer: [] }]` and
 * runs `requireBearerToken` before the route's other middleware. The CDK stack reads the same
 * declaration (`bearerOnlyRoutesOf`) to put a token authorizer on the gateway method.
 */
export function withBearerToken<R extends RouteConfig>(
  route: R,
): R & { security: typeof BEARER_ONLY; middleware: MiddlewareHandler<AppEnv>[] } {
  const existing = route.middleware;
  return {
    ...route,
    security: BEARER_ONLY,
    middleware: [
      requireBearerToken,
      ...((Array.isArray(existing)
        ? existing
        : existing
          ? [existing]
          : []) as MiddlewareHandler<AppEnv>[]),
    ],
  };
}
