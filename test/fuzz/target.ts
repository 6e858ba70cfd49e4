import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { authModule } from '../../src/modules/auth/auth.module.js';
import { modules } from '../../src/modules/index.js';
import { allTables, loadConfig } from '../../src/platform/config.js';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { ensureTables, namedTables } from '../../src/platform/dynamo/provision.js';
import { idempotencyTable } from '../../src/platform/dynamo/tables.js';
import type { AppEnv } from '../../src/platform/http/context.js';
import { SWAGGER_UI_FILES } from '../../src/platform/http/docs.js';
import type { Router } from '../../src/platform/http/routes.js';
import { createLogger } from '../../src/platform/logger.js';
import { deriveSecrets } from '../../src/platform/secrets.js';
import { CONSOLE_PATH, createApi, createContainer } from '../../src/runtime/container.js';
import { localAdapters } from '../../src/runtime/local/adapters.js';
import { localTokenPort } from '../../src/runtime/local/token-issuer.js';
import type { FuzzTarget, OpenApiDocument } from './fuzzer.js';

const API_KEY = 'fuzz-key-0123456789';

export interface FuzzApp extends FuzzTarget {
  readonly document: OpenApiDocument;
  close(): Promise<void>;
}

/** Written into the console's folder as a dot file: no answer may ever contain it. */
const PLANTED = `planted-${randomBytes(8).toString('hex')}`;

/**
 * Every module's app on a DynamoDB endpoint, with fresh tables and a little data to aim at: the
 * ids requests use for path parameters come from what was created here. The console is served
 * from a small build of its own, beside a planted `.env`.
 */
export async function createFuzzApp(endpoint: string): Promise<FuzzApp> {
  const config = loadConfig(
    {
      TABLE_PREFIX: `fuzz${randomBytes(4).toString('hex')}`,
      DYNAMODB_ENDPOINT: endpoint,
      API_KEYS: API_KEY,
      LOG_LEVEL: 'silent',
    },
    modules,
  );
  const dynamo = createDynamoClients({ region: config.region, endpoint });
  const tables = allTables(modules);
  await ensureTables(dynamo.client, namedTables(tables, config.tables));
  // The local adapters, as the local runtime has them (a workflow started by a request runs).
  const adapters = localAdapters({
    modules,
    logger: createLogger('silent'),
    container: () => container,
  });
  // The local token issuer, with its key in a scratch directory.
  const keyDir = await mkdtemp(join(tmpdir(), 'roster-fuzz-'));
  const tokens = await localTokenPort(config, keyDir);
  const consoleDir = await consoleBuild(keyDir);
  const container = createContainer({
    config,
    modules,
    secrets: deriveSecrets(randomBytes(32)),
    dynamo,
    ports: { ...adapters.ports, tokens },
  });
  const app = createApi(container, { consoleAssetsDir: consoleDir });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status >= 300)
      throw new Error(`seeding ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const ids = await seedData(call);
  // A user with a token, for the routes that take a bearer token only.
  await container.servicesOf(authModule).auth.addUser('fuzzer', 'Correct-Horse-Battery-9');
  const signedIn = await call('POST', '/auth/token', {
    username: 'fuzzer',
    password: 'Correct-Horse-Battery-9',
  });

  // What a 4xx must leave alone: every module table. Left out on purpose: the idempotency table
  // (remembering an answer, 4xx ones too, is its job) and the sign-in throttle's records (a
  // failed sign-in must count against its username: that is how guessing is slowed down).
  const watched = tables
    .filter((t) => t.id !== idempotencyTable.id)
    .map((t) => config.tables[t.id] ?? '');
  const snapshot = async () => {
    // What a request started in the background (a workflow) lands first.
    await adapters.idle();
    const parts: string[] = [];
    for (const table of watched) {
      let start: Record<string, unknown> | undefined;
      const items: string[] = [];
      do {
        const page = await dynamo.doc.send(
          new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
        );
        for (const item of page.Items ?? []) {
          if (String(item.PK).startsWith('LOGIN#')) continue;
          items.push(JSON.stringify(item, sortedKeys));
        }
        start = page.LastEvaluatedKey;
      } while (start);
      parts.push(`${table}:${items.sort().join('\n')}`);
    }
    return parts.join('\n\n');
  };

  const document = (await (await app.request('/openapi.json')).json()) as OpenApiDocument;
  return {
    document,
    ids,
    apiKey: API_KEY,
    bearerToken: String(signedIn.access_token),
    servedPaths: await servedPaths(app, document, consoleDir),
    secrets: [PLANTED],
    snapshot,
    request: async (path, init) => app.request(path, init),
    close: async () => {
      await adapters.stop();
      dynamo.client.destroy();
      await rm(keyDir, { recursive: true, force: true });
    },
  };
}

/** A console build in miniature: an index, a config, content-hashed assets, a planted dot file. */
async function consoleBuild(parent: string): Promise<string> {
  const dir = join(parent, 'console');
  await mkdir(join(dir, 'assets'), { recursive: true });
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>');
  await writeFile(join(dir, 'config.json'), '{"apiUrl":""}');
  await writeFile(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(join(dir, 'assets', 'index-3f2a9c.js'), 'console.log("console");');
  await writeFile(join(dir, 'assets', 'index-3f2a9c.css'), 'body{margin:0}');
  await writeFile(join(dir, '.env'), `SECRET=${PLANTED}`);
  return dir;
}

/**
 * The GET paths the app serves outside the OpenAPI document, read from its own routes: each
 * route as it is, or filled from what it serves (the docs' asset list, the console's files). A
 * route this does not know how to fill fails the run, so a new one can't go unfuzzed.
 */
async function servedPaths(
  app: Router<AppEnv>,
  document: OpenApiDocument,
  consoleDir: string,
): Promise<string[]> {
  const documented = new Set(
    Object.keys(document.paths).map((path) => path.replace(/\{([^}]+)\}/g, ':$1')),
  );
  const consoleFiles = (await readdir(consoleDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => relative(consoleDir, join(entry.parentPath, entry.name)));
  const fillers: Record<string, () => string[]> = {
    '/docs/assets/:name': () => SWAGGER_UI_FILES.map((name) => `/docs/assets/${name}`),
    [`${CONSOLE_PATH}/*`]: () => [
      `${CONSOLE_PATH}/`,
      `${CONSOLE_PATH}/events/tech-conf-2024`,
      ...consoleFiles.map((file) => `${CONSOLE_PATH}/${file}`),
    ],
  };
  const paths = new Set<string>();
  for (const route of app.routes) {
    if (route.method !== 'GET' || documented.has(route.path)) continue;
    if (!/[:*]/.test(route.path)) {
      paths.add(route.path);
      continue;
    }
    const fill = Object.hasOwn(fillers, route.path) ? fillers[route.path] : undefined;
    if (!fill) throw new Error(`the fuzzer has no paths for the served route GET ${route.path}`);
    for (const path of fill()) paths.add(path);
  }
  return [...paths].sort();
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (value instanceof Set) return [...value].sort();
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
  }
  return value;
}

type Call = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

/** A little of everything each module serves, by path parameter name. */
async function seedData(call: Call): Promise<Record<string, string[]>> {
  const event = (eventId: string, capacity: number, more: Record<string, unknown> = {}) =>
    call('POST', '/events', {
      eventId,
      title: 'Fuzz',
      description: 'Fuzz target',
      date: '2030-01-01',
      location: 'Nowhere',
      capacity,
      organizer: 'fuzz',
      ...more,
    });
  const userIds = ['fz-u1', 'fz-u2', 'fz-u3', 'fz-u4'];
  for (const userId of userIds) await call('POST', '/users', { userId, name: userId });
  await event('fz-open', 2, { hasWaitlist: true });
  await event('fz-full', 1);
  await event('fz-closed', 5, { status: 'cancelled' });
  for (const userId of userIds.slice(0, 3)) {
    await call('POST', '/events/fz-open/registrations', { userId });
  }
  await call('POST', '/events/fz-full/registrations', { userId: 'fz-u4' });

  const group = await call('POST', '/age-groups', { min_age: 18, max_age: 30 });
  const enrollment = await call('POST', '/enrollments', {
    name: 'Fuzz Person',
    age: 20,
    cpf: '529.982.247-25',
  });

  await call('PUT', '/customers/fz-c1');
  const execution = await call('POST', '/workflow/submit', { id: 'fz-c2' });

  return {
    eventId: ['fz-open', 'fz-full', 'fz-closed'],
    userId: userIds,
    id: [String(group.id), String(enrollment.enrollment_id), 'fz-c1', 'fz-c2'],
    executionId: [String(execution.executionId)],
  };
}
