import type { ModuleContext } from '../../platform/module.js';
import { DynamoAuthRepository } from './auth.dynamo.js';
import { authTable } from './auth.resources.js';
import { authRoutes } from './auth.routes.js';
import { AuthService } from './auth.service.js';

/**
 * The auth module's code, behind its definition's `load` (auth.module.ts): the API Lambda loads
 * it on the first request to one of the module's routes, or with the first bearer token to verify.
 */

/** The settings the services read (auth.module.ts parses them). */
interface Settings {
  readonly loginFailureBurst: number;
  readonly loginFailureDecaySeconds: number;
  readonly passwordConcurrency: number;
  readonly clientSigninBurst: number;
  readonly clientSigninRate: number;
}

export const services = (context: ModuleContext<Settings>) => ({
  auth: new AuthService({
    repository: new DynamoAuthRepository(context.table(authTable)),
    tokens: context.ports.tokens,
    throttle: {
      burst: context.settings.loginFailureBurst,
      decaySeconds: context.settings.loginFailureDecaySeconds,
    },
    limits: {
      passwordConcurrency: context.settings.passwordConcurrency,
      clientBurst: context.settings.clientSigninBurst,
      clientPerMinute: context.settings.clientSigninRate,
    },
    clock: context.clock,
    newId: context.newId,
    metrics: context.metrics,
  }),
});

/** In the route table's order (auth.module.ts). */
export const routers = ({ auth }: ReturnType<typeof services>) => [authRoutes(auth)];
