import * as z from 'zod/mini';
import { strictBody, withMeta } from '../../platform/input.js';

/*
 * The HTTP shapes of the auth module. Field names follow OAuth 2.0's token response
 * (`access_token`, `token_type`, `expires_in`), as docs/spec.md#auth does. The username and password are
 * not user-visible text: they are compared, never shown, so the platform's text rule does not
 * apply (a password may hold any character; a username the users CLI refused cannot sign in).
 */

export const TokenRequestSchema = withMeta(
  strictBody({
    username: withMeta(z.string().check(z.minLength(1), z.maxLength(128)), { example: 'alice' }),
    password: withMeta(z.string().check(z.minLength(1), z.maxLength(256)), {
      format: 'password',
      example: 'correct horse',
    }),
  }),
  { id: 'TokenRequest' },
);

export const TokenResponseSchema = withMeta(
  z.object({
    access_token: withMeta(z.string(), { description: 'Send as `Authorization: Bearer <token>`.' }),
    id_token: withMeta(z.string(), {
      description: 'Who signed in (not accepted as a credential).',
    }),
    token_type: z.literal('Bearer'),
    expires_in: withMeta(z.int(), { description: 'Seconds until both tokens expire.' }),
  }),
  { id: 'TokenResponse' },
);

export const JwksSchema = withMeta(
  z.object({
    keys: z.array(z.record(z.string(), z.string())),
  }),
  { id: 'JsonWebKeySet' },
);
