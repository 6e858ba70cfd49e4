import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createAdaptorServer } from '@hono/node-server';
import { modules } from '../../src/modules/index.js';
import { allTables, type Config, loadConfig } from '../../src/platform/config.js';
import { createDynamoClients, type DynamoClients } from '../../src/platform/dynamo/client.js';
import {
  type PartitionSimulation,
  type PartitionSimulationOptions,
  simulatePartitions,
} from '../../src/platform/dynamo/partition-simulation.js';
import { ensureTables, namedTables } from '../../src/platform/dynamo/provision.js';
import { createLogger } from '../../src/platform/logger.js';
import { sendInBatches } from '../../src/platform/retry.js';
import { deriveSecrets } from '../../src/platform/secrets.js';
import { type Container, createApi, createContainer } from '../../src/runtime/container.js';
import { type LocalAdapters, localAdapters } from '../../src/runtime/local/adapters.js';
import { startDynamoDbLocal } from '../../src/runtime/local/dynamodb-local.js';
import { LISTEN_BACKLOG } from '../../src/runtime/local/server.js';

export const BENCH_API_KEY = 'bench-key-0123456789';

/** Everything one benchmark run talks to, all on 127.0.0.1, all stopped by `stop()`. */
export interface BenchStack {
  readonly config: Config;
  readonly container: Container;
  /** The local workflow engine and event bus the container's ports are. */
  readonly adapters: LocalAdapters;
  /** Clients of their own for the direct (no HTTP) runs, built like the app's. */
  readonly direct: DynamoClients;
  readonly appUrl: string;
  /** A bare node:http server answering a constant JSON body: the HTTP ceiling. */
  readonly bareUrl: string;
  readonly databasePid: number;
  /** On the app's DynamoDB client, when the stack was started with `partitions`. */
  readonly partitions?: PartitionSimulation;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** DynamoDB Local persists to disk here, as `npm start` runs it; else in memory. */
  readonly dbPath?: string;
  /**
   * The app's DynamoDB client enforces DynamoDB's per-partition-key ceilings, scaled
   * (docs/decisions/partition-simulation.md); the stack's `direct` clients never do.
   */
  readonly partitions?: Omit<PartitionSimulationOptions, 'tables'>;
  /** Module settings for the app (e.g. `EVENTS_SHARDING`), as its environment would give them. */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startStack(options: StackOptions = {}): Promise<BenchStack> {
  const database = await startDynamoDbLocal(options.dbPath ? { dbPath: options.dbPath } : {});
  const closers: Array<() => Promise<void>> = [() => database.stop()];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    closers.length = 0;
  };
  try {
    const config = loadConfig(
      {
        DYNAMODB_ENDPOINT: database.endpoint,
        API_KEYS: BENCH_API_KEY,
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
        TABLE_PREFIX: 'bench',
        ...options.env,
      },
      modules,
    );
    const direct = createDynamoClients({ region: config.region, endpoint: database.endpoint });
    closers.push(async () => direct.client.destroy());
    await ensureTables(direct.client, namedTables(allTables(modules), config.tables));

    // The bus and the engine journal what they accept, as the local runtime's do.
    const journal = await mkdtemp(join(tmpdir(), 'roster-bench-journal-'));
    closers.push(() => rm(journal, { recursive: true, force: true }));
    const adapters = localAdapters({
      modules,
      logger: createLogger('silent'),
      container: () => container,
      journalDir: journal,
    });
    const simulated =
      options.partitions && simulatedClients(config, database.endpoint, options.partitions);
    const container = createContainer({
      config,
      modules,
      secrets: deriveSecrets(Buffer.alloc(32, 1)),
      ports: adapters.ports,
      dynamo: simulated?.dynamo,
    });
    closers.push(async () => container.dynamo.client.destroy());
    closers.push(() => adapters.stop());
    const api = createApi(container);
    const app = await listen(createAdaptorServer({ fetch: api.fetch }) as Server);
    closers.push(() => close(app));

    const constant = JSON.stringify({ status: 'ok', checks: { database: 'ok' } });
    const bare = await listen(
      createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(constant);
      }),
    );
    closers.push(() => close(bare));

    return {
      config,
      container,
      adapters,
      direct,
      appUrl: urlOf(app),
      bareUrl: urlOf(bare),
      databasePid: database.pid,
      partitions: simulated?.partitions,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The app's clients, built as the container builds them, with the simulation installed. */
function simulatedClients(
  config: Config,
  endpoint: string,
  options: Omit<PartitionSimulationOptions, 'tables'>,
): { dynamo: DynamoClients; partitions: PartitionSimulation } {
  const dynamo = createDynamoClients({ region: config.region, endpoint });
  const tables = namedTables(allTables(modules), config.tables);
  return { dynamo, partitions: simulatePartitions(dynamo.client, { ...options, tables }) };
}

export function listen(server: Server): Promise<Server> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    // The backlog the local runtime listens with (src/runtime/local/server.ts).
    server.listen({ port: 0, host: '127.0.0.1', backlog: LISTEN_BACKLOG }, () => done(server));
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}

export function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Puts `items` into one table with BatchWriteItem, 25 at a time, sending again what DynamoDB
 * Local leaves unprocessed: how the benches seed rows faster than the API could write them.
 */
export async function putItems(
  doc: DynamoClients['doc'],
  table: string,
  items: readonly Record<string, unknown>[],
): Promise<void> {
  const refused = await sendInBatches(
    items.map((Item) => ({ PutRequest: { Item } })),
    {
      size: 25,
      attempts: 8,
      baseMs: 25,
      capMs: 1000,
      send: async (chunk) => {
        const result = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: chunk } }));
        return (result.UnprocessedItems?.[table] ?? []) as typeof chunk;
      },
    },
  );
  if (refused.length > 0) throw new Error(`seeding: ${refused.length} writes refused`);
}
