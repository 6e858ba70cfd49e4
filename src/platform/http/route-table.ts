import type { Context, Env, Hono, MiddlewareHandler, Next } from 'hono';
import type { PublicRoute } from './public-route.js';

/**
 * A module's routes as the app must know them before their code is loaded: one line per route,
 * `<METHOD> <path>` (OpenAPI's `{param}` syntax), in the order the module's routers serve them,
 * with `public` when the route is declared `security: []` and `csv` when it is a download (a GET
 * whose 200 is `text/csv` alone, see streamedRoutesOf): `'GET /calendar.ics public'`. `optional`
 * marks a route the routers declare only in some runtimes (auth's JWKS, with the local token
 * issuer alone): where they don't, a request to it with credentials is a 404 (without, a 401, as
 * for any route), and another method a 405 naming the line's.
 */
export type RouteTable = readonly string[];

export interface TableRoute {
  readonly method: string;
  /** As declared: `/events/{eventId}`. */
  readonly path: string;
  /** As Hono serves it: `/events/:eventId`. */
  readonly honoPath: string;
  readonly public: boolean;
  readonly csv: boolean;
  /** Served only where the module's routers declare it (see RouteTable). */
  readonly optional: boolean;
}

const FLAGS = new Set(['public', 'csv', 'optional']);

export function parseRouteTable(table: RouteTable): TableRoute[] {
  return table.map((line) => {
    const [method, path, ...flags] = line.trim().split(/\s+/);
    if (!method || !path?.startsWith('/') || flags.some((flag) => !FLAGS.has(flag))) {
      throw new Error(`route table: "${line}" is not "<METHOD> <path> [public] [csv] [optional]"`);
    }
    return {
      method: method.toUpperCase(),
      path,
      honoPath: path.replaceAll(/\/{(.+?)}/g, '/:$1'),
      public: flags.includes('public'),
      csv: flags.includes('csv'),
      optional: flags.includes('optional'),
    };
  });
}

/**
 * The routes the auth middleware lets through without credentials before a module's code is
 * loaded. Not an `optional` line: where its routers declare it, they are built with the app (the
 * local runtime loads every module's code as it starts) and their documentation makes it public;
 * where they don't (the API Lambda, whose tokens Cognito issues), it is no route, and a request
 * without credentials is refused as anywhere else (401).
 */
export const publicRoutesOfTable = (routes: readonly TableRoute[]): PublicRoute[] =>
  routes
    .filter((route) => route.public && !route.optional)
    .map(({ method, path }) => ({ method, path }));

export const csvRoutesOfTable = (routes: readonly TableRoute[]): PublicRoute[] =>
  routes.filter((route) => route.csv).map(({ method, path }) => ({ method, path }));

/** What this file reads of a router: the Hono entries it serves, in order. */
interface ServedEntries {
  readonly routes: readonly { method: string; path: string; handler: unknown }[];
}

/** One served route of a set of routers: its method, Hono path and handlers, in order. */
interface Served {
  readonly method: string;
  readonly path: string;
  readonly handlers: MiddlewareHandler[];
}

/**
 * What `routers` serve, route by route, in order: each run of a router's Hono entries with the
 * same method and path (a route's middleware, validators and handler) is one route.
 */
export function servedRoutesOf(routers: readonly ServedEntries[]): Served[] {
  const served: Served[] = [];
  for (const router of routers) {
    let last: Served | undefined;
    for (const { method, path, handler } of router.routes) {
      if (last && last.method === method && last.path === path) {
        last.handlers.push(handler as MiddlewareHandler);
      } else {
        last = { method, path, handlers: [handler as MiddlewareHandler] };
        served.push(last);
      }
    }
  }
  return served;
}

/**
 * Which served route answers each table line (an index into `servedRoutesOf(routers)`, or
 * undefined for an `optional` line the routers don't declare), and the differences between the
 * table and what the routers serve (empty: none): every served route in the table's order, every
 * line served but the optional ones.
 */
function alignTable(
  table: readonly TableRoute[],
  served: readonly { method: string; path: string }[],
): { readonly answeredBy: (number | undefined)[]; readonly differences: string[] } {
  const answeredBy: (number | undefined)[] = [];
  const differences: string[] = [];
  let next = 0;
  table.forEach((route, index) => {
    const listed = `${route.method} ${route.honoPath}`;
    const candidate = served[next];
    if (candidate && `${candidate.method} ${candidate.path}` === listed) {
      answeredBy.push(next++);
      return;
    }
    answeredBy.push(undefined);
    if (route.optional) return;
    differences.push(
      `route ${index + 1}: served ${candidate ? `${candidate.method} ${candidate.path}` : '(none)'}, listed ${listed}`,
    );
    if (candidate) next++;
  });
  for (; next < served.length; next++) {
    const extra = served[next];
    differences.push(`served ${extra?.method} ${extra?.path}, listed (none)`);
  }
  return { answeredBy, differences };
}

/** The table's route lines that `routers` don't serve as listed, as differences (empty: none). */
export function routeTableDifferences(
  table: readonly TableRoute[],
  routers: readonly ServedEntries[],
): string[] {
  return alignTable(table, servedRoutesOf(routers)).differences;
}

/**
 * Mounts the table's routes on `app`, each answered by the module's own route once `routers`
 * resolves (the module's code loaded, its routers built; memoise it): the app's router holds the
 * same methods and paths in the same order as if the routers were mounted, so matching, 404 and
 * 405 (Allow) are theirs, before the code is loaded too. A route's handlers run in the request's
 * own context, as Hono runs them: a handler that calls `next()` past its last one goes on to
 * the app's next matching route.
 */
export function mountRouteTable<E extends Env>(
  app: Hono<E>,
  name: string,
  table: readonly TableRoute[],
  routers: () => Promise<readonly ServedEntries[]>,
  onError: (error: Error, c: Context) => Response | Promise<Response>,
): void {
  // Per table line, the handlers of the route that answers it (none: an optional line not served).
  let served: Promise<(readonly MiddlewareHandler[])[]> | undefined;
  const routes = () => {
    served ??= routers().then(
      (built) => {
        const routes = servedRoutesOf(built);
        const { answeredBy, differences } = alignTable(table, routes);
        if (differences.length > 0) {
          throw new Error(
            `the route table of module "${name}" does not match its routers: ${differences.join('; ')}`,
          );
        }
        return answeredBy.map((at) => (at === undefined ? [] : (routes[at]?.handlers ?? [])));
      },
      (error: unknown) => {
        served = undefined;
        throw error;
      },
    );
    return served;
  };
  table.forEach((route, index) => {
    app.on(route.method, route.honoPath, async (c, next) => {
      const handlers = (await routes())[index] ?? [];
      return run(c as unknown as Context, handlers, next, onError);
    });
  });
}

/**
 * Runs `handlers` as Hono's compose does, then `next`: a returned Response becomes `c.res`, and an
 * error thrown by a handler becomes the app's error answer right there (`onError`), so that the
 * middleware around it sees that answer after its `next()` — as a route's idempotency middleware,
 * which stores a 422, does.
 */
async function run(
  c: Context,
  handlers: readonly MiddlewareHandler[],
  next: Next,
  onError: (error: Error, c: Context) => Response | Promise<Response>,
): Promise<Response | undefined> {
  let called = -1;
  const dispatch = async (i: number): Promise<void> => {
    if (i <= called) throw new Error('next() called multiple times');
    called = i;
    const handler = handlers[i];
    if (!handler) {
      await next();
      return;
    }
    let res: unknown;
    let failed = false;
    try {
      res = await handler(c, () => dispatch(i + 1));
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      c.error = error;
      res = await onError(error, c);
      failed = true;
    }
    if (res instanceof Response && (!c.finalized || failed)) c.res = res;
  };
  await dispatch(0);
  return c.finalized ? c.res : undefined;
}
