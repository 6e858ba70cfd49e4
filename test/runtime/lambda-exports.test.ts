import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModuleInfra } from '../../infra/module-infra.js';
import { exportsAccess } from '../../infra/roster-stack.js';
import { enrollmentsModule } from '../../src/modules/enrollments/enrollments.module.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { modules } from '../../src/modules/index.js';
import { slaErrorsModule } from '../../src/modules/sla-errors/sla-errors.module.js';
import { streamedRoutesOf } from '../../src/platform/http/public-routes.js';
import type { QueuePort } from '../../src/platform/queue/queue.js';
import { describeApi } from '../../src/runtime/describe.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { dynamodbEndpoint } from '../support/dynamodb.js';
import { restEvent } from '../support/rest-event.js';
import { timerEnvironment } from '../support/timers.js';

/*
 * The exports function (src/runtime/lambda/exports.ts) as Lambda runs it behind API Gateway's
 * streaming proxy integration: a REST (v1) proxy event in, and what it writes to the response
 * stream out, read the way API Gateway reads it (JSON metadata, 8 NUL bytes, the body). The
 * `awslambda` global is the Node.js runtime's, not ours: the stand-in below does what the
 * runtime's `HttpResponseStream.from` and its response stream do (the metadata goes out just
 * before the first write) and runs the handler as the runtime does. Between the function and
 * DynamoDB Local sits a relay that notes every call as IAM checks it, and can fail one.
 */

const RUN = randomBytes(4).toString('hex');
const PREFIX = `x${RUN}`;
const ROWS = 450; // more than two pages of 200
const FILE = `export-${RUN}.csv`;

/** The delimiter between the metadata and the body (Lambda's HTTP integration response). */
const DELIMITER = Buffer.alloc(8);

/** A response stream of the Lambda runtime, as far as a handler sees it; keeps what it got. */
class RuntimeResponseStream extends Writable {
  readonly chunks: Buffer[] = [];
  contentType = 'application/octet-stream';
  _onBeforeFirstWrite: ((write: (chunk: unknown) => void) => void) | undefined;
  private started = false;

  constructor() {
    // Small, so that a writer that ignores a full stream would show it.
    super({ highWaterMark: 1024 });
  }

  setContentType(type: string) {
    if (this.started) throw new Error('Cannot set content-type, too late.');
    this.contentType = type;
  }

  override write(chunk: unknown, ...rest: never[]): boolean {
    if (!this.started) {
      this.started = true;
      this._onBeforeFirstWrite?.((first) => super.write(first));
    }
    return super.write(chunk, ...rest);
  }

  override _write(chunk: Buffer, _encoding: string, callback: () => void) {
    this.chunks.push(Buffer.from(chunk));
    // Asynchronously, as a socket would: a full stream drains later.
    setImmediate(callback);
  }
}

const runtime = {
  streamifyResponse: <H>(handler: H): H => handler,
  HttpResponseStream: {
    from(stream: RuntimeResponseStream, metadata: Record<string, unknown>) {
      stream.setContentType('application/vnd.awslambda.http-integration-response');
      stream._onBeforeFirstWrite = (write) => {
        write(JSON.stringify(metadata));
        write(new Uint8Array(DELIMITER.length));
      };
      return stream;
    },
  },
};

type StreamingHandler = (
  event: APIGatewayProxyEvent,
  stream: RuntimeResponseStream,
  context: Context,
) => Promise<void>;

interface Invocation {
  /** The metadata API Gateway would read before the delimiter. */
  readonly metadata: { statusCode: number; headers: Record<string, string> };
  readonly body: Buffer;
  /** Writes of the body (the metadata and the delimiter not counted). */
  readonly bodyWrites: number;
  /** Whether the handler ended the stream (a whole answer) before it returned. */
  readonly ended: boolean;
  /** What the handler threw: the runtime reports the invocation failed. */
  readonly error: unknown;
  readonly contentType: string;
}

let handler: StreamingHandler;

/** Runs the handler as the runtime does, and splits what it wrote the way API Gateway does. */
async function invoke(event: APIGatewayProxyEvent): Promise<Invocation> {
  const stream = new RuntimeResponseStream();
  let error: unknown;
  try {
    await handler(event, stream, lambdaContext);
    if (stream.writableEnded && !stream.writableFinished && !stream.destroyed) {
      await new Promise((resolve) => stream.once('finish', resolve));
    }
    // What the runtime checks once the handler has returned.
    if (!stream.writableFinished) throw new Error('Response stream is not finished.');
  } catch (thrown) {
    error = thrown;
  }
  const all = Buffer.concat(stream.chunks);
  const at = all.indexOf(DELIMITER);
  expect(at, 'no metadata prelude').toBeGreaterThan(0);
  return {
    metadata: JSON.parse(all.subarray(0, at).toString('utf8')),
    body: all.subarray(at + DELIMITER.length),
    bodyWrites: stream.chunks.length - 2,
    ended: stream.writableEnded,
    error,
    contentType: stream.contentType,
  };
}

/** A REST API (v1) proxy event for a GET of a download, as API Gateway sends it with a checked key. */
function getEvent(path: string, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  const [pathOnly = '', search = ''] = path.split('?');
  return restEvent('GET', pathOnly, {
    apiKeyId: 'k1a2b3',
    headers,
    query: Object.fromEntries(new URLSearchParams(search)),
    resource: pathOnly,
  });
}

const lambdaContext = {
  awsRequestId: 'lambda-request-1',
  functionName: 'roster-exports',
  functionVersion: '$LATEST',
  memoryLimitInMB: '1024',
  getRemainingTimeInMillis: () => 300_000,
  callbackWaitsForEmptyEventLoop: false,
} as unknown as Context;

interface Relay {
  readonly endpoint: string;
  /** The calls since the last `take`, as IAM checks them (`Query sla-errors/index/gsi2`). */
  take(): Set<string>;
  /** Answer the calls `fails` picks with a ResourceNotFoundException instead of relaying them. */
  failing(fails: ((action: string, input: Record<string, unknown>) => boolean) | undefined): void;
  close(): Promise<void>;
}

/** A relay in front of DynamoDB Local: the function's own client talks to it, as to DynamoDB. */
async function dynamoRelay(target: string, tableIds: Record<string, string>): Promise<Relay> {
  let calls = new Set<string>();
  let fails: ((action: string, input: Record<string, unknown>) => boolean) | undefined;
  const note = (action: string, table: unknown, index?: unknown) =>
    calls.add(
      `${action} ${tableIds[String(table)] ?? `unknown-table:${String(table)}`}${index ? `/index/${String(index)}` : ''}`,
    );
  const read = async (request: IncomingMessage) => {
    const parts: Buffer[] = [];
    for await (const part of request) parts.push(part as Buffer);
    return Buffer.concat(parts);
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await read(request);
      const action = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      if (action === 'Query') note(action, input.TableName, input.IndexName);
      else if (action === 'BatchGetItem' || action === 'BatchWriteItem') {
        for (const table of Object.keys(input.RequestItems as object)) note(action, table);
      } else if (action === 'TransactGetItems' || action === 'TransactWriteItems') {
        for (const item of input.TransactItems as Record<string, { TableName: string }>[]) {
          for (const [kind, { TableName }] of Object.entries(item)) {
            note(kind === 'Get' ? 'GetItem' : `${kind}Item`, TableName);
          }
        }
      } else note(action, input.TableName);
      if (fails?.(action, input)) {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
            message: 'Requested resource not found (injected by the test)',
          }),
        );
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(
          ([name]) => !['host', 'connection', 'content-length'].includes(name),
        ),
      ) as Record<string, string>;
      const answer = await fetch(target, { method: 'POST', headers, body });
      const relayed = Object.fromEntries(
        [...answer.headers].filter(
          ([name]) => !['connection', 'content-length', 'transfer-encoding'].includes(name),
        ),
      );
      response.writeHead(answer.status, relayed);
      response.end(Buffer.from(await answer.arrayBuffer()));
    })().catch((error: unknown) => {
      response.destroy(error as Error);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    take() {
      const taken = calls;
      calls = new Set();
      return taken;
    },
    failing(pick) {
      fails = pick;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Enrollments wait for a processor this test does not run: sent nowhere, they stay PENDING. */
const noQueues: QueuePort = {
  queue: () => ({ send: async () => {}, sendBatch: async () => {}, deadLetter: async () => {} }),
};

describe('the exports function (API Gateway REST, Lambda proxy integration with response streaming)', () => {
  const saved = { ...process.env };
  const savedRuntime = (globalThis as { awslambda?: unknown }).awslambda;
  let data: TestApp;
  let relay: Relay;
  let eventId: string;
  /** The records of FILE, newest first, as GET /sla-errors lists them. */
  const seeded: string[] = [];

  beforeAll(async () => {
    // The data, written by an app of its own straight into DynamoDB Local (the relay sees none
    // of it): tables named as the function will name them.
    data = await createTestApp({
      modules: [eventsModule, enrollmentsModule, slaErrorsModule],
      env: { TABLE_PREFIX: PREFIX },
      ports: { queues: noQueues },
    });
    const { slaErrors } = data.servicesOf(slaErrorsModule);
    const indexes = Array.from({ length: ROWS }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 12 }, async (_, lane) => {
        for (const i of indexes.filter((n) => n % 12 === lane)) {
          await slaErrors.recordSlaError(
            {
              fileName: FILE,
              slaDeadline: '2026-11-21T10:00:00Z',
              receivedAt: new Date(Date.UTC(2026, 10, 21, 10, 0, 0, i)).toISOString(),
              errorCode: 'SLA_BREACH',
              message: i === 7 ? '=HYPERLINK("http://x","y")' : `Row ${i}, "quoted"\nsecond line`,
              severity: 'low',
              source: 'export-test',
            },
            'reporter',
          );
        }
      }),
    );
    let cursor: string | undefined;
    do {
      const page = await slaErrors.listSlaErrors({ fileName: FILE }, { limit: 200, cursor });
      seeded.push(...page.items.map((record) => record.id));
      cursor = page.nextCursor;
    } while (cursor);

    eventId = `export-${RUN}`;
    const created = await data.call('/events', {
      method: 'POST',
      json: {
        eventId,
        title: 'Export',
        description: 'An event exported',
        date: '2026-12-01',
        location: 'Lisbon',
        capacity: 2,
        organizer: 'Roster',
        status: 'active',
        hasWaitlist: true,
      },
    });
    expect(created.status).toBe(201);
    for (const userId of ['u1', 'u2', 'u3'].map((u) => `${u}-${RUN}`)) {
      expect(
        (await data.call('/users', { method: 'POST', json: { userId, name: userId } })).status,
      ).toBe(201);
      const registered = await data.call(`/events/${eventId}/registrations`, {
        method: 'POST',
        json: { userId },
      });
      expect(registered.status).toBe(201);
    }
    expect(
      (await data.call('/age-groups', { method: 'POST', json: { min_age: 0, max_age: 150 } }))
        .status,
    ).toBe(201);
    const enrolled = await data.call('/enrollments', {
      method: 'POST',
      json: { name: 'Export Test', age: 30, cpf: '529.982.247-25' },
    });
    expect(enrolled.status).toBeLessThan(300);

    relay = await dynamoRelay(
      dynamodbEndpoint(),
      Object.fromEntries(Object.entries(data.config.tables).map(([id, name]) => [name, id])),
    );
    // The entry builds its container from the environment at import, as on Lambda.
    process.env.DYNAMODB_ENDPOINT = relay.endpoint;
    process.env.TABLE_PREFIX = PREFIX;
    process.env.API_KEY_SOURCE = 'api-gateway';
    process.env.AWS_REGION = 'us-east-1';
    process.env.APP_SECRET = Buffer.alloc(32, 9).toString('base64url');
    Object.assign(process.env, timerEnvironment(modules));
    delete process.env.API_KEYS;
    (globalThis as { awslambda?: unknown }).awslambda = runtime;
    ({ handler } = (await import('../../src/runtime/lambda/exports.js')) as unknown as {
      handler: StreamingHandler;
    });
  }, 120_000);

  afterAll(async () => {
    process.env = saved;
    (globalThis as { awslambda?: unknown }).awslambda = savedRuntime;
    await relay?.close();
  });

  it('streams an export of several pages in the streaming format: metadata, 8 NUL bytes, then every row', async () => {
    const event = getEvent(`/sla-errors.csv?fileName=${FILE}`);

    const answer = await invoke(event);

    expect(answer.error).toBeUndefined();
    expect(answer.ended).toBe(true);
    expect(answer.contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(answer.metadata.statusCode).toBe(200);
    expect(answer.metadata.headers).toMatchObject({
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="sla-errors.csv"',
      'x-request-id': event.requestContext.requestId,
    });
    const text = answer.body.toString('utf8');
    expect(text.startsWith('id,fileName,slaDeadline,receivedAt,errorCode,message,')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parse(text, { columns: true, record_delimiter: '\r\n' }) as Record<
      string,
      string
    >[];
    expect(rows.map((row) => row.id)).toEqual(seeded);
    expect(rows).toHaveLength(ROWS);
    expect(new Set(rows.map((row) => row.fileName))).toEqual(new Set([FILE]));
    expect(rows.map((row) => row.message)).toContain('Row 3, "quoted"\nsecond line');
    expect(rows.map((row) => row.message)).toContain(`'=HYPERLINK("http://x","y")`);
    // Page by page as they were read, not one buffer at the end.
    expect(answer.bodyWrites).toBeGreaterThanOrEqual(Math.ceil(ROWS / 200));
  });

  it('gzips the download for a client that accepts it (API Gateway compresses no streamed answer)', async () => {
    const plain = await invoke(getEvent(`/sla-errors.csv?fileName=${FILE}`));

    const answer = await invoke(
      getEvent(`/sla-errors.csv?fileName=${FILE}`, { 'accept-encoding': 'br;q=1, gzip;q=0.8' }),
    );

    expect(answer.error).toBeUndefined();
    expect(answer.metadata.statusCode).toBe(200);
    expect(answer.metadata.headers['content-encoding']).toBe('gzip');
    expect(answer.metadata.headers.vary).toMatch(/accept-encoding/i);
    expect(answer.body.length).toBeLessThan(plain.body.length / 3);
    expect(gunzipSync(answer.body).equals(plain.body)).toBe(true);
    // Refused outright, it is not sent.
    const refused = await invoke(
      getEvent(`/sla-errors.csv?fileName=${FILE}`, { 'accept-encoding': 'gzip;q=0, identity' }),
    );
    expect(refused.metadata.headers['content-encoding']).toBeUndefined();
    expect(refused.body.equals(plain.body)).toBe(true);
  });

  it('answers an unknown event with a 404 problem, in the streaming format too', async () => {
    const event = getEvent(`/events/no-such-event-${RUN}/registrations.csv`);

    const answer = await invoke(event);

    expect(answer.error).toBeUndefined();
    expect(answer.ended).toBe(true);
    expect(answer.metadata.statusCode).toBe(404);
    expect(answer.metadata.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(answer.body.toString('utf8'))).toMatchObject({
      status: 404,
      code: 'EVENTS.EVENT_NOT_FOUND',
      requestId: event.requestContext.requestId,
    });
  });

  it('answers a bad filter with a 400 problem before any row', async () => {
    const answer = await invoke(getEvent('/sla-errors.csv?from=yesterday'));

    expect(answer.error).toBeUndefined();
    expect(answer.metadata.statusCode).toBe(400);
    expect(answer.metadata.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(answer.body.toString('utf8'))).toMatchObject({ status: 400 });
  });

  it('serves the CSV downloads only: any other route is a 404 problem, and reads nothing', async () => {
    relay.take();
    for (const path of [`/events/${eventId}/registrations`, '/sla-errors', '/health']) {
      const answer = await invoke(getEvent(path, { accept: 'text/csv' }));

      expect(answer.error, path).toBeUndefined();
      expect(answer.ended, path).toBe(true);
      expect(answer.metadata.statusCode, path).toBe(404);
      expect(answer.metadata.headers['content-type'], path).toBe('application/problem+json');
      expect(JSON.parse(answer.body.toString('utf8')), path).toMatchObject({
        code: 'REQUEST.ROUTE_NOT_FOUND',
      });
    }
    expect(relay.take()).toEqual(new Set());
  });

  it('stays within the DynamoDB grants the stack gives it, on every export', async () => {
    const granted = new Set(
      exportsAccess(modules, await loadModuleInfra(modules)).flatMap((access) => [
        ...access.actions.map((action) => `${action} ${access.table.id}`),
        ...(access.indexes ?? []).map((index) => `Query ${access.table.id}/index/${index}`),
      ]),
    );
    const routes = streamedRoutesOf(describeApi(modules).app);
    const paths = new Map([
      ['/events/{eventId}/registrations.csv', `/events/${eventId}/registrations.csv`],
      ['/enrollments.csv', '/enrollments.csv'],
      ['/sla-errors.csv', `/sla-errors.csv?fileName=${FILE}`],
    ]);
    expect(routes.map((route) => route.path).sort()).toEqual([...paths.keys()].sort());

    for (const path of paths.values()) {
      relay.take();
      const answer = await invoke(getEvent(path));
      const calls = relay.take();

      expect(answer.metadata.statusCode, path).toBe(200);
      expect(parse(answer.body.toString('utf8'), { columns: true }).length, path).toBeGreaterThan(
        0,
      );
      expect(calls.size, path).toBeGreaterThan(0);
      expect(
        [...calls].filter((call) => !granted.has(call)),
        `${path}: calls its grants do not allow`,
      ).toEqual([]);
    }
    // Reads only.
    for (const pair of granted) expect(pair).toMatch(/^(GetItem|BatchGetItem|Query) /);
  });

  it('cuts the transfer when a later page fails: the invocation fails, the file never ends like a whole one', async () => {
    let queries = 0;
    // The first page is read before the answer starts; the second fails.
    relay.failing((action) => action === 'Query' && ++queries === 2);
    try {
      const answer = await invoke(getEvent(`/sla-errors.csv?fileName=${FILE}`));

      expect(answer.metadata.statusCode).toBe(200);
      const text = answer.body.toString('utf8');
      expect(text.split('\r\n').length).toBeGreaterThan(100);
      expect(text).not.toMatch(/Internal Server Error/);
      // The handler itself fails the invocation (not the runtime finding the stream unfinished).
      expect(answer.error).toBeDefined();
      expect(String(answer.error)).not.toMatch(/Response stream is not finished/);
      expect(answer.ended).toBe(false);
    } finally {
      relay.failing(undefined);
    }
  });
});
