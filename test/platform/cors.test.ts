import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { createFixtureApp, expectProblem } from '../support/fixture-app.js';

const preflight = (origin: string) => ({
  method: 'OPTIONS',
  key: null,
  headers: {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type,idempotency-key,x-api-key',
  },
});

const listOf = (value: string | null) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);

describe('CORS with the default origins (*)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });

  it('answers a preflight for /events with 204 and no API key', async () => {
    const res = await app.call('/events', preflight('https://a.example'));

    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(listOf(res.headers.get('access-control-allow-methods'))).toEqual(
      expect.arrayContaining(['get', 'post', 'put', 'delete']),
    );
  });

  it('allows Content-Type, Authorization, X-Api-Key and Idempotency-Key in a preflight', async () => {
    const res = await app.call('/events', preflight('https://a.example'));

    expect(listOf(res.headers.get('access-control-allow-headers'))).toEqual(
      expect.arrayContaining(['content-type', 'authorization', 'x-api-key', 'idempotency-key']),
    );
  });

  it('allows the headers an AWS-signed browser request adds (X-Amz-Date, X-Amz-Security-Token)', async () => {
    const res = await app.call('/events', {
      ...preflight('https://a.example'),
      headers: {
        origin: 'https://a.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-amz-date,x-amz-security-token',
      },
    });

    expect(res.status).toBe(204);
    expect(listOf(res.headers.get('access-control-allow-headers'))).toEqual(
      expect.arrayContaining(['x-amz-date', 'x-amz-security-token']),
    );
  });

  it('answers a preflight for a path with parameters', async () => {
    const res = await app.call('/events/e-1/registrations/u-1', {
      ...preflight('https://a.example'),
      headers: { origin: 'https://a.example', 'access-control-request-method': 'DELETE' },
    });

    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('adds Access-Control-Allow-Origin to a normal response and exposes x-request-id', async () => {
    const res = await app.call('/health', { key: null, headers: { origin: 'https://a.example' } });

    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(listOf(res.headers.get('access-control-expose-headers'))).toEqual(
      expect.arrayContaining(['x-request-id', 'link', 'retry-after', 'idempotent-replayed']),
    );
  });

  it('adds Access-Control-Allow-Origin to a 401', async () => {
    const res = await app.call('/events', { key: null, headers: { origin: 'https://a.example' } });

    await expectProblem(res, 401);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('adds Access-Control-Allow-Origin to a 404', async () => {
    const res = await app.call('/nowhere', { headers: { origin: 'https://a.example' } });

    await expectProblem(res, 404);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('CORS on errors raised by handlers', () => {
  it('adds Access-Control-Allow-Origin to a 500', async () => {
    const { app, call } = createFixtureApp();
    app.get('/boom', () => {
      throw new Error('boom');
    });

    const res = await call('/boom', { headers: { origin: 'https://a.example' } });

    await expectProblem(res, 500);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('CORS with CORS_ORIGINS=https://a.example', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp({ env: { CORS_ORIGINS: 'https://a.example' } });
  });

  it('allows the configured origin and varies on Origin', async () => {
    const res = await app.call('/health', { key: null, headers: { origin: 'https://a.example' } });

    expect(res.headers.get('access-control-allow-origin')).toBe('https://a.example');
    expect(listOf(res.headers.get('vary'))).toContain('origin');
  });

  it('does not allow another origin on a normal response', async () => {
    const res = await app.call('/health', { key: null, headers: { origin: 'https://b.example' } });

    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('does not allow another origin in a preflight', async () => {
    const res = await app.call('/events', preflight('https://b.example'));

    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows the configured origin in a preflight', async () => {
    const res = await app.call('/events', preflight('https://a.example'));

    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://a.example');
  });

  it('allows the configured origin on an error response', async () => {
    const res = await app.call('/events', { key: null, headers: { origin: 'https://a.example' } });

    await expectProblem(res, 401);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://a.example');
  });
});

describe('CORS with several origins', () => {
  it('allows each origin listed in CORS_ORIGINS', async () => {
    const app = await createTestApp({
      env: { CORS_ORIGINS: 'https://a.example, https://b.example' },
    });

    const a = await app.call('/health', { key: null, headers: { origin: 'https://a.example' } });
    const b = await app.call('/health', { key: null, headers: { origin: 'https://b.example' } });

    expect(a.headers.get('access-control-allow-origin')).toBe('https://a.example');
    expect(b.headers.get('access-control-allow-origin')).toBe('https://b.example');
  });
});
