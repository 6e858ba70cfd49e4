import { randomBytes } from 'node:crypto';
import { allTables, type Config, loadConfig } from '../../src/platform/config.js';
import { createDynamoClients, type DynamoClients } from '../../src/platform/dynamo/client.js';
import { ensureTables, namedTables } from '../../src/platform/dynamo/provision.js';
import type { AppEnv } from '../../src/platform/http/context.js';
import type { Router } from '../../src/platform/http/routes.js';
import type { AnyModule, Ports } from '../../src/platform/module.js';
import type { DomainEvent } from '../../src/platform/outbox/outbox.js';
import { deriveSecrets } from '../../src/platform/secrets.js';
import {
  type ApiOptions,
  type Container,
  createApi,
  createContainer,
} from '../../src/runtime/container.js';
import { dynamodbEndpoint } from './dynamodb.js';
import { type Call, callerFor, TEST_API_KEY } from './fixture-app.js';

export { TEST_API_KEY };

/** The master secret of every test container (tests compare cursors across app instances). */
export const TEST_SECRETS = deriveSecrets(Buffer.alloc(32, 7));

export interface TestApp extends Container {
  readonly app: Router<AppEnv>;
  /** `app.request` with the test API key and JSON headers filled in. */
  readonly call: Call;
}

export interface TestAppOptions {
  /** The modules under test; only their tables (and the platform's) are created. */
  readonly modules?: readonly AnyModule[];
  /** Wrap or replace the clients (fault injection through the SDK middleware stack). */
  readonly dynamo?: (clients: DynamoClients) => DynamoClients;
  readonly env?: Record<string, string>;
  /**
   * The runtime's adapters: local ones, or wrapped to inject faults — as an object, or built from
   * the container when they run module tasks in it (workflows, event rules).
   */
  readonly ports?: Ports | ((container: () => Container) => Ports);
  readonly clock?: () => Date;
  /** How the app is served (what a runtime passes to createApi). */
  readonly api?: ApiOptions;
}

/** The real app on DynamoDB Local, with tables of its own (a fresh prefix per call). */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const modules = options.modules ?? [];
  const endpoint = dynamodbEndpoint();
  const config: Config = loadConfig(
    {
      TABLE_PREFIX: `t${randomBytes(6).toString('hex')}`,
      DYNAMODB_ENDPOINT: endpoint,
      API_KEYS: TEST_API_KEY,
      LOG_LEVEL: 'silent',
      ...options.env,
    },
    modules,
  );
  const base = createDynamoClients({ region: config.region, endpoint });
  await ensureTables(base.client, namedTables(allTables(modules), config.tables));
  const dynamo = options.dynamo ? options.dynamo(base) : base;
  // A ports factory gets the container it goes into (for the local adapters, which run module
  // tasks in it once work arrives).
  const ports =
    typeof options.ports === 'function' ? options.ports(() => container) : options.ports;
  const container = createContainer({
    config,
    modules,
    secrets: TEST_SECRETS,
    dynamo,
    ports,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const app = createApi(container, options.api);
  return { ...container, app, call: callerFor(app) };
}

/** Every domain event in the app's log, oldest first (an hour either side of now). */
export async function loggedEvents(app: TestApp): Promise<DomainEvent[]> {
  const now = Date.now();
  const events: DomainEvent[] = [];
  for await (const page of app.outbox.window(
    new Date(now - 3_600_000),
    new Date(now + 3_600_000),
  )) {
    events.push(...page);
  }
  return events;
}
