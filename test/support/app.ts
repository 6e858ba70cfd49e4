import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { type Config, loadConfig } from '../../src/platform/config.js';
import { createDynamoClients, type DynamoClients } from '../../src/platform/dynamo/client.js';
import { ensureTables } from '../../src/platform/dynamo/provision.js';
import { tableDefinitions } from '../../src/platform/dynamo/tables.js';
import { type Container, createContainer } from '../../src/runtime/container.js';
import { type Call, callerFor } from './fixture-app.js';

export const TEST_API_KEY = 'test-key-0123456789';

export interface TestApp extends Container {
  /** `app.request` with the test API key and JSON headers filled in. */
  readonly call: Call;
}

export interface TestAppOptions {
  /** Wrap or replace the clients (fault injection through the SDK middleware stack). */
  readonly dynamo?: (clients: DynamoClients) => DynamoClients;
  readonly env?: Record<string, string>;
}

/** The real app on DynamoDB Local, with tables of its own (a fresh prefix per call). */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const endpoint = inject('dynamodbEndpoint');
  const config: Config = loadConfig({
    TABLE_PREFIX: `t${randomBytes(6).toString('hex')}`,
    DYNAMODB_ENDPOINT: endpoint,
    API_KEYS: TEST_API_KEY,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const base = createDynamoClients({ region: config.region, endpoint });
  await ensureTables(
    base.client,
    tableDefinitions.map((definition) => ({ definition, name: config.tables[definition.id] })),
  );
  const dynamo = options.dynamo ? options.dynamo(base) : base;
  const container = createContainer({ config, dynamo });
  return {
    ...container,
    call: callerFor(container.app),
  };
}
