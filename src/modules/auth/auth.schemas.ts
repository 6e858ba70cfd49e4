import { z } from '@hono/zod-openapi';

/*
 * The HTTP shapes of the auth module. Field names follow OAuth 2.0's token response
 * (`access_token`, `token_type`, `expires_in`), as SPEC.md does.
 */

export const TokenRequestSchema = z
  .object({
    username: z.string().min(1).max(128).openapi({ example: 'alice' }),
    password: z.string().min(1).max(256).openapi({ format: 'password', example: 'correct horse' }),
  })
  .openapi('TokenRequest');

export const TokenResponseSchema = z
  .object({
    access_token: z.string().openapi({ description: 'Send as `Authorization: Bearer <token>`.' }),
    id_token: z.string().openapi({ description: 'Who signed in (not accepted as a credential).' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Seconds until both tokens expire.' }),
  })
  .openapi('TokenResponse');

export const JwksSchema = z
  .object({
    keys: z.array(z.record(z.string(), z.string())),
  })
  .openapi('JsonWebKeySet');
