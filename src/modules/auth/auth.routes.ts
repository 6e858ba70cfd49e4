import { invalidRequest } from '../../platform/errors.js';
import { clientAddress } from '../../platform/http/client-address.js';
import {
  createRouter,
  jsonBody,
  jsonContent,
  problemResponses,
} from '../../platform/http/openapi.js';
import { createRoute } from '../../platform/http/routes.js';
import { JwksSchema, TokenRequestSchema, TokenResponseSchema } from './auth.schemas.js';
import type { AuthService } from './auth.service.js';

const tags = ['auth'];

const tokenRoute = createRoute({
  method: 'post',
  path: '/auth/token',
  tags,
  summary: 'Sign in: username and password → access and id tokens',
  description:
    'Public. A wrong password and an unknown username get the same 401. Repeated failures for one username are throttled (429 with Retry-After); each failure stops counting after a while, so a username is never locked for good. Attempts from one address are limited too (429 with Retry-After), and when too many passwords are being checked at once the answer is 503 with Retry-After.',
  security: [],
  request: { body: jsonBody(TokenRequestSchema) },
  responses: {
    200: jsonContent(TokenResponseSchema, 'Signed in'),
    ...problemResponses(400, 401, 403, 413, 415, 429, 503),
  },
});

const jwksRoute = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  tags,
  summary: 'The local issuer’s public keys (JWKS)',
  description: 'Public; served only where the app issues its own tokens (the local runtime).',
  security: [],
  responses: { 200: jsonContent(JwksSchema, 'The keys tokens are signed with') },
});

/** `POST /auth/token`, and the JWKS where the local issuer is active. */
export function authRoutes(service: AuthService) {
  // docs/spec.md#auth: a user error is a 400, validation included.
  const app = createRouter({ invalid: (errors) => invalidRequest(errors) });

  app.openapi(tokenRoute, async (c) => {
    const { username, password } = c.req.valid('json');
    const tokens = await service.signIn(username, password, clientAddress(c));
    // RFC 6749 §5.1: responses carrying tokens are not to be cached.
    c.header('cache-control', 'no-store');
    c.header('pragma', 'no-cache');
    return c.json(
      {
        access_token: tokens.accessToken,
        id_token: tokens.idToken,
        token_type: 'Bearer' as const,
        expires_in: tokens.expiresIn,
      },
      200,
    );
  });

  const jwks = service.jwks();
  if (jwks) {
    app.openapi(jwksRoute, (c) => {
      c.header('cache-control', 'public, max-age=300');
      return c.json({ keys: [...jwks.keys] }, 200);
    });
  }
  return app;
}
