import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/platform/errors.js';
import { keyId } from '../../src/platform/http/auth.js';
import { createTestApp, TEST_API_KEY, type TestApp } from '../support/app.js';
import { createFixtureApp, expectProblem, type FixtureApp } from '../support/fixture-app.js';

const KEYS = ['alpha-key-0123456789', 'bravo-key-0123456789', 'charlie-key-0123456789'];

describe('API keys (local)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp({ env: { API_KEYS: KEYS.join(',') } });
  });

  it.each(KEYS)('accepts %s, one of several keys in API_KEYS', async (key) => {
    const res = await app.call('/nowhere', { key });

    // Past authentication: the unknown route answers 404, not 401.
    await expectProblem(res, 404, 'REQUEST.ROUTE_NOT_FOUND');
  });

  it('answers 401 without a key, with a WWW-Authenticate challenge', async () => {
    const res = await app.call('/nowhere', { key: null });

    const problem = await expectProblem(res, 401, 'AUTH.UNAUTHORIZED');
    expect(res.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect(problem.title).toBe('Unauthorized');
  });

  it('answers 401 for a wrong key', async () => {
    const res = await app.call('/nowhere', { key: 'not-a-key' });

    await expectProblem(res, 401, 'AUTH.UNAUTHORIZED');
  });

  it('answers 401 for a key that is a prefix of a valid key', async () => {
    const res = await app.call('/nowhere', { key: KEYS[0]?.slice(0, -1) });

    await expectProblem(res, 401, 'AUTH.UNAUTHORIZED');
  });

  it('answers 401 for a valid key with extra characters appended', async () => {
    const res = await app.call('/nowhere', { key: `${KEYS[1]}x` });

    await expectProblem(res, 401, 'AUTH.UNAUTHORIZED');
  });

  it('answers 401 for the keys joined as one value', async () => {
    const res = await app.call('/nowhere', { key: KEYS.join(',') });

    await expectProblem(res, 401, 'AUTH.UNAUTHORIZED');
  });

  it('no longer accepts the default test key once API_KEYS replaces it', async () => {
    const res = await app.call('/nowhere', { key: TEST_API_KEY });

    await expectProblem(res, 401, 'AUTH.UNAUTHORIZED');
  });

  it('answers 401 for a malformed Authorization header', async () => {
    const basic = await app.call('/nowhere', {
      key: null,
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    const empty = await app.call('/nowhere', { key: null, headers: { authorization: 'Bearer' } });

    await expectProblem(basic, 401, 'AUTH.UNAUTHORIZED');
    await expectProblem(empty, 401, 'AUTH.UNAUTHORIZED');
  });

  it('answers 401 for a bearer token when no token verifier is configured', async () => {
    const res = await app.call('/nowhere', {
      key: null,
      headers: { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig' },
    });

    await expectProblem(res, 401, 'AUTH.UNAUTHORIZED');
  });

  it.each([
    ['GET', '/'],
    ['GET', '/health'],
    ['HEAD', '/health'],
    ['GET', '/openapi.json'],
    ['GET', '/docs'],
  ])('lets %s %s through without a key', async (method, path) => {
    const res = await app.call(path, { method, key: null });

    expect(res.status).toBe(200);
  });

  it('requires a key for a public path under another method', async () => {
    const res = await app.call('/health', { method: 'POST', key: null });

    await expectProblem(res, 401, 'AUTH.UNAUTHORIZED');
  });

  it('requires a key for a public path with a trailing slash', async () => {
    const res = await app.call('/health/', { key: null });

    await expectProblem(res, 401, 'AUTH.UNAUTHORIZED');
  });
});

describe('the caller identity', () => {
  let fixture: FixtureApp;

  beforeAll(() => {
    fixture = createFixtureApp({
      apiKeys: KEYS,
      verifyToken: async (token) => {
        if (token !== 'good-token') {
          throw new AppError('unauthorized', 'AUTH.TOKEN_INVALID', 'Unauthorized', {
            detail: 'The token is not valid.',
          });
        }
        return { id: 'user:alice', via: 'jwt', subject: 'alice' };
      },
    });
    fixture.app.get('/whoami', (c) => c.json(c.get('caller') ?? null, 200));
  });

  it('names an API-key caller by a digest, never by the key itself', async () => {
    const res = await fixture.call('/whoami', { key: KEYS[2] });

    const text = await res.text();
    expect(res.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ id: keyId(KEYS[2] ?? ''), via: 'api-key' });
    expect(text).not.toContain(KEYS[2]);
  });

  it('names a bearer-token caller by what the verifier returned', async () => {
    const res = await fixture.call('/whoami', {
      key: null,
      headers: { authorization: 'Bearer good-token' },
    });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'user:alice', via: 'jwt', subject: 'alice' });
  });

  it('answers the verifier’s 401 for a bad bearer token', async () => {
    const res = await fixture.call('/whoami', {
      key: null,
      headers: { authorization: 'Bearer bad-token' },
    });

    await expectProblem(res, 401, 'AUTH.TOKEN_INVALID');
  });

  it('accepts the scheme name in any case', async () => {
    const res = await fixture.call('/whoami', {
      key: null,
      headers: { authorization: 'bearer good-token' },
    });

    expect(res.status).toBe(200);
  });
});
