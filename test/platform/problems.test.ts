import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_BODY_BYTES } from '../../src/platform/http/body.js';
import { jsonBody, jsonContent, problemResponses } from '../../src/platform/http/openapi.js';
import { paginationQuery } from '../../src/platform/http/pagination.js';
import { createRoute } from '../../src/platform/http/routes.js';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  type Call,
  createFixtureApp,
  createScratchTables,
  expectProblem,
  type ScratchTables,
} from '../support/fixture-app.js';

const SECRET = 'secret table arn:aws:dynamodb:us-east-1:123456789012:table/roster-events';

const WidgetSchema = z.object({
  name: z.string().min(1).max(20),
  size: z.number().int().min(1).max(10),
});

const createWidget = createRoute({
  method: 'post',
  path: '/widgets',
  request: { body: jsonBody(WidgetSchema) },
  responses: { 201: jsonContent(WidgetSchema, 'Created'), ...problemResponses(400, 422) },
});

const listWidgets = createRoute({
  method: 'get',
  path: '/widgets',
  request: { query: paginationQuery },
  responses: { 200: jsonContent(z.array(WidgetSchema), 'Widgets') },
});

/** A DynamoDB client whose every call fails the way a throttled table does. */
function throttledTables(tables: ScratchTables) {
  tables.dynamo.client.middlewareStack.add(
    () => async () => {
      const error = new Error(`Throughput exceeded for table ${tables.events}`);
      error.name = 'ProvisionedThroughputExceededException';
      throw error;
    },
    { step: 'initialize', name: 'injectThrottling' },
  );
  return tables;
}

describe('problem+json error responses', () => {
  let call: Call;
  let tables: ScratchTables;

  beforeAll(async () => {
    tables = throttledTables(await createScratchTables());
    const fixture = createFixtureApp();
    fixture.app.openapi(createWidget, (c) => c.json(c.req.valid('json'), 201));
    fixture.app.openapi(listWidgets, (c) => c.json([], 200));
    fixture.app.get('/widgets/:id', (c) => c.notFound());
    fixture.app.post('/echo', async (c) => c.json({ bytes: (await c.req.text()).length }, 200));
    fixture.app.get('/boom', () => {
      throw new Error(SECRET);
    });
    fixture.app.get('/boom-async', async () => {
      await Promise.resolve();
      throw new TypeError(`Cannot read properties of undefined (reading '${SECRET}')`);
    });
    fixture.app.get('/throttled', async (c) => {
      await tables.dynamo.doc.send(
        new GetCommand({ TableName: tables.events, Key: { PK: 'x', SK: 'y' } }),
      );
      return c.json({ ok: true }, 200);
    });
    call = fixture.call;
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await call('/widgets', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": "a",',
    });

    await expectProblem(res, 400, 'REQUEST.MALFORMED_JSON');
  });

  it('does not echo the JSON parser message (raw exception text) for malformed JSON', async () => {
    const res = await call('/widgets', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"privateField": oops}',
    });

    const problem = await expectProblem(res, 400, 'REQUEST.MALFORMED_JSON', [
      'privateField',
      'oops',
    ]);
    expect(problem.detail).not.toMatch(/Unexpected|token|position/i);
  });

  it('answers 422 naming the required fields when the JSON body is missing', async () => {
    const res = await call('/widgets', { method: 'POST' });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(['body.name', 'body.size']);
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const res = await call('/echo', { method: 'POST', json: { pad: 'x'.repeat(MAX_BODY_BYTES) } });

    await expectProblem(res, 413, 'REQUEST.BODY_TOO_LARGE');
  });

  it('answers 413 from Content-Length alone, before reading the body', async () => {
    const res = await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) },
      body: JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) }),
    });

    await expectProblem(res, 413, 'REQUEST.BODY_TOO_LARGE');
  });

  it('answers 413 for a chunked body over 64 KiB without Content-Length', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(8 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"pad":"'));
        if (sent >= 32) {
          controller.enqueue(new TextEncoder().encode('"}'));
          controller.close();
          return;
        }
        sent += 1;
        controller.enqueue(chunk);
      },
    });

    const res = await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body,
      duplex: 'half',
    } as RequestInit);

    await expectProblem(res, 413, 'REQUEST.BODY_TOO_LARGE');
    expect(sent).toBeLessThan(32);
  });

  it('accepts a body of exactly 64 KiB', async () => {
    const body = `{"pad":"${'x'.repeat(MAX_BODY_BYTES - 10)}"}`;
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);

    const res = await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: MAX_BODY_BYTES });
  });

  it('answers 415 for a text/plain body', async () => {
    const res = await call('/widgets', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"name":"a","size":1}',
    });

    await expectProblem(res, 415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE');
    expect(res.headers.get('accept-post')).toBe('application/json');
  });

  it('answers 415 for a body sent without a content type', async () => {
    const res = await call('/echo', { method: 'POST', body: new Uint8Array([123, 125]) });

    await expectProblem(res, 415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 404 for an unknown route when the caller has a valid key', async () => {
    const res = await call('/no-such-route');

    const problem = await expectProblem(res, 404, 'REQUEST.ROUTE_NOT_FOUND');
    expect(problem.instance).toBe('/no-such-route');
  });

  it('answers 405 with an Allow header for a wrong method on a known path', async () => {
    const res = await call('/widgets', { method: 'DELETE' });

    await expectProblem(res, 405, 'REQUEST.METHOD_NOT_ALLOWED');
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST');
  });

  it('answers 404, not 405, when a handler of the method used reports a missing resource', async () => {
    const res = await call('/widgets/w-404');

    await expectProblem(res, 404);
    expect(res.headers.get('allow')).toBeNull();
  });

  it('answers 405 on a parameterised path for a method it does not serve', async () => {
    const res = await call('/widgets/w-1', { method: 'PUT', json: { name: 'a' } });

    await expectProblem(res, 405, 'REQUEST.METHOD_NOT_ALLOWED');
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('answers 422 with one {path,message} per invalid body field', async () => {
    const res = await call('/widgets', { method: 'POST', json: { name: '', size: 99 } });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { path: 'body.name', message: expect.any(String) },
        { path: 'body.size', message: expect.any(String) },
      ]),
    );
    expect(problem.errors).toHaveLength(2);
  });

  it('answers 422 naming the query parameter for an out-of-range limit', async () => {
    const res = await call('/widgets?limit=0');

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual([{ path: 'query.limit', message: expect.any(String) }]);
  });

  it('answers 500 with a generic detail and no exception text when a handler throws', async () => {
    const res = await call('/boom');

    const problem = await expectProblem(res, 500, 'INTERNAL', [SECRET, 'secret', 'arn:']);
    expect(problem.title).toBe('Internal Server Error');
  });

  it('answers 500 without internals when an async handler rejects', async () => {
    const res = await call('/boom-async');

    await expectProblem(res, 500, 'INTERNAL', [SECRET, 'TypeError', 'Cannot read']);
  });

  it('answers 503 with Retry-After when DynamoDB throttles', async () => {
    const res = await call('/throttled');

    await expectProblem(res, 503, 'DEPENDENCY.UNAVAILABLE', [tables.events, 'Throughput']);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('problem+json on the real app', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });

  it('answers 405 with Allow for DELETE /openapi.json with a key', async () => {
    const res = await app.call('/openapi.json', { method: 'DELETE' });

    await expectProblem(res, 405, 'REQUEST.METHOD_NOT_ALLOWED');
    expect(res.headers.get('allow')?.split(', ')).toEqual(['GET', 'HEAD', 'OPTIONS']);
  });

  it('answers 404 problem for an unknown route with a key', async () => {
    const res = await app.call('/definitely/not/here');

    await expectProblem(res, 404, 'REQUEST.ROUTE_NOT_FOUND', Object.values(app.config.tables));
  });

  it('answers 401 for an unknown route without a key (authentication before routing)', async () => {
    const res = await app.call('/definitely/not/here', { key: null });

    await expectProblem(res, 401, 'AUTH.UNAUTHORIZED');
  });
});
