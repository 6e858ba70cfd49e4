import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { v7 as uuidv7 } from 'uuid';
import pkg from '../../package.json' with { type: 'json' };
import { DynamoEventRepository } from '../modules/events/events.dynamo.js';
import { eventsRoutes } from '../modules/events/events.routes.js';
import { EventsService } from '../modules/events/events.service.js';
import type { Config } from '../platform/config.js';
import { createDynamoClients, type DynamoClients } from '../platform/dynamo/client.js';
import { createHttpApp } from '../platform/http/app.js';
import type { AppEnv } from '../platform/http/context.js';
import { idempotency } from '../platform/http/idempotency.js';
import { mountSystemRoutes } from '../platform/http/system.routes.js';
import { createLogger, type Logger } from '../platform/logger.js';

export interface ContainerOptions {
  readonly config: Config;
  /** Keys accepted when `config.apiKeySource` is `local` (resolved by the runtime). */
  readonly apiKeys?: readonly string[];
  readonly logger?: Logger;
  /** Pre-built clients: the tests pass clients with injected faults here. */
  readonly dynamo?: DynamoClients;
}

export interface Container {
  readonly app: OpenAPIHono<AppEnv>;
  readonly dynamo: DynamoClients;
  readonly logger: Logger;
  readonly config: Config;
}

/** The one composition root: config → clients → adapters → services → the HTTP app. */
export function createContainer(options: ContainerOptions): Container {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const dynamo =
    options.dynamo ??
    createDynamoClients({ region: config.region, endpoint: config.dynamodbEndpoint });

  const app = createHttpApp({
    logger,
    corsOrigins: config.corsOrigins,
    auth: { apiKeySource: config.apiKeySource, apiKeys: options.apiKeys ?? config.apiKeys ?? [] },
  });

  mountSystemRoutes(app, {
    info: { name: 'Roster', version: pkg.version, description: pkg.description },
    docsAssetsDir: config.docsAssetsDir,
    // One cheap GetItem: proves the endpoint answers and the table exists.
    checkHealth: async () => {
      await dynamo.client.send(
        new GetItemCommand({
          TableName: config.tables.idempotency,
          Key: { id: { S: 'health-check' } },
        }),
        { abortSignal: AbortSignal.timeout(2000) },
      );
    },
  });

  const idempotent = idempotency({ client: dynamo.client, tableName: config.tables.idempotency });

  const events = new EventsService({
    repository: new DynamoEventRepository({ doc: dynamo.doc, tableName: config.tables.events }),
    newId: uuidv7,
    now: () => new Date(),
  });
  app.route('/', eventsRoutes({ service: events, idempotent }));

  return { app, dynamo, logger, config };
}
