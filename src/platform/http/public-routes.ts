import type { AppEnv } from './context.js';
import { DOCS_PUBLIC_ROUTES } from './docs.js';
import type { PublicRoute } from './public-route.js';
import type { RouteConfig, Router } from './routes.js';

export type { PublicRoute };

/**
 * The routes a router declares bearer-only (`security: [{ Bearer: [] }]`, see withBearerToken):
 * the auth middleware's key is not enough there, and the CDK stack gives them a token authorizer.
 */
export function bearerOnlyRoutesOf(router: Router<AppEnv>): PublicRoute[] {
  return routesWhere(router, ({ security }) => {
    const only = Array.isArray(security) && security.length === 1 ? security[0] : undefined;
    return only !== undefined && Object.keys(only).join() === 'Bearer';
  });
}

/**
 * The public routes a router declares: its OpenAPI operations with `security: []`. The same
 * declaration documents the route as public, lets it through the auth middleware and (in the CDK
 * stack) makes its API Gateway method key-free, so the three cannot disagree.
 */
function publicRoutesOf(router: Router<AppEnv>): PublicRoute[] {
  return routesWhere(router, ({ security }) => Array.isArray(security) && security.length === 0);
}

/** What the app serves to anyone: the routes it declares public, and the documentation pages. */
export function appPublicRoutes(app: Router<AppEnv>): PublicRoute[] {
  return [...publicRoutesOf(app), ...DOCS_PUBLIC_ROUTES];
}

/**
 * The routes a router declares as downloads and nothing else: a GET whose 200 is `text/csv` alone
 * (the `.csv` twins of the lists). The CDK stack sends them to a function that streams its answer
 * (the exports function), which serves these alone; every other route stays with the API
 * function, whose answer Lambda buffers (6 MB at most).
 */
export function streamedRoutesOf(router: Router<AppEnv>): PublicRoute[] {
  return routesWhere(router, ({ method, responses }) => {
    const types = Object.keys((responses[200] as { content?: object } | undefined)?.content ?? {});
    return method === 'get' && types.length === 1 && types[0] === 'text/csv';
  });
}

/** The OpenAPI operations of `router` that pass `test`. */
function routesWhere(router: Router<AppEnv>, test: (route: RouteConfig) => boolean): PublicRoute[] {
  return router.openAPIRegistry.routes
    .filter(test)
    .map(({ method, path }) => ({ method: method.toUpperCase(), path }));
}

/**
 * A predicate for the auth middleware: is `method path` one of `routes` (HEAD as GET)? `{name}`
 * matches one path segment, a greedy `{name+}` one or more (as in API Gateway).
 */
export function publicRouteMatcher(
  routes: readonly PublicRoute[],
): (method: string, path: string) => boolean {
  const exact = new Set<string>();
  const patterns: { method: string; pattern: RegExp }[] = [];
  for (const route of routes) {
    if (route.path.includes('{')) {
      const source = route.path
        .split('/')
        .map((part) =>
          /^\{[^}]+\+\}$/.test(part)
            ? '.+'
            : /^\{[^}]+\}$/.test(part)
              ? '[^/]+'
              : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/');
      patterns.push({ method: route.method, pattern: new RegExp(`^${source}$`) });
    } else {
      exact.add(`${route.method} ${route.path}`);
    }
  }
  return (method, path) => {
    const m = method === 'HEAD' ? 'GET' : method;
    return (
      exact.has(`${m} ${path}`) || patterns.some((p) => p.method === m && p.pattern.test(path))
    );
  };
}
