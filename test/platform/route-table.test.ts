import { describe, expect, it } from 'vitest';
import { modules } from '../../src/modules/index.js';
import { loadConfig } from '../../src/platform/config.js';
import type { AppEnv } from '../../src/platform/http/context.js';
import { bearerOnlyRoutesOf, streamedRoutesOf } from '../../src/platform/http/public-routes.js';
import {
  csvRoutesOfTable,
  parseRouteTable,
  publicRoutesOfTable,
  routeTableDifferences,
} from '../../src/platform/http/route-table.js';
import type { Router } from '../../src/platform/http/routes.js';
import { type AnyModule, moduleCode } from '../../src/platform/module.js';
import { deriveSecrets } from '../../src/platform/secrets.js';
import { createContainer } from '../../src/runtime/container.js';

/*
 * A module whose code loads on the first request (`load`) declares its routes in a route table:
 * what the app mounts, and what it knows of them (public, CSV download) before the code is
 * loaded. The table must say exactly what the module's routers serve — a route the table lacks
 * would be a 404 in the API Lambda — so it is checked here against the routers themselves,
 * route by route, for every module of the list.
 */

/** Each listed module's routers, built offline as describeApi builds them. */
function routersOf(module: AnyModule): readonly Router<AppEnv>[] {
  const config = loadConfig({ API_KEYS: 'offline', LOG_LEVEL: 'silent' }, modules);
  const container = createContainer({
    config,
    modules,
    secrets: deriveSecrets(Buffer.alloc(32)),
  });
  const code = moduleCode(module);
  if (!code) throw new Error(`module "${module.name}": code not loaded`);
  return code.routers?.(container.servicesOf(module)) ?? [];
}

const key = ({ method, path }: { method: string; path: string }) =>
  `${method.toUpperCase()} ${path}`;

const deferred = modules.filter((module) => module.load);

describe('route tables', () => {
  it('every module but auth defers its code to a route table', () => {
    // auth stays inline: its JWKS route is served only with the local token issuer, and its
    // token verifier is needed by the first request that carries a bearer token anyway.
    expect(deferred.map((module) => module.name).sort()).toEqual(
      modules
        .map((module) => module.name)
        .filter((name) => name !== 'auth')
        .sort(),
    );
  });

  describe.each(deferred.map((module) => [module.name, module] as const))('%s', (_, module) => {
    const table = parseRouteTable(Array.isArray(module.routes) ? module.routes : []);
    const routers = routersOf(module);
    const documented = routers.flatMap((router) => router.openAPIRegistry.routes);

    it('lists the routes its routers serve, in their order', () => {
      expect(routeTableDifferences(table, routers)).toEqual([]);
    });

    it('marks exactly the routes declared public (`security: []`)', () => {
      const declared = documented
        .filter(({ security }) => Array.isArray(security) && security.length === 0)
        .map(key);
      expect(publicRoutesOfTable(table).map(key).sort()).toEqual(declared.sort());
    });

    it('marks exactly its CSV downloads', () => {
      const declared = routers.flatMap(streamedRoutesOf).map(key);
      expect(csvRoutesOfTable(table).map(key).sort()).toEqual(declared.sort());
    });

    it('names each route by its documented path (the gateway and the docs use it)', () => {
      const paths = new Set(documented.map(key));
      const undocumented = table.map(key).filter((route) => !paths.has(route));
      expect(undocumented).toEqual([]);
    });

    it('has its bearer-only routes among the listed ones', () => {
      const listed = new Set(table.map(key));
      const bearerOnly = routers.flatMap(bearerOnlyRoutesOf).map(key);
      expect(bearerOnly.filter((route) => !listed.has(route))).toEqual([]);
    });
  });

  it('names a line that is not `<METHOD> <path> [public] [csv]`', () => {
    expect(() => parseRouteTable(['GET /a publik'])).toThrow(/"GET \/a publik"/);
    expect(() => parseRouteTable(['GET a'])).toThrow(/"GET a"/);
  });
});
