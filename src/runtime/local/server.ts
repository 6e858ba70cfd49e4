import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdaptorServer, type ServerType } from '@hono/node-server';
import { allTables, type Config } from '../../platform/config.js';
import { createDynamoClients } from '../../platform/dynamo/client.js';
import { ensureTables, namedTables } from '../../platform/dynamo/provision.js';
import { problemType } from '../../platform/http/problem.js';
import { createLogger } from '../../platform/logger.js';
import type { AnyModule } from '../../platform/module.js';
import { deriveSecrets } from '../../platform/secrets.js';
import { CONSOLE_PATH, createApi, createContainer } from '../container.js';
import { localAdapters } from './adapters.js';
import { resolveApiKeys } from './api-keys.js';
import { type DynamoDbLocal, LocalStartError, startDynamoDbLocal } from './dynamodb-local.js';
import { isPortFree } from './ports.js';
import { resolveLocalSecret } from './secret.js';
import { localTasks } from './tasks.js';
import { localTokenPort } from './token-issuer.js';

/** The console's build output (`npm run console:build`; npm install runs it). */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../console/dist', import.meta.url));

export interface LocalRuntime {
  readonly url: string;
  /** The web console's URL (`<url>/console/`). */
  readonly consoleUrl: string;
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
 * The local runtime: data directory → DynamoDB Local (unless DYNAMODB_ENDPOINT is set) → every
 * module's tables → start-up tasks → the HTTP app on PORT → schedules. Every expected failure is
 * a LocalStartError with one readable line.
 */
export async function startLocalRuntime(
  config: Config,
  modules: readonly AnyModule[],
): Promise<LocalRuntime> {
  const dataDir = resolve(config.dataDir);
  await ensureWritable(dataDir);
  if (config.port !== 0 && !(await isPortFree(config.port))) {
    throw new LocalStartError(`Port ${config.port} is already in use: set PORT to a free port.`);
  }
  const keys = await resolveApiKeys(config.apiKeys, dataDir);
  const secrets = deriveSecrets(await resolveLocalSecret(config.appSecret, dataDir));
  const tokens = await localTokenPort(config, dataDir);

  let database: DynamoDbLocal | undefined;
  let endpoint = config.dynamodbEndpoint;
  if (!endpoint) {
    database = await startDynamoDbLocal({ dbPath: resolve(dataDir, 'dynamodb') });
    endpoint = database.endpoint;
  }

  try {
    const dynamo = createDynamoClients({ region: config.region, endpoint });
    await ensureTables(dynamo.client, namedTables(allTables(modules), config.tables)).catch(
      (error: unknown) => {
        throw new LocalStartError(
          `Could not create tables at ${endpoint}: ${(error as Error).message}`,
        );
      },
    );

    const logger = createLogger(config.logLevel);
    // The local workflow engine and event bus run module tasks in the container they belong to
    // (built just below: they ask for it only once work arrives).
    const adapters = localAdapters({
      modules,
      logger,
      journalDir: dataDir,
      container: () => container,
    });
    const container = createContainer({
      config: { ...config, dynamodbEndpoint: endpoint },
      modules,
      secrets,
      logger,
      dynamo,
      ports: { ...adapters.ports, tokens },
    });
    // What a crash interrupted: executions run again first (so that the start-up task closing
    // executions left RUNNING sees them running), then the events accepted and not delivered.
    await adapters.workflows.resume();
    const tasks = localTasks(container, logger, { queues: adapters.queues });
    await tasks.start();
    await adapters.events.recover();
    const app = createApi(container, {
      apiKeys: keys.keys,
      consoleAssetsDir: config.consoleAssetsDir ?? DEFAULT_CONSOLE_DIR,
    });
    const server = await listen(createAdaptorServer({ fetch: app.fetch }), config.port);
    const port = (server.address() as AddressInfo).port;

    return {
      url: `http://localhost:${port}`,
      consoleUrl: `http://localhost:${port}${CONSOLE_PATH}/`,
      port,
      apiKeys: keys.keys,
      apiKeyFile: keys.file,
      dataDir,
      dynamodbEndpoint: endpoint,
      databaseLost: database?.exited ?? new Promise(() => {}),
      stop: async () => {
        await tasks.stop();
        await new Promise<void>((done) => {
          server.close(() => done());
          (server as Server).closeAllConnections?.();
        });
        await adapters.stop();
        dynamo.client.destroy();
        await database?.stop();
      },
    };
  } catch (error) {
    await database?.stop();
    throw error;
  }
}

/** The accept queue's length (Linux caps it at net.core.somaxconn, 4096 by default). */
export const LISTEN_BACKLOG = 4096;

function listen(server: ServerType, port: number): Promise<ServerType> {
  (server as Server).on('clientError', answerUnparsable);
  return new Promise((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'EADDRINUSE'
          ? new LocalStartError(`Port ${port} is already in use: set PORT to a free port.`)
          : error,
      ),
    );
    // A deep accept queue: a burst of connections (a rush of registrations) queues instead of
    // being dropped and retried by the client a second later.
    server.listen({ port, backlog: LISTEN_BACKLOG }, () => done(server));
  });
}

/**
 * Requests Node's HTTP parser refuses never reach the app (oversized headers, a bad method,
 * broken framing); Node's default answer has an empty body. Answer with a problem document like
 * every other error, then close: the connection's framing can't be trusted any more.
 */
function answerUnparsable(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const title = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
  const code = tooLarge ? 'REQUEST.HEADERS_TOO_LARGE' : 'REQUEST.UNPARSABLE';
  const body = JSON.stringify({
    type: problemType(code),
    title,
    status,
    detail: tooLarge
      ? 'The request headers are larger than the server accepts.'
      : 'The request is not valid HTTP/1.1 (method, headers or framing).',
    code,
  });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
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
