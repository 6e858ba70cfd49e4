import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
import type { TokenPort } from '../../src/platform/tokens/tokens.js';
import { createContainer } from '../../src/runtime/container.js';
import { localTokenIssuer } from '../../src/runtime/local/token-issuer.js';

/*
 * A module whose code loads on the first request (`load`) declares its routes in a route table:
 * what the app mounts, and what it knows of them (public, CSV download) before the code is
 * loaded. The table must say exactly what the module's routers serve — a route the table lacks
 * would be a 404 in the API Lambda — so it is checked here against the routers themselves,
 * route by route, for every module of the list.
 */

/**
 * Each listed module's routers, built offline as describeApi builds them (no token port: as on
 * AWS, where Cognito issues tokens), or with the local token issuer (the local runtime): a route
 * table's `optional` lines are served in one of the two alone.
 */
function routersOf(module: AnyModule, tokens?: TokenPort): readonly Router<AppEnv>[] {
  const config = loadConfig({ API_KEYS: 'offline', LOG_LEVEL: 'silent' }, modules);
  const container = createContainer({
    config,
    modules,
    secrets: deriveSecrets(Buffer.alloc(32)),
    ports: tokens ? { tokens } : {},
  });
  const code = moduleCode(module);
  if (!code) throw new Error(`module "${module.name}": code not loaded`);
  return code.routers?.(container.servicesOf(module)) ?? [];
}

const key = ({ method, path }: { method: string; path: string }) =>
  `${method.toUpperCase()} ${path}`;

const deferred = modules.filter((module) => module.load);

const dataDir = mkdtempSync(join(tmpdir(), 'roster-route-table-'));
const localIssuer = await localTokenIssuer({ dataDir });
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('route tables', () => {
  it('every module defers its code to a route table', () => {
    expect(deferred.map((module) => module.name).sort()).toEqual(
      modules.map((module) => module.name).sort(),
    );
  });

  describe.each(deferred.map((module) => [module.name, module] as const))('%s', (_, module) => {
    const table = parseRouteTable(Array.isArray(module.routes) ? module.routes : []);
    const offline = routersOf(module);
    const local = routersOf(module, localIssuer);
    const routers = [...offline, ...local];
    const documented = routers.flatMap((router) => router.openAPIRegistry.routes);

    it('lists the routes its routers serve, in their order, on AWS and locally', () => {
      expect(routeTableDifferences(table, offline)).toEqual([]);
      expect(routeTableDifferences(table, local)).toEqual([]);
    });

    it('marks a line optional only if one runtime serves it and the other does not', () => {
      const servedIn = (built: readonly Router<AppEnv>[]) =>
        new Set(built.flatMap((router) => router.openAPIRegistry.routes).map(key));
      const [onAws, locally] = [servedIn(offline), servedIn(local)];
      const sometimes = table.filter((route) => onAws.has(key(route)) !== locally.has(key(route)));
      expect(table.filter((route) => route.optional).map(key)).toEqual(sometimes.map(key));
    });

    it('marks exactly the routes declared public (`security: []`)', () => {
      const declared = documented
        .filter(({ security }) => Array.isArray(security) && security.length === 0)
        .map(key);
      const flagged = table.filter((route) => route.public).map(key);
      expect(flagged.sort()).toEqual([...new Set(declared)].sort());
    });

    it('marks exactly its CSV downloads', () => {
      const declared = local.flatMap(streamedRoutesOf).map(key);
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

  it('lets an optional public line through before the code is loaded only where it is served', () => {
    // Where it is served the routers are built with the app and say it is public themselves.
    expect(
      publicRoutesOfTable(parseRouteTable(['GET /a public', 'GET /b public optional'])),
    ).toEqual([{ method: 'GET', path: '/a' }]);
  });

  it('allows an optional line its routers do not serve, and no other', () => {
    const served = [{ routes: [{ method: 'GET', path: '/a', handler: () => undefined }] }];
    expect(routeTableDifferences(parseRouteTable(['GET /a', 'GET /b optional']), served)).toEqual(
      [],
    );
    expect(routeTableDifferences(parseRouteTable(['GET /a', 'GET /b']), served)).toEqual([
      'route 2: served (none), listed GET /b',
    ]);
    expect(routeTableDifferences(parseRouteTable(['GET /a optional', 'GET /b']), served)).toEqual([
      'route 2: served (none), listed GET /b',
    ]);
  });

  it('names a line that is not `<METHOD> <path> [public] [csv] [optional]`', () => {
    expect(() => parseRouteTable(['GET /a publik'])).toThrow(/"GET \/a publik"/);
    expect(() => parseRouteTable(['GET a'])).toThrow(/"GET a"/);
  });
});
