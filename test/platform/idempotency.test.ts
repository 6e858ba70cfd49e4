import { randomUUID } from 'node:crypto';
import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MiddlewareHandler } from 'hono';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { conflict } from '../../src/platform/errors.js';
import type { AppEnv } from '../../src/platform/http/context.js';
import { idempotency } from '../../src/platform/http/idempotency.js';
import { jsonBody, jsonContent } from '../../src/platform/http/openapi.js';
import { createRoute } from '../../src/platform/http/routes.js';
import {
  type Call,
  createFixtureApp,
  createScratchTables,
  expectProblem,
  type ScratchTables,
} from '../support/fixture-app.js';
import { sleep, until } from '../support/poll.js';

const KEY_A = 'caller-a-key-0123456789';
const KEY_B = 'caller-b-key-0123456789';

interface ThingInput {
  id: string;
  /** How many executions answer 503 before one succeeds. */
  failTimes?: number;
  /** Throw an unexpected error (500) on the first execution. */
  crashOnce?: boolean;
  /** Answer 409 instead of creating. */
  conflict?: boolean;
  /** Wait for the test to release this gate before answering. */
  gate?: string;
  note?: string;
  nested?: { a?: number; b?: number };
}

const ThingSchema = z.object({ id: z.string().min(1), size: z.number().int().min(1) });

describe('Idempotency-Key', () => {
  let tables: ScratchTables;
  let call: Call;
  const gates = new Map<string, { promise: Promise<void>; release: () => void }>();

  /** One row per thing id whose `executions` attribute counts handler runs. */
  const executions = async (id: string): Promise<number> => {
    const out = await tables.dynamo.doc.send(
      new GetCommand({
        TableName: tables.events,
        Key: { PK: `THING#${id}`, SK: 'COUNT' },
        ConsistentRead: true,
      }),
    );
    return (out.Item?.executions as number | undefined) ?? 0;
  };

  const gate = (name: string) => {
    let release = () => {};
    const promise = new Promise<void>((done) => {
      release = done;
    });
    gates.set(name, { promise, release });
    return release;
  };

  const post = (input: ThingInput, key: string | undefined, caller = KEY_A, path = '/things') =>
    call(path, {
      method: 'POST',
      key: caller,
      json: input,
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });

  const handler: MiddlewareHandler<AppEnv> = async (c) => {
    const input = (await c.req.json()) as ThingInput;
    const out = await tables.dynamo.doc.send(
      new UpdateCommand({
        TableName: tables.events,
        Key: { PK: `THING#${input.id}`, SK: 'COUNT' },
        UpdateExpression: 'ADD executions :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const run = out.Attributes?.executions as number;
    if (input.gate) await gates.get(input.gate)?.promise;
    if (input.crashOnce && run === 1) throw new Error('unexpected');
    if (input.failTimes !== undefined && run <= input.failTimes) {
      return c.json({ error: 'try again' }, 503);
    }
    if (input.conflict) throw conflict('THINGS.EXISTS', `Thing ${input.id} already exists.`);
    c.header('location', `/things/${input.id}`);
    return c.json({ id: input.id, run, token: randomUUID() }, 201);
  };

  beforeAll(async () => {
    tables = await createScratchTables();
    const idem = idempotency({ client: tables.dynamo.client, tableName: tables.idempotency });
    const shortLived = idempotency({
      client: tables.dynamo.client,
      tableName: tables.idempotency,
      inFlightSeconds: 0.5,
    });
    const twoSeconds = idempotency({
      client: tables.dynamo.client,
      tableName: tables.idempotency,
      inFlightSeconds: 2,
    });
    const fixture = createFixtureApp({ apiKeys: [KEY_A, KEY_B] });
    fixture.app.post('/things', idem, handler);
    fixture.app.post('/short-lived-things', shortLived, handler);
    fixture.app.post('/two-second-things', twoSeconds, handler);
    fixture.app.openapi(
      createRoute({
        method: 'post',
        path: '/validated-things',
        middleware: [idem] as const,
        request: { body: jsonBody(ThingSchema) },
        responses: { 201: jsonContent(ThingSchema, 'Created') },
      }),
      async (c) => {
        const input = c.req.valid('json');
        await tables.dynamo.doc.send(
          new UpdateCommand({
            TableName: tables.events,
            Key: { PK: `THING#${input.id}`, SK: 'COUNT' },
            UpdateExpression: 'ADD executions :one',
            ExpressionAttributeValues: { ':one': 1 },
          }),
        );
        return c.json(input, 201);
      },
    );
    call = fixture.call;
  });

  afterEach(() => {
    for (const { release } of gates.values()) release();
    gates.clear();
  });

  it('replays the first response for the same key and body, running the handler once', async () => {
    const id = randomUUID();
    const key = randomUUID();

    const first = await post({ id }, key);
    const second = await post({ id }, key);

    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.text()).toBe(await first.text());
    expect(await executions(id)).toBe(1);
  });

  it('replays the content type and Location of the first response', async () => {
    const id = randomUUID();
    const key = randomUUID();

    const first = await post({ id }, key);
    const replay = await post({ id }, key);

    expect(replay.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(replay.headers.get('location')).toBe(`/things/${id}`);
  });

  it('gives the replay a request id of its own', async () => {
    const id = randomUUID();
    const key = randomUUID();

    const first = await post({ id }, key);
    const replay = await post({ id }, key);

    expect(replay.headers.get('x-request-id')).toBeTruthy();
    expect(replay.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
  });

  it('replays when the same body arrives with its JSON keys in another order', async () => {
    const id = randomUUID();
    const key = randomUUID();

    const first = await call('/things', {
      method: 'POST',
      key: KEY_A,
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: `{"id":"${id}","note":"n","nested":{"a":1,"b":2}}`,
    });
    const second = await call('/things', {
      method: 'POST',
      key: KEY_A,
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: `{ "nested": { "b": 2, "a": 1 }, "note": "n", "id": "${id}" }`,
    });

    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.json()).toEqual(await first.json());
    expect(await executions(id)).toBe(1);
  });

  it('answers 422 when the same key comes back with a different body', async () => {
    const id = randomUUID();
    const key = randomUUID();

    await post({ id, note: 'first' }, key);
    const res = await post({ id, note: 'second' }, key);

    await expectProblem(res, 422, 'IDEMPOTENCY.KEY_REUSED');
    expect(await executions(id)).toBe(1);
  });

  it('answers 409 while the first request with the key is still running', async () => {
    const id = randomUUID();
    const key = randomUUID();
    const release = gate(id);

    const first = post({ id, gate: id }, key);
    await waitFor(async () => (await executions(id)) === 1);
    const second = await post({ id, gate: id }, key);
    release();
    const firstRes = await first;

    await expectProblem(second, 409, 'IDEMPOTENCY.IN_PROGRESS');
    // The key stays claimed for up to 60 s (the default): the answer says so.
    const retryAfter = Number(second.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(firstRes.status).toBe(201);
    expect(await executions(id)).toBe(1);
  });

  it('replays once the first request has finished', async () => {
    const id = randomUUID();
    const key = randomUUID();
    const release = gate(id);

    const first = post({ id, gate: id }, key);
    await waitFor(async () => (await executions(id)) === 1);
    release();
    const firstRes = await first;
    const later = await post({ id, gate: id }, key);

    expect(later.status).toBe(201);
    expect(later.headers.get('idempotent-replayed')).toBe('true');
    expect(await later.text()).toBe(await firstRes.text());
  });

  it('lets a retry take over a key whose first request stopped answering', async () => {
    const id = randomUUID();
    const key = randomUUID();
    gate(id); // never released by the test: the first request "hangs"

    void post({ id, gate: id }, key, KEY_A, '/short-lived-things');
    await waitFor(async () => (await executions(id)) === 1);
    await sleep(700);
    const retry = await post({ id }, key, KEY_A, '/short-lived-things');

    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await executions(id)).toBe(2);
  });

  it('tells the retry of a crashed request how long its key stays claimed, and frees it then', async () => {
    const id = randomUUID();
    const key = randomUUID();
    const body = { id, gate: id };
    // The first request hangs holding the key, as one whose process died would.
    const release = gate(id);
    const first = post(body, key, KEY_A, '/two-second-things');
    await waitFor(async () => (await executions(id)) === 1);

    const refused = await post(body, key, KEY_A, '/two-second-things');
    const retryAfter = Number(refused.headers.get('retry-after'));
    await sleep(retryAfter * 1000);
    gates.delete(id); // the retry's own run does not hang
    const retry = await post(body, key, KEY_A, '/two-second-things');
    release();
    await first;

    await expectProblem(refused, 409, 'IDEMPOTENCY.IN_PROGRESS');
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(retry.status).toBe(201);
    expect(await executions(id)).toBe(2);
  });

  it('keeps the keys of different callers apart', async () => {
    const id = randomUUID();
    const key = randomUUID();

    const fromA = await post({ id }, key, KEY_A);
    const fromB = await post({ id }, key, KEY_B);

    expect(fromA.status).toBe(201);
    expect(fromB.status).toBe(201);
    expect(fromB.headers.get('idempotent-replayed')).toBeNull();
    expect(await executions(id)).toBe(2);
  });

  it('keeps the same key on different routes apart', async () => {
    const id = randomUUID();
    const key = randomUUID();

    await post({ id }, key, KEY_A, '/things');
    const other = await post({ id }, key, KEY_A, '/short-lived-things');

    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(await executions(id)).toBe(2);
  });

  it('does not remember a 5xx answer: the retry runs the handler again', async () => {
    const id = randomUUID();
    const key = randomUUID();

    const failed = await post({ id, failTimes: 1 }, key);
    const retried = await post({ id, failTimes: 1 }, key);
    const replayed = await post({ id, failTimes: 1 }, key);

    expect(failed.status).toBe(503);
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(await executions(id)).toBe(2);
  });

  it('does not remember an unexpected error: the retry runs the handler again', async () => {
    const id = randomUUID();
    const key = randomUUID();

    const crashed = await post({ id, crashOnce: true }, key);
    const retried = await post({ id, crashOnce: true }, key);

    await expectProblem(crashed, 500, 'INTERNAL');
    expect(retried.status).toBe(201);
    expect(await executions(id)).toBe(2);
  });

  it('does not remember the answer to a client that went away: its retry with the key runs again', async () => {
    // A client gives up waiting (its timeout) and retries with the same key; the first attempt
    // then fails. Its answer, turned into REQUEST.ABORTED for a client nobody will answer, must
    // not become the key's answer: the retry would get a 400 it never caused, for 24 hours.
    const id = randomUUID();
    const key = randomUUID();
    const release = gate(id);
    const client = new AbortController();

    const first = call('/things', {
      method: 'POST',
      key: KEY_A,
      json: { id, gate: id, crashOnce: true },
      headers: { 'idempotency-key': key },
      signal: client.signal,
    });
    await waitFor(async () => (await executions(id)) === 1);
    client.abort();
    release();
    await expectProblem(await first, 400, 'REQUEST.ABORTED');
    const retried = await post({ id, gate: id, crashOnce: true }, key);

    expect(retried.status).toBe(201);
    expect(await executions(id)).toBe(2);
  });

  it('replays a 4xx answer like any other first response', async () => {
    const id = randomUUID();
    const key = randomUUID();

    const first = await post({ id, conflict: true }, key);
    const replay = await post({ id, conflict: true }, key);

    const problem = await expectProblem(first, 409, 'THINGS.EXISTS');
    expect(replay.status).toBe(409);
    expect(replay.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await replay.json()).toEqual(problem);
    expect(await executions(id)).toBe(1);
  });

  it('runs the handler every time when no Idempotency-Key is sent', async () => {
    const id = randomUUID();

    await post({ id }, undefined);
    const second = await post({ id }, undefined);

    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(await executions(id)).toBe(2);
  });

  it.each([
    ['300 characters', 'k'.repeat(300)],
    ['a space', 'two words'],
    ['a Latin-1 character', 'clé-été'],
  ])('answers 400 for an Idempotency-Key with %s, without running the handler', async (_, key) => {
    const id = randomUUID();

    const res = await call('/things', {
      method: 'POST',
      key: KEY_A,
      json: { id },
      headers: { 'idempotency-key': key },
    });

    await expectProblem(res, 400, 'IDEMPOTENCY.KEY_INVALID');
    expect(await executions(id)).toBe(0);
  });

  it('stores records that expire about 24 hours later', async () => {
    const id = randomUUID();
    const key = randomUUID();
    const before = Math.floor(Date.now() / 1000);

    await post({ id }, key);

    const items = await scanAll(tables);
    const completed = items.filter((item) => item.status === 'COMPLETED');
    expect(completed.length).toBeGreaterThan(0);
    const newest = Math.max(...completed.map((item) => Number(item.expiration)));
    expect(newest).toBeGreaterThanOrEqual(before + 24 * 3600);
    expect(newest).toBeLessThanOrEqual(before + 24 * 3600 + 60);
  });

  it('stores neither the key nor the caller’s API key in the record id', async () => {
    const key = `visible-${randomUUID()}`;

    await post({ id: randomUUID() }, key);

    const items = await scanAll(tables);
    const text = JSON.stringify(items);
    expect(text).not.toContain(key);
    expect(text).not.toContain(KEY_A);
  });

  it('works as route middleware on an OpenAPI route, and replays its 422', async () => {
    const id = randomUUID();
    const key = randomUUID();

    const created = await post({ id, size: 1 } as ThingInput, key, KEY_A, '/validated-things');
    const replay = await post({ id, size: 1 } as ThingInput, key, KEY_A, '/validated-things');
    const invalidKey = randomUUID();
    const invalid = await post(
      { id, size: 0 } as ThingInput,
      invalidKey,
      KEY_A,
      '/validated-things',
    );
    const invalidAgain = await post(
      { id, size: 0 } as ThingInput,
      invalidKey,
      KEY_A,
      '/validated-things',
    );

    expect(created.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    await expectProblem(invalid, 422, 'REQUEST.VALIDATION_FAILED');
    expect(invalidAgain.status).toBe(422);
    expect(await executions(id)).toBe(1);
  });

  it('answers 503 without running the handler when the idempotency store is throttled', async () => {
    const throttled = createDynamoClients({
      region: 'us-east-1',
      endpoint: inject('dynamodbEndpoint'),
    });
    throttled.client.middlewareStack.add(
      () => async () => {
        const error = new Error(`Rate exceeded for ${tables.idempotency}`);
        error.name = 'ProvisionedThroughputExceededException';
        throw error;
      },
      { step: 'initialize', name: 'injectThrottling' },
    );
    const fixture = createFixtureApp({ apiKeys: [KEY_A] });
    fixture.app.post(
      '/things',
      idempotency({ client: throttled.client, tableName: tables.idempotency }),
      handler,
    );
    const id = randomUUID();

    const res = await fixture.call('/things', {
      method: 'POST',
      key: KEY_A,
      json: { id },
      headers: { 'idempotency-key': randomUUID() },
    });

    await expectProblem(res, 503, 'IDEMPOTENCY.UNAVAILABLE', [tables.idempotency, 'Rate']);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await executions(id)).toBe(0);
  });
});

async function scanAll(tables: ScratchTables): Promise<Record<string, unknown>[]> {
  const out = await tables.dynamo.doc.send(
    new ScanCommand({ TableName: tables.idempotency, ConsistentRead: true }),
  );
  return out.Items ?? [];
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const met = await until(condition, (value) => value, { timeoutMs, intervalMs: 20 });
  if (!met) throw new Error('condition not met in time');
}
