import { z } from 'zod';
import { strictBody } from '../../platform/input.js';

/*
 * The HTTP shapes of the auth module. Field names follow OAuth 2.0's token response
 * (`access_token`, `token_type`, `expires_in`), as docs/spec.md#auth does. The username and password are
 * not user-visible text: they are compared, never shown, so the platform's text rule does not
 * apply (a password may hold any character; a username the users CLI refused cannot sign in).
 */

export const TokenRequestSchema = strictBody({
  username: z.string().min(1).max(128).meta({ example: 'alice' }),
  password: z.string().min(1).max(256).meta({ format: 'password', example: 'correct horse' }),
}).meta({ id: 'TokenRequest' });

export const TokenResponseSchema = z
  .object({
    access_token: z.string().meta({ description: 'Send as `Authorization: Bearer <token>`.' }),
    id_token: z.string().meta({ description: 'Who signed in (not accepted as a credential).' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().meta({ description: 'Seconds until both tokens expire.' }),
  })
  .meta({ id: 'TokenResponse' });

export const JwksSchema = z
  .object({
    keys: z.array(z.record(z.string(), z.string())),
  })
  .meta({ id: 'JsonWebKeySet' });
