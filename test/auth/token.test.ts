import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authModule } from '../../src/modules/auth/auth.module.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { MemoryMetrics } from '../../src/platform/metrics/metrics.js';
import {
  LOCAL_CLIENT_ID,
  LOCAL_ISSUER,
  localTokenIssuer,
  SIGNING_KEY_FILE,
} from '../../src/runtime/local/token-issuer.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/fixture-app.js';
import {
  addUser,
  claimsOf,
  createLocalIssuer,
  type LocalIssuer,
  PASSWORD,
  signIn,
} from './fixtures.js';

const token = (app: TestApp, json: unknown) =>
  app.call('/auth/token', { method: 'POST', key: null, json });

/** A problem body without what differs per request. */
const comparable = async (res: Response) => {
  const { requestId: _, ...body } = (await res.json()) as Record<string, unknown>;
  return { status: res.status, headers: res.headers.get('content-type'), body };
};

let issuer: LocalIssuer;

beforeAll(async () => {
  issuer = await createLocalIssuer();
});

afterAll(async () => {
  await issuer.cleanup();
});

describe('POST /auth/token (local issuer)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp({
      modules: [authModule, eventsModule],
      ports: { tokens: issuer.tokens },
    });
    await addUser(app, 'alice');
  });

  it('answers 200 with an access token and an id token carrying Cognito-shaped claims', async () => {
    const before = Math.floor(Date.now() / 1000);

    const res = await token(app, { username: 'alice', password: PASSWORD });

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, string | number>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const access = claimsOf(String(body.access_token));
    const id = claimsOf(String(body.id_token));
    const sub = access.sub as string;
    expect(access).toMatchObject({
      iss: LOCAL_ISSUER,
      client_id: LOCAL_CLIENT_ID,
      token_use: 'access',
      username: 'alice',
    });
    expect(access.aud).toBeUndefined();
    expect(access.iat).toBeGreaterThanOrEqual(before);
    expect(access.exp).toBe((access.iat as number) + 3600);
    expect(access.jti).toEqual(expect.any(String));
    expect(id).toMatchObject({ iss: LOCAL_ISSUER, aud: LOCAL_CLIENT_ID, token_use: 'id', sub });
    expect(id.jti).not.toBe(access.jti);
    const header = JSON.parse(
      Buffer.from(String(body.access_token).split('.')[0] ?? '', 'base64url').toString(),
    );
    expect(header).toMatchObject({ alg: 'RS256', kid: issuer.kid });
  });

  it('signs alice in whatever the case of her username', async () => {
    const res = await token(app, { username: 'ALICE', password: PASSWORD });

    expect(res.status).toBe(200);
  });

  it('accepts the access token instead of an API key on an events route', async () => {
    const { access_token } = await signIn(app, 'alice');

    const res = await app.call('/events', {
      key: null,
      headers: { authorization: `Bearer ${access_token}` },
    });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(expect.any(Array));
  });

  it('does not accept the id token as a credential', async () => {
    const { id_token } = await signIn(app, 'alice');

    const res = await app.call('/events', {
      key: null,
      headers: { authorization: `Bearer ${id_token}` },
    });

    await expectProblem(res, 401, 'AUTH.TOKEN_INVALID');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it.each([
    ['no username', { password: PASSWORD }, ['body.username']],
    ['no password', { username: 'alice' }, ['body.password']],
    ['neither', {}, ['body.username', 'body.password']],
    ['an empty password', { username: 'alice', password: '' }, ['body.password']],
    ['a number for a username', { username: 42, password: PASSWORD }, ['body.username']],
  ])('answers 400 naming the fields for %s', async (_case, json, paths) => {
    const res = await token(app, json);

    const problem = await expectProblem(res, 400, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.path).sort()).toEqual([...paths].sort());
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await app.call('/auth/token', {
      method: 'POST',
      key: null,
      headers: { 'content-type': 'application/json' },
      body: '{"username":',
    });

    await expectProblem(res, 400);
  });

  it('answers 401 for a wrong password', async () => {
    const res = await token(app, { username: 'alice', password: `${PASSWORD}x` });

    await expectProblem(res, 401, 'AUTH.INVALID_CREDENTIALS', [PASSWORD]);
  });

  it('answers an unknown user exactly as a wrong password', async () => {
    const wrong = await token(app, { username: 'alice', password: 'Not-The-Password-1' });
    const unknown = await token(app, { username: 'nobody', password: 'Not-The-Password-1' });

    const [a, b] = [await comparable(wrong), await comparable(unknown)];
    expect(a.status).toBe(401);
    expect(b).toEqual({ ...a, body: { ...a.body, instance: '/auth/token' } });
  });

  it('serves its public key at /.well-known/jwks.json without credentials, and nothing private', async () => {
    const res = await app.call('/.well-known/jwks.json', { key: null });

    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: issuer.kid });
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
      expect(keys[0]?.[secret]).toBeUndefined();
  });
});

describe('similar timing for an unknown user and a wrong password', () => {
  it('spends an scrypt run on an unknown user too (medians within a factor of 3)', async () => {
    const app = await createTestApp({
      modules: [authModule],
      ports: { tokens: issuer.tokens },
      env: { AUTH_LOGIN_FAILURE_BURST: '100' },
    });
    await addUser(app, 'timing-user');
    await token(app, { username: 'warm-up', password: 'x' }); // the stand-in hash is made once
    const timed = async (username: string) => {
      const started = performance.now();
      const res = await token(app, { username, password: 'Wrong-Password-123' });
      expect(res.status).toBe(401);
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await timed('timing-user'));
      unknown.push(await timed(`nobody-${i}`));
    }

    const median = (values: number[]) => [...values].sort((a, b) => a - b)[2] ?? 0;
    // Without the stand-in hash an unknown user answers in a few ms against ~100 ms.
    expect(median(unknown)).toBeGreaterThan(median(known) / 3);
    expect(median(unknown)).toBeLessThan(median(known) * 3);
  });
});

describe('throttling failed sign-ins per username', () => {
  let app: TestApp;
  // The throttle reads this clock: time moves only when a test moves it.
  let now = Date.now();
  const metrics = new MemoryMetrics();

  beforeAll(async () => {
    app = await createTestApp({
      modules: [authModule],
      ports: { tokens: issuer.tokens, metrics },
      clock: () => new Date(now),
      env: { AUTH_LOGIN_FAILURE_BURST: '3', AUTH_LOGIN_FAILURE_DECAY_SECONDS: '60' },
    });
  });

  it('answers 429 with Retry-After after the allowed failures, even for the right password', async () => {
    await addUser(app, 'bob');
    for (let i = 0; i < 3; i++) {
      expect((await token(app, { username: 'bob', password: 'Wrong-Password-1' })).status).toBe(
        401,
      );
    }

    const wrong = await token(app, { username: 'bob', password: 'Wrong-Password-1' });
    const right = await token(app, { username: 'bob', password: PASSWORD });

    await expectProblem(wrong, 429, 'AUTH.TOO_MANY_ATTEMPTS');
    await expectProblem(right, 429, 'AUTH.TOO_MANY_ATTEMPTS');
    expect(Number(right.headers.get('retry-after'))).toBe(60);
    expect(metrics.snapshot()).toEqual({ 'auth.SignInFailed': 3, 'auth.SignInThrottled': 2 });
  });

  it('lets the user in once Retry-After has passed, however often refused attempts came meanwhile', async () => {
    await addUser(app, 'carol');
    for (let i = 0; i < 3; i++) await token(app, { username: 'carol', password: 'Wrong-Pass-1' });
    const retryAfters: number[] = [];
    for (let i = 0; i < 5; i++) {
      now += 10_000;
      const refused = await token(app, { username: 'carol', password: 'Wrong-Pass-1' });
      expect(refused.status).toBe(429);
      retryAfters.push(Number(refused.headers.get('retry-after')));
    }

    now += retryAfters.at(-1) ?? 0;
    const early = await token(app, { username: 'carol', password: PASSWORD });
    now += (retryAfters.at(-1) ?? 0) * 1000;
    const res = await token(app, { username: 'carol', password: PASSWORD });

    // Refused attempts moved nothing: the wait shrank as time passed.
    expect(retryAfters).toEqual([50, 40, 30, 20, 10]);
    expect(early.status).toBe(429);
    expect(res.status).toBe(200);
  });

  it('throttles an unknown username the same way', async () => {
    for (let i = 0; i < 3; i++) await token(app, { username: 'ghost', password: 'Wrong-Pass-1' });

    const res = await token(app, { username: 'ghost', password: 'Wrong-Pass-1' });

    await expectProblem(res, 429, 'AUTH.TOO_MANY_ATTEMPTS');
  });

  it('lets no more than the allowance through when 20 attempts arrive at once', async () => {
    await addUser(app, 'dave');

    const answers = await Promise.all(
      Array.from({ length: 20 }, () => token(app, { username: 'dave', password: 'Wrong-Pass-1' })),
    );

    const statuses = answers.map((res) => res.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(17);
  });

  it('does not count a successful sign-in against the allowance', async () => {
    await addUser(app, 'erin');

    for (let i = 0; i < 6; i++) {
      expect((await token(app, { username: 'erin', password: PASSWORD })).status).toBe(200);
    }
  });

  it('gives back one attempt per decay interval after the burst', async () => {
    await addUser(app, 'gina');
    for (let i = 0; i < 3; i++) await token(app, { username: 'gina', password: 'Wrong-Pass-1' });

    now += 60_000;
    const oneMore = await token(app, { username: 'gina', password: 'Wrong-Pass-1' });
    const thenRefused = await token(app, { username: 'gina', password: 'Wrong-Pass-1' });

    expect(oneMore.status).toBe(401);
    await expectProblem(thenRefused, 429, 'AUTH.TOO_MANY_ATTEMPTS');
  });
});

describe('the local signing key', () => {
  it('is created once with mode 0600 and reused by the next issuer on the same directory', async () => {
    const again = await localTokenIssuer({ dataDir: issuer.dir });

    const mode = (await stat(join(issuer.dir, SIGNING_KEY_FILE))).mode & 0o777;
    expect(mode).toBe(0o600);
    expect(again.jwks().keys[0]?.kid).toBe(issuer.kid);
  });

  it('verifies a token issued before a restart', async () => {
    const { accessToken } = await issuer.tokens.issue({ sub: 's-1', username: 'frank' });
    const restarted = await localTokenIssuer({ dataDir: issuer.dir });

    await expect(restarted.verify(accessToken)).resolves.toMatchObject({
      via: 'jwt',
      subject: 's-1',
    });
  });
});
