import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getRequestListener, RequestError, type ServerType } from '@hono/node-server';
import { allTables, type Config } from '../../platform/config.js';
import { createDynamoClients } from '../../platform/dynamo/client.js';
import { ensureTables, namedTables } from '../../platform/dynamo/provision.js';
import { AppError } from '../../platform/errors.js';
import {
  internalProblem,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  problemOf,
  problemType,
} from '../../platform/http/problem.js';
import { createLogger, type Logger } from '../../platform/logger.js';
import type { AnyModule } from '../../platform/module.js';
import { deriveSecrets } from '../../platform/secrets.js';
import { CONSOLE_PATH, createApi, createContainer } from '../container.js';
import { localAdapters } from './adapters.js';
import { resolveApiKeys } from './api-keys.js';
import { type DynamoDbLocal, LocalStartError } from './dynamodb-local.js';
import { startLocalDatabase } from './local-database.js';
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
  /** The data directory and database, when the caller began them already (`npm start` does). */
  started: Promise<DynamoDbLocal | undefined> = startLocalDatabase(config),
): Promise<LocalRuntime> {
  const dataDir = resolve(config.dataDir);
  const database = await started;
  try {
    return await startOn(config, modules, dataDir, database);
  } catch (error) {
    await database?.stop();
    throw error;
  }
}

async function startOn(
  config: Config,
  modules: readonly AnyModule[],
  dataDir: string,
  database: DynamoDbLocal | undefined,
): Promise<LocalRuntime> {
  if (config.port !== 0 && !(await isPortFree(config.port))) {
    throw new LocalStartError(`Port ${config.port} is already in use: set PORT to a free port.`);
  }
  const keys = await resolveApiKeys(config.apiKeys, dataDir);
  const secrets = deriveSecrets(await resolveLocalSecret(config.appSecret, dataDir));
  const tokens = await localTokenPort(config, dataDir);
  const endpoint = database?.endpoint ?? config.dynamodbEndpoint;
  if (!endpoint)
    throw new LocalStartError(
      'No database: set DYNAMODB_ENDPOINT or let the runtime start DynamoDB Local.',
    );

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
  const server = await listen(
    // No Host at all reaches the listener too, to be answered like a bad one (Node's own 400
    // has an empty body).
    createServer(
      { requireHostHeader: false },
      getRequestListener(app.fetch, { errorHandler: (error) => answerUnroutable(error, logger) }),
    ),
    config.port,
    config.host,
  );
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${urlHost(config.host)}:${port}`;

  return {
    url: origin,
    consoleUrl: `${origin}${CONSOLE_PATH}/`,
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
}

/** The accept queue's length (Linux caps it at net.core.somaxconn, 4096 by default). */
export const LISTEN_BACKLOG = 4096;

/** The host to print in URLs: a wildcard address is reached as localhost, IPv6 in brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '127.0.0.1') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: ServerType, port: number, host: string): Promise<ServerType> {
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
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => done(server));
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

/**
 * Requests Node parses but the adapter can't make a URL of for the app (a request-target of `*`,
 * a Host header that is no host, or none) never reach the app: the adapter's answer is an empty
 * 400. Answer a problem document with a request id, like every other answer. Anything else here
 * is the app failing outside its own error handling: a generic 500, logged.
 */
function answerUnroutable(error: unknown, logger: Logger): Response {
  const requestId = randomUUID();
  let body: Problem;
  if (error instanceof RequestError) {
    logger.info('request refused before routing', { requestId, reason: error.message });
    const refused = new AppError('bad_request', 'REQUEST.TARGET_INVALID', 'Bad Request', {
      detail: 'The request-target must be a path starting with / and Host a valid host.',
    });
    body = problemOf(refused, { requestId });
  } else {
    logger.error('unhandled error', { requestId, error });
    body = internalProblem({ requestId });
  }
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId },
  });
}
