import { loadConfig } from '../platform/config.js';
import type { AppEnv } from '../platform/http/context.js';
import {
  appPublicRoutes,
  bearerOnlyRoutesOf,
  type PublicRoute,
} from '../platform/http/public-routes.js';
import type { Router } from '../platform/http/routes.js';
import type { AnyModule } from '../platform/module.js';
import { deriveSecrets } from '../platform/secrets.js';
import { createApi, createContainer } from './container.js';

export interface ApiDescription {
  /** Every route anyone may call, as the auth middleware sees them. */
  readonly publicRoutes: readonly PublicRoute[];
  /** Routes that take a bearer token and no API key (declared with `withBearerToken`). */
  readonly bearerOnlyRoutes: readonly PublicRoute[];
  /** The app itself, built offline (no request is ever sent to it or by it). */
  readonly app: Router<AppEnv>;
}

/**
 * The HTTP app of `modules` built offline with placeholder configuration, to read what it
 * declares: the CDK stack makes exactly these routes key-free at the gateway, so the gateway and
 * the app cannot disagree about what is public. Building it sends nothing anywhere: services are
 * constructed, never called.
 */
export function describeApi(modules: readonly AnyModule[]): ApiDescription {
  const config = loadConfig({ API_KEYS: 'offline', LOG_LEVEL: 'silent' }, modules);
  const container = createContainer({
    config,
    modules,
    secrets: deriveSecrets(Buffer.alloc(32)),
  });
  const app = createApi(container);
  return {
    app,
    publicRoutes: appPublicRoutes(app),
    bearerOnlyRoutes: bearerOnlyRoutesOf(app),
  };
}
