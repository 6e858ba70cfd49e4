import { beforeAll, describe, expect, it } from 'vitest';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { createTestApp, type TestApp } from '../support/app.js';

/*
 * How a declared route reads a request before its handler runs — the content-type gate, an empty
 * or absent body, an optional body, repeated query parameters, path and header values — on real
 * routes (POST /events takes a required body, POST /calendar/feed-link an optional one), so that
 * the route layer answers what clients already get.
 */

let app: TestApp;

beforeAll(async () => {
  app = await createTestApp({ modules: [eventsModule] });
});

const post = (path: string, headers: Record<string, string>, body?: string) =>
  app.call(path, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });

/** Status and problem body, without the request id. */
async function answer(res: Response) {
  const { requestId: _, ...problem } = (await res.json()) as Record<string, unknown>;
  return { status: res.status, problem };
}

const badRequest = (instance: string, detail: string) => ({
  status: 400,
  problem: {
    type: '/problems/request-invalid',
    title: 'Bad Request',
    status: 400,
    detail,
    instance,
    code: 'REQUEST.INVALID',
  },
});

const invalid = (instance: string, errors: { path: string; message: string }[]) => ({
  status: 422,
  problem: {
    type: '/problems/request-validation-failed',
    title: 'Unprocessable Content',
    status: 422,
    detail: 'The request did not match the schema.',
    instance,
    code: 'REQUEST.VALIDATION_FAILED',
    errors,
  },
});

const missing = (field: string) => ({
  path: `body.${field}`,
  message: 'Invalid input: expected string, received undefined',
});

describe('a required JSON body', () => {
  it('answers 400 for an empty body sent as JSON', async () => {
    const res = await post('/events', { 'content-type': 'application/json' }, '');

    expect(await answer(res)).toEqual(badRequest('/events', 'Malformed JSON in request body'));
  });

  it.each([
    ['text/plain', ''],
    ['application/json;foo', '{}'],
    ['application/json ; charset=utf-8', '{}'],
  ])('answers 400 Unsupported Media Type for content type %j', async (type, body) => {
    const res = await post('/events', { 'content-type': type }, body);

    expect(await answer(res)).toEqual(badRequest('/events', 'Unsupported Media Type'));
  });

  it.each([
    ['no content type and no body', {}],
    ['a vendor JSON type', { 'content-type': 'application/vnd.roster+json' }],
  ])('validates the body as {} or as sent: %s', async (_, headers) => {
    const body = 'content-type' in headers ? '{}' : undefined;

    const res = await post('/events', headers, body);

    const { problem } = await answer(res);
    expect(res.status).toBe(422);
    expect((problem.errors as { path: string }[]).slice(0, 2)).toEqual([
      missing('title'),
      missing('description'),
    ]);
  });
});

describe('an optional JSON body', () => {
  it('is not validated when none is sent', async () => {
    const res = await post('/calendar/feed-link', {});

    expect(res.status).toBe(200);
  });

  it('is validated when JSON is sent', async () => {
    const res = await post(
      '/calendar/feed-link',
      { 'content-type': 'application/json' },
      '{"expiresInDays":"soon"}',
    );

    expect(await answer(res)).toEqual(
      invalid('/calendar/feed-link', [
        { path: 'body.expiresInDays', message: 'Invalid input: expected number, received string' },
      ]),
    );
  });

  it('answers 400 for an empty body sent as JSON, and for another content type', async () => {
    const empty = await post('/calendar/feed-link', { 'content-type': 'application/json' }, '');
    const text = await post('/calendar/feed-link', { 'content-type': 'text/plain' }, '');

    expect(await answer(empty)).toEqual(
      badRequest('/calendar/feed-link', 'Malformed JSON in request body'),
    );
    expect(await answer(text)).toEqual(badRequest('/calendar/feed-link', 'Unsupported Media Type'));
  });

  it('reads a documented header whatever its case', async () => {
    const res = await post(
      '/calendar/feed-link',
      { 'Idempotency-Key': `k-${Date.now()}`, 'content-type': 'application/json' },
      '{}',
    );

    expect(res.status).toBe(200);
  });
});

describe('query and path parameters', () => {
  it('takes a repeated query parameter as a list, which a number refuses', async () => {
    const res = await app.call('/events?limit=1&limit=2');

    expect(await answer(res)).toEqual(
      invalid('/events', [
        { path: 'query.limit', message: 'Invalid input: expected number, received NaN' },
      ]),
    );
  });

  it('ignores a query parameter the route does not declare', async () => {
    const res = await app.call('/events?limit=2&nope=1');

    expect(res.status).toBe(200);
  });

  it('validates a path parameter decoded', async () => {
    const res = await app.call('/events/%20bad%20');

    expect(await answer(res)).toEqual(
      invalid('/events/ bad ', [
        { path: 'path.eventId', message: 'must be 1–100 characters of A-Z a-z 0-9 . _ : -' },
      ]),
    );
  });
});
