import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'hono';
import { v7 as uuidv7 } from 'uuid';
import pkg from '../../package.json' with { type: 'json' };
import type { Config } from '../platform/config.js';
import { createDynamoClients, type DynamoClients } from '../platform/dynamo/client.js';
import { createCursorCodec } from '../platform/dynamo/cursor.js';
import { DynamoTable } from '../platform/dynamo/table.js';
import { idempotencyTable, type TableDefinition } from '../platform/dynamo/tables.js';
import { createHttpApp, respondToError } from '../platform/http/app.js';
import type { TokenVerifier } from '../platform/http/auth.js';
import type { AppEnv } from '../platform/http/context.js';
import { redirectCsvToTwins } from '../platform/http/csv.js';
import { idempotency } from '../platform/http/idempotency.js';
import { streamedRoutesOf } from '../platform/http/public-routes.js';
import {
  csvRoutesOfTable,
  mountRouteTable,
  parseRouteTable,
  publicRoutesOfTable,
  type TableRoute,
} from '../platform/http/route-table.js';
import type { Router } from '../platform/http/routes.js';
import { SINGLE_PAGE_APP_HEADERS } from '../platform/http/security-headers.js';
import { mountStaticAssets, staticAssetRoutes } from '../platform/http/static-assets.js';
import { mountSystemRoutes } from '../platform/http/system.routes.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { moduleMetrics } from '../platform/metrics/metrics.js';
import {
  type AnyModule,
  loadModule,
  type ModuleContext,
  type ModuleWith,
  moduleCode,
  type Ports,
} from '../platform/module.js';
import { onFirstUse } from '../platform/on-first-use.js';
import { Outbox, outboxQueue, outboxTable } from '../platform/outbox/outbox.js';
import type { SecretSource, Secrets } from '../platform/secrets.js';

export interface ContainerOptions {
  readonly config: Config;
  /** The modules this container serves (src/modules/index.ts, or a subset in tests). */
  readonly modules: readonly AnyModule[];
  /** The keys: at hand (local runtime, tests), or fetched on first use (Lambda). */
  readonly secrets: Secrets | SecretSource;
  readonly logger?: Logger;
  /** Pre-built clients: the tests pass clients with injected faults here. */
  readonly dynamo?: DynamoClients;
  readonly clock?: () => Date;
  readonly newId?: () => string;
  /** The runtime's adapters (local stand-ins or AWS services); see `Ports`. */
  readonly ports?: Ports;
}

/**
 * The one composition root: config → clients → adapters → services, per module, built on first
 * use. A queue consumer or a task Lambda takes services from here without an HTTP app;
 * `createApi` builds the app from the same container.
 */
export interface Container {
  readonly config: Config;
  readonly logger: Logger;
  readonly dynamo: DynamoClients;
  readonly modules: readonly AnyModule[];
  readonly secrets: SecretSource;
  readonly ports: Ports;
  /** Domain events of every module (platform/outbox). */
  readonly outbox: Outbox;
  /**
   * A module's services, built once. Its code must be at hand (inline, or loaded: `load`, or
   * src/modules/index.ts, which loads every module's as a process starts).
   */
  servicesOf<S>(module: ModuleWith<S>): S;
  /** A module's services, its code loaded first if it is not yet. */
  load<S>(module: ModuleWith<S>): Promise<S>;
  /** The table helper for a table definition (a module's or the platform's). */
  table(definition: TableDefinition): DynamoTable;
}

export function createContainer(options: ContainerOptions): Container {
  const { config, modules } = options;
  const given = options.secrets;
  const secrets: SecretSource = typeof given === 'function' ? given : async () => given;
  const logger = options.logger ?? createLogger(config.logLevel);
  const dynamo =
    options.dynamo ??
    createDynamoClients({ region: config.region, endpoint: config.dynamodbEndpoint });
  // Its key derived when a list first pages: a function that never pages (the gateway
  // authorizer) needs no master secret for it.
  const cursors = onFirstUse(async () => createCursorCodec((await secrets()).key('cursors')));
  const clock = options.clock ?? (() => new Date());
  const newId = options.newId ?? uuidv7;
  const ports = options.ports ?? {};

  const tables = new Map<string, DynamoTable>();
  const table = (definition: TableDefinition): DynamoTable => {
    let found = tables.get(definition.id);
    if (!found) {
      const name = config.tables[definition.id];
      if (!name) throw new Error(`table "${definition.id}" is not declared by any listed module`);
      found = new DynamoTable(name, dynamo.doc, cursors);
      tables.set(definition.id, found);
    }
    return found;
  };

  const outbox = new Outbox({
    table: table(outboxTable),
    queue: () => ports.queues?.queue(outboxQueue),
    clock,
    newId,
    logger: logger.createChild({ persistentKeys: { module: 'outbox' } }),
    retentionDays: config.domainEventRetentionDays,
    catalogue: modules.flatMap((module) => module.domainEvents ?? []),
  });

  const built = new Map<AnyModule, unknown>();
  const building = new Set<AnyModule>();
  const servicesOf = <S>(module: ModuleWith<S>): S => {
    const key = module as AnyModule;
    if (built.has(key)) return built.get(key) as S;
    if (!modules.includes(key)) {
      throw new Error(`module "${module.name}" is not in this container's module list`);
    }
    if (building.has(key)) throw new Error(`modules depend on each other through "${module.name}"`);
    const code = moduleCode(key);
    if (!code) throw new Error(`module "${module.name}": its code is not loaded (load it first)`);
    building.add(key);
    try {
      const context: ModuleContext<unknown> = {
        settings: config.settings[key.name],
        table: (definition) => {
          if (!key.tables.includes(definition)) {
            throw new Error(`module "${key.name}" does not declare table "${definition.id}"`);
          }
          return table(definition);
        },
        logger: logger.createChild({ persistentKeys: { module: key.name } }),
        clock,
        newId,
        secrets,
        servicesOf,
        ports,
        metrics: moduleMetrics(ports.metrics, key.name),
        outbox,
      };
      const services = code.services(context);
      built.set(key, services);
      return services as S;
    } finally {
      building.delete(key);
    }
  };

  const load = async <S>(module: ModuleWith<S>): Promise<S> => {
    await loadModule(module);
    return servicesOf(module);
  };

  return { config, logger, dynamo, modules, secrets, ports, outbox, servicesOf, load, table };
}

export interface ApiOptions {
  /** Keys accepted when `config.apiKeySource` is `local` (resolved by the runtime). */
  readonly apiKeys?: readonly string[];
  /** Serve the web console's built files from this folder at `/console` (local runtime). */
  readonly consoleAssetsDir?: string;
  /**
   * A list's CSV variant (`Accept: text/csv`): streamed as it is read (`stream`, the default), or
   * redirected to the list's `.csv` twin (`redirect`: where answers are buffered, as the API
   * Lambda's are — 6 MB at most — while the twins stream from a function of their own).
   */
  readonly csvVariant?: 'stream' | 'redirect';
  /**
   * `loaded` (the default): every module's code is loaded already, and the app is built whole —
   * its routers, their documentation. `on-first-request` (the API Lambda): a module whose code is
   * not loaded yet is served from its route table, and its code loads on the first request to one
   * of its routes (docs/decisions/lazy-modules.md); its routes are then missing from the app's
   * own OpenAPI records (the Lambda serves the document built when it was bundled).
   */
  readonly moduleCode?: 'loaded' | 'on-first-request';
}

/**
 * The bearer-token verifier a module provides (at most one may), if any. Where the module's code
 * is not loaded yet (the API Lambda), the first token verified loads it.
 */
export function tokenVerifierOf(container: Container): TokenVerifier | undefined {
  const verifiers = container.modules.flatMap((module) => {
    const verifierOf = module.tokenVerifier;
    if (!verifierOf) return [];
    if (moduleCode(module)) return [verifierOf(container.servicesOf(module))];
    const verifier: TokenVerifier = async (token) =>
      verifierOf(await container.load(module))(token);
    return [verifier];
  });
  if (verifiers.length > 1) throw new Error('more than one module provides a token verifier');
  return verifiers[0];
}

/** The HTTP app: platform middleware, system routes, every module's routes, the OpenAPI doc. */
export function createApi(container: Container, options: ApiOptions = {}): Router<AppEnv> {
  const { config, dynamo, logger, modules } = container;
  const consoleDir = options.consoleAssetsDir;

  // A module with a route table is mounted from it (its routes answered by its code, loaded on
  // the first request that reaches one where it is not loaded yet); one with inline routes, by
  // its routers. Both in the modules' order, which is the order routes are matched in.
  const tables = new Map<AnyModule, TableRoute[]>();
  for (const module of modules) {
    if (options.moduleCode !== 'on-first-request' && !moduleCode(module)) {
      throw new Error(`module "${module.name}": its code is not loaded (load it first)`);
    }
    if (Array.isArray(module.routes)) tables.set(module, parseRouteTable(module.routes));
  }
  const tableRoutes = [...tables.values()];

  const app = createHttpApp({
    logger,
    corsOrigins: config.corsOrigins,
    auth: {
      apiKeySource: config.apiKeySource,
      apiKeys: options.apiKeys ?? config.apiKeys ?? [],
      verifyToken: tokenVerifierOf(container),
    },
    idempotency: idempotency({
      client: dynamo.client,
      tableName: container.table(idempotencyTable).name,
      inFlightSeconds: config.idempotencyInFlightSeconds,
    }),
    publicRoutes: [
      ...(consoleDir ? staticAssetRoutes(CONSOLE_PATH) : []),
      ...tableRoutes.flatMap(publicRoutesOfTable),
    ],
  });

  // Built now where the module's code is at hand (their documentation goes into the app's);
  // otherwise by the first request to one of its routes.
  const routersOf = (module: AnyModule): readonly Router<AppEnv>[] =>
    moduleCode(module)?.routers?.(container.servicesOf(module)) ?? [];
  const mounted = modules.map((module) => ({
    module,
    table: tables.get(module),
    routers: moduleCode(module) ? routersOf(module) : undefined,
  }));
  if (options.csvVariant === 'redirect') {
    redirectCsvToTwins(app, [
      ...mounted.flatMap(({ table, routers }) =>
        table ? [] : (routers ?? []).flatMap(streamedRoutesOf),
      ),
      ...tableRoutes.flatMap(csvRoutesOfTable),
    ]);
  }
  for (const { module, table, routers } of mounted) {
    if (!table) {
      for (const router of routers ?? []) app.route('/', router);
      continue;
    }
    for (const router of routers ?? []) app.openAPIRegistry.merge(router.openAPIRegistry);
    mountRouteTable(
      app,
      module.name,
      table,
      async () => {
        if (routers) return routers;
        await container.load(module);
        return routersOf(module);
      },
      (error, c) => respondToError(error, c as Context<AppEnv>, logger),
    );
  }

  mountSystemRoutes(app, {
    info: { name: 'Roster', version: pkg.version, description: pkg.description },
    docsAssetsDir: config.docsAssetsDir,
    tags: modules.flatMap((module) => module.tags ?? []),
    domainEvents: container.outbox.catalogue,
    // Read only by the document's generator, which a Lambda never runs (its document is built
    // when it is bundled): a module whose code is not loaded has none here.
    domainEventSchemas: () =>
      Object.assign(
        {},
        ...modules.map((module) => moduleCode(module)?.domainEventSchemas?.() ?? {}),
      ),
    // One cheap GetItem: proves the endpoint answers and the table exists. The route gives it up
    // at its deadline whatever the SDK is doing (retries, a socket wait); the signal stops it.
    checkHealth: async (signal) => {
      await dynamo.client.send(
        new GetItemCommand({
          TableName: container.table(idempotencyTable).name,
          Key: { id: { S: 'health-check' } },
        }),
        { abortSignal: signal },
      );
    },
  });
  if (consoleDir) {
    mountStaticAssets(app, {
      prefix: CONSOLE_PATH,
      dir: consoleDir,
      headers: SINGLE_PAGE_APP_HEADERS,
      missingHint: 'Build the console with `npm run console:build`.',
    });
  }
  return app;
}

/** Where the local runtime serves the web console (console/vite.config.ts builds for it). */
export const CONSOLE_PATH = '/console';
