import { z } from 'zod';
import { S, type TableDefinition } from '../../platform/dynamo/tables.js';
import { defineModule } from '../../platform/module.js';
import { DynamoAuthRepository } from './auth.dynamo.js';
import { authRoutes } from './auth.routes.js';
import { AuthService } from './auth.service.js';

/**
 * auth: the local issuer's users and the per-username sign-in throttle (keys in auth.dynamo.ts).
 * - gsi1  users by username   GSI1PK=USERS, GSI1SK=<username>
 */
export const authTable = {
  id: 'auth',
  partitionKey: S('PK'),
  globalIndexes: [{ indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') }],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDefinition;

const settings = z.object({
  /** Failed sign-ins a username may have in a row before it is throttled (429). */
  loginFailureBurst: z.coerce.number().int().min(1).max(1000).optional().default(5),
  /** Seconds one failed sign-in counts: the allowance comes back one attempt per this. */
  loginFailureDecaySeconds: z.coerce.number().int().min(1).max(86_400).optional().default(60),
});

/** Sign-in and tokens (seed 002): Cognito on AWS, the local issuer and its users locally. */
export const authModule = defineModule({
  name: 'auth',
  tables: [authTable],
  settings,
  services: (context) => ({
    auth: new AuthService({
      repository: new DynamoAuthRepository(context.table(authTable)),
      tokens: context.ports.tokens,
      throttle: {
        burst: context.settings.loginFailureBurst,
        decaySeconds: context.settings.loginFailureDecaySeconds,
      },
      clock: context.clock,
      newId: context.newId,
      metrics: context.metrics,
    }),
  }),
  routes: ({ auth }) => [authRoutes(auth)],
  tags: [{ name: 'auth', description: 'Sign-in: username and password → bearer tokens' }],
  tokenVerifier: ({ auth }) => auth.verifyToken,
});
