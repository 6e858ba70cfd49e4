import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventsTable } from '../../src/modules/events/events.module.js';
import { modules } from '../../src/modules/index.js';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { ensureTables } from '../../src/platform/dynamo/provision.js';
import { idempotencyTable } from '../../src/platform/dynamo/tables.js';
import { outboxTable } from '../../src/platform/outbox/outbox.js';
import { restEvent } from '../support/rest-event.js';
import { timerEnvironment } from '../support/timers.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const context = {
  awsRequestId: 'lambda-request-1',
  functionName: 'roster-api',
  functionVersion: '$LATEST',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 29_000,
  callbackWaitsForEmptyEventLoop: false,
} as unknown as Context;

/** Header value from either `headers` or `multiValueHeaders` (the adapter uses the latter for v1). */
function header(result: APIGatewayProxyResult, name: string): string | undefined {
  const single = Object.entries(result.headers ?? {}).find(([k]) => k.toLowerCase() === name);
  if (single) return String(single[1]);
  const multi = Object.entries(result.multiValueHeaders ?? {}).find(
    ([k]) => k.toLowerCase() === name,
  );
  return multi ? String(multi[1][0]) : undefined;
}

describe('Lambda handler (API Gateway REST proxy)', () => {
  const saved = { ...process.env };
  let handler: Handler;
  /** The function's log lines (JSON), as Lambda would ship them to CloudWatch Logs. */
  const logLines: Record<string, unknown>[] = [];
  const stdoutWrite = process.stdout.write;

  beforeAll(async () => {
    const endpoint = inject('dynamodbEndpoint');
    const prefix = `lambda${randomBytes(4).toString('hex')}`;
    const names = {
      events: `${prefix}-events`,
      idempotency: `${prefix}-idempotency`,
      outbox: `${prefix}-domain-events`,
    };
    const { client } = createDynamoClients({ region: 'us-east-1', endpoint });
    await ensureTables(client, [
      { definition: eventsTable, name: names.events },
      { definition: idempotencyTable, name: names.idempotency },
      // Creating an event commits its domain event into the platform's outbox.
      { definition: outboxTable, name: names.outbox },
    ]);
    client.destroy();

    // The module builds its container at import time from process.env, as on Lambda.
    process.env.DYNAMODB_ENDPOINT = endpoint;
    process.env.EVENTS_TABLE_NAME = names.events;
    process.env.IDEMPOTENCY_TABLE_NAME = names.idempotency;
    process.env.DOMAIN_EVENTS_TABLE_NAME = names.outbox;
    process.env.API_KEY_SOURCE = 'api-gateway';
    process.env.LOG_LEVEL = 'info';
    Object.assign(process.env, timerEnvironment(modules));
    process.stdout.write = ((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        try {
          logLines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      }
      return true;
    }) as typeof process.stdout.write;
    process.env.AWS_REGION = 'us-east-1';
    process.env.APP_SECRET = Buffer.alloc(32, 9).toString('base64url');
    delete process.env.API_KEYS;
    delete process.env.TABLE_PREFIX;
    ({ handler } = (await import('../../src/runtime/lambda/api.js')) as unknown as {
      handler: Handler;
    });
  });

  afterAll(() => {
    process.stdout.write = stdoutWrite;
    process.env = saved;
  });

  it('answers GET /health with 200, JSON and API Gateway’s request id, in the header and the log', async () => {
    const event = restEvent('GET', '/health');

    const result = await handler(event, context);

    expect(result.statusCode).toBe(200);
    expect(header(result, 'content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(result.body)).toMatchObject({ status: 'ok' });
    const gatewayId = event.requestContext.requestId;
    expect(header(result, 'x-request-id')).toBe(gatewayId);
    expect(logLines).toContainEqual(
      expect.objectContaining({ message: 'request', requestId: gatewayId, status: 200 }),
    );
  });

  it('echoes a valid x-request-id given by the client', async () => {
    const result = await handler(
      restEvent('GET', '/health', { headers: { 'x-request-id': 'trace-from-client' } }),
      context,
    );

    expect(header(result, 'x-request-id')).toBe('trace-from-client');
  });

  it('passes a protected path through when API Gateway checked the key (404 problem, not 401)', async () => {
    const result = await handler(
      restEvent('GET', '/no-such-route', { apiKeyId: 'k1a2b3' }),
      context,
    );

    expect(result.statusCode).toBe(404);
    expect(header(result, 'content-type')).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(result.body);
    expect(problem).toMatchObject({ status: 404, code: 'REQUEST.ROUTE_NOT_FOUND' });
    expect(problem.requestId).toBe(header(result, 'x-request-id'));
  });

  it('answers 401 on a protected path when the request came without an API key id', async () => {
    const event = restEvent('GET', '/no-such-route');
    const result = await handler(event, context);

    expect(result.statusCode).toBe(401);
    expect(header(result, 'content-type')).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(result.body)).toMatchObject({ status: 401, code: 'AUTH.UNAUTHORIZED' });
    expect(header(result, 'x-request-id')).toBe(event.requestContext.requestId);
  });

  it('does not trust an x-api-key header that API Gateway did not check', async () => {
    const result = await handler(
      restEvent('GET', '/no-such-route', { headers: { 'x-api-key': 'anything' } }),
      context,
    );

    expect(result.statusCode).toBe(401);
  });

  it('answers 400 problem for a malformed JSON body', async () => {
    const result = await handler(
      restEvent('POST', '/anything', {
        apiKeyId: 'k1a2b3',
        headers: { 'content-type': 'application/json' },
        body: '{"broken":',
      }),
      context,
    );

    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ code: 'REQUEST.MALFORMED_JSON' });
  });

  it("sends a list's CSV variant to its streamed .csv twin (its answers are buffered)", async () => {
    const result = await handler(
      restEvent('GET', '/events/some-event/registrations', {
        apiKeyId: 'k1a2b3',
        headers: { accept: 'text/csv' },
      }),
      context,
    );

    expect(result.statusCode).toBe(307);
    expect(header(result, 'location')).toBe('registrations.csv');
  });

  it('answers a CORS preflight with 204 and no API key', async () => {
    const result = await handler(
      restEvent('OPTIONS', '/events', {
        headers: { origin: 'https://a.example', 'access-control-request-method': 'POST' },
      }),
      context,
    );

    expect(result.statusCode).toBe(204);
    expect(header(result, 'access-control-allow-origin')).toBe('*');
  });

  it('writes what an invocation counted as a CloudWatch EMF line when it ends', async () => {
    const run = randomBytes(4).toString('hex');
    const json = (body: unknown) => ({
      apiKeyId: 'key-1',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const post = (path: string, body: unknown) =>
      handler(restEvent('POST', path, json(body)), context);
    expect((await post('/users', { userId: `u-${run}`, name: 'Ana' })).statusCode).toBe(201);
    const event = { eventId: `e-${run}`, title: 'T', description: 'D', date: '2026-12-01' };
    const created = await post('/events', {
      ...event,
      location: 'L',
      capacity: 1,
      organizer: 'O',
      status: 'active',
    });
    expect(created.statusCode).toBe(201);
    const before = logLines.length;

    const registered = await post(`/events/e-${run}/registrations`, { userId: `u-${run}` });

    expect(registered.statusCode).toBe(201);
    const emf = logLines.slice(before).filter((line) => '_aws' in line);
    expect(emf).toEqual([
      expect.objectContaining({
        service: 'events',
        RegistrationConfirmed: 1,
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            {
              Namespace: 'Roster',
              Dimensions: [['service']],
              Metrics: [{ Name: 'RegistrationConfirmed', Unit: 'Count' }],
            },
          ],
        }),
      }),
    ]);
    // An invocation that counted nothing writes no metrics line.
    const quiet = logLines.length;
    await handler(restEvent('GET', '/health'), context);
    expect(logLines.slice(quiet).filter((line) => '_aws' in line)).toEqual([]);
  });

  it('returns a binary docs asset base64-encoded', async () => {
    const result = await handler(restEvent('GET', '/docs/assets/favicon-32x32.png'), context);

    expect(result.statusCode).toBe(200);
    expect(header(result, 'content-type')).toBe('image/png');
    expect(result.isBase64Encoded).toBe(true);
    const bytes = Buffer.from(result.body, 'base64');
    expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
  });
});
