import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { expectProblem, isUuid } from '../support/fixture-app.js';

describe('x-request-id', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });

  it('generates a UUID when the request has none', async () => {
    const res = await app.call('/health', { key: null });

    expect(res.status).toBe(200);
    expect(isUuid(res.headers.get('x-request-id'))).toBe(true);
  });

  it('generates a different id for each request', async () => {
    const first = await app.call('/health', { key: null });
    const second = await app.call('/health', { key: null });

    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
  });

  it('echoes a valid id given by the client', async () => {
    const res = await app.call('/health', {
      key: null,
      headers: { 'x-request-id': 'client-req.42:abc_DEF' },
    });

    expect(res.headers.get('x-request-id')).toBe('client-req.42:abc_DEF');
  });

  it('replaces an id of 300 characters', async () => {
    const res = await app.call('/health', {
      key: null,
      headers: { 'x-request-id': 'a'.repeat(300) },
    });

    expect(isUuid(res.headers.get('x-request-id'))).toBe(true);
  });

  it('replaces an id containing spaces or markup', async () => {
    const spaced = await app.call('/health', {
      key: null,
      headers: { 'x-request-id': 'has spaces in it' },
    });
    const markup = await app.call('/health', {
      key: null,
      headers: { 'x-request-id': '<script>alert(1)</script>' },
    });

    expect(isUuid(spaced.headers.get('x-request-id'))).toBe(true);
    expect(isUuid(markup.headers.get('x-request-id'))).toBe(true);
  });

  it('carries the id on a 401 and repeats it in the problem body', async () => {
    const res = await app.call('/anything', {
      key: null,
      headers: { 'x-request-id': 'trace-401' },
    });

    const problem = await expectProblem(res, 401);
    expect(res.headers.get('x-request-id')).toBe('trace-401');
    expect(problem.requestId).toBe('trace-401');
  });

  it('carries a generated id on a 404 and repeats it in the problem body', async () => {
    const res = await app.call('/anything');

    const problem = await expectProblem(res, 404);
    expect(isUuid(res.headers.get('x-request-id'))).toBe(true);
    expect(problem.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('carries the id on a CORS preflight', async () => {
    const res = await app.call('/events', {
      method: 'OPTIONS',
      key: null,
      headers: {
        origin: 'https://a.example',
        'access-control-request-method': 'POST',
        'x-request-id': 'preflight-1',
      },
    });

    expect(res.status).toBe(204);
    expect(res.headers.get('x-request-id')).toBe('preflight-1');
  });
});
