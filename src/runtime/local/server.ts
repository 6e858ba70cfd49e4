import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createAdaptorServer, type ServerType } from '@hono/node-server';
import type { Config } from '../../platform/config.js';
import { createDynamoClients } from '../../platform/dynamo/client.js';
import { ensureTables } from '../../platform/dynamo/provision.js';
import { tableDefinitions } from '../../platform/dynamo/tables.js';
import { createLogger } from '../../platform/logger.js';
import { createContainer } from '../container.js';
import { resolveApiKeys } from './api-keys.js';
import { type DynamoDbLocal, LocalStartError, startDynamoDbLocal } from './dynamodb-local.js';
import { isPortFree } from './ports.js';

export interface LocalRuntime {
  readonly url: string;
  readonly port: number;
  readonly apiKeys: readonly string[];
  readonly apiKeyFile: string | undefined;
  readonly dataDir: string;
  readonly dynamodbEndpoint: string;
  /** Settles when the embedded DynamoDB Local ends unexpectedly (never, with an external one). */
  readonly databaseLost: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * The local runtime: data directory → DynamoDB Local (unless DYNAMODB_ENDPOINT is set) → tables
 * → the HTTP app on PORT. Every expected failure is a LocalStartError with one readable line.
 */
export async function startLocalRuntime(config: Config): Promise<LocalRuntime> {
  const dataDir = resolve(config.dataDir);
  await ensureWritable(dataDir);
  if (config.port !== 0 && !(await isPortFree(config.port))) {
    throw new LocalStartError(`Port ${config.port} is already in use: set PORT to a free port.`);
  }
  const keys = await resolveApiKeys(config.apiKeys, dataDir);

  let database: DynamoDbLocal | undefined;
  let endpoint = config.dynamodbEndpoint;
  if (!endpoint) {
    database = await startDynamoDbLocal({ dbPath: resolve(dataDir, 'dynamodb') });
    endpoint = database.endpoint;
  }

  try {
    const dynamo = createDynamoClients({ region: config.region, endpoint });
    await ensureTables(
      dynamo.client,
      tableDefinitions.map((definition) => ({ definition, name: config.tables[definition.id] })),
    ).catch((error: unknown) => {
      throw new LocalStartError(
        `Could not create tables at ${endpoint}: ${(error as Error).message}`,
      );
    });

    const logger = createLogger(config.logLevel);
    const container = createContainer({
      config: { ...config, dynamodbEndpoint: endpoint },
      apiKeys: keys.keys,
      logger,
      dynamo,
    });
    const server = await listen(createAdaptorServer({ fetch: container.app.fetch }), config.port);
    const port = (server.address() as AddressInfo).port;

    return {
      url: `http://localhost:${port}`,
      port,
      apiKeys: keys.keys,
      apiKeyFile: keys.file,
      dataDir,
      dynamodbEndpoint: endpoint,
      databaseLost: database?.exited ?? new Promise(() => {}),
      stop: async () => {
        await new Promise<void>((done) => {
          server.close(() => done());
          (server as import('node:http').Server).closeAllConnections?.();
        });
        dynamo.client.destroy();
        await database?.stop();
      },
    };
  } catch (error) {
    await database?.stop();
    throw error;
  }
}

function listen(server: ServerType, port: number): Promise<ServerType> {
  return new Promise((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'EADDRINUSE'
          ? new LocalStartError(`Port ${port} is already in use: set PORT to a free port.`)
          : error,
      ),
    );
    server.listen(port, () => done(server));
  });
}

async function ensureWritable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch {
    throw new LocalStartError(
      `Data directory ${dir} is not writable: set DATA_DIR to a directory you can write.`,
    );
  }
}
