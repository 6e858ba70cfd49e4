import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createAdaptorServer } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authModule, authTable } from '../../src/modules/auth/auth.module.js';
import type { DynamoClients } from '../../src/platform/dynamo/client.js';
import { MemoryMetrics } from '../../src/platform/metrics/metrics.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { commandIs, delayCalls, gate } from '../support/faults.js';
import { expectProblem, uniqueId } from '../support/fixture-app.js';
import { until } from '../support/poll.js';
import { addUser, createLocalIssuer, type LocalIssuer, PASSWORD } from './fixtures.js';

/*
 * Sign-in under a flood: the password work (scrypt, on the libuv pool that file reads share) is
 * admitted a few at a time, each client address has its own allowance, and unknown usernames
 * leave nothing behind in the table.
 */

const token = (app: TestApp, json: unknown) =>
  app.call('/auth/token', { method: 'POST', key: null, json });

const fresh = () => ({ username: uniqueId('nobody'), password: 'Wrong-Password-123' });

/**
 * Holds every UpdateItem (an attempt's first write) until `count` have arrived: the attempts then
 * reach the password check together, whatever the speed of the machine.
 */
function arriveTogether(count: number) {
  const arrived = gate();
  let held = { count: () => 0 };
  return {
    dynamo: (clients: DynamoClients) => {
      held = delayCalls(clients, { when: commandIs('UpdateItem'), until: arrived.opened });
      return clients;
    },
    release: async () => {
      await until(held.count, (n) => n >= count, { intervalMs: 10, timeoutMs: 5_000 });
      arrived.open();
    },
  };
}

interface Served {
  /** POST /auth/token over TCP from `localAddress` (any 127.x.y.z is the loopback). */
  signIn(localAddress: string, json: unknown): Promise<Response>;
  close(): Promise<void>;
}

/** The app on a real local server, as the local runtime serves it. */
async function serve(app: TestApp): Promise<Served> {
  const server = createAdaptorServer({ fetch: app.app.fetch }) as Server;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const signIn = (localAddress: string, json: unknown) =>
    new Promise<Response>((done, fail) => {
      const body = JSON.stringify(json);
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          localAddress,
          method: 'POST',
          path: '/auth/token',
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              if (typeof value === 'string') headers.set(name, value);
            }
            done(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers }));
          });
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  const close = () =>
    new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
  return { signIn, close };
}

let issuer: LocalIssuer;

beforeAll(async () => {
  issuer = await createLocalIssuer();
});

afterAll(async () => {
  await issuer.cleanup();
});

describe('the password work under a flood of sign-ins', () => {
  it('answers 503 with Retry-After to the sign-ins past the admission limit, and lets the user in afterwards', async () => {
    const flood = 16;
    const metrics = new MemoryMetrics();
    const together = arriveTogether(flood);
    const app = await createTestApp({
      modules: [authModule],
      ports: { tokens: issuer.tokens, metrics },
      env: { AUTH_PASSWORD_CONCURRENCY: '1' },
      dynamo: together.dynamo,
    });
    await addUser(app, 'alice');

    const answers = Promise.all(Array.from({ length: flood }, () => token(app, fresh())));
    await together.release();
    const responses = await answers;

    const refused = responses.filter((res) => res.status === 503);
    const checked = responses.filter((res) => res.status === 401);
    expect(refused.length + checked.length).toBe(flood);
    // One check at a time and six waiting: the rest are refused before any scrypt run.
    expect(checked.length).toBeLessThanOrEqual(flood / 2);
    for (const res of refused) {
      await expectProblem(res, 503, 'AUTH.SIGN_IN_BUSY');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(metrics.snapshot()['auth.SignInFailed']).toBe(checked.length);
    expect((await token(app, { username: 'alice', password: PASSWORD })).status).toBe(200);
  });

  it('writes nothing to the auth table for unknown usernames, and still throttles them', async () => {
    const app = await createTestApp({
      modules: [authModule],
      ports: { tokens: issuer.tokens },
      env: { AUTH_LOGIN_FAILURE_BURST: '2', AUTH_PASSWORD_CONCURRENCY: '4' },
    });
    await addUser(app, 'bob');

    const statuses = await Promise.all(
      Array.from({ length: 4 }, async () => (await token(app, fresh())).status),
    );
    const ghost = { username: uniqueId('ghost'), password: 'Wrong-Password-123' };
    const ghostStatuses: number[] = [];
    for (let i = 0; i < 3; i++) ghostStatuses.push((await token(app, ghost)).status);

    const { Items = [] } = await app.dynamo.doc.send(
      new ScanCommand({ TableName: app.table(authTable).name, ConsistentRead: true }),
    );
    expect(Items.map((item) => item.PK)).toEqual(['USER#bob']);
    expect(statuses).toEqual([401, 401, 401, 401]);
    expect(ghostStatuses).toEqual([401, 401, 429]);
  });

  it('still counts a known user’s failed attempts, on their own item', async () => {
    const app = await createTestApp({
      modules: [authModule],
      ports: { tokens: issuer.tokens },
      env: { AUTH_LOGIN_FAILURE_BURST: '2' },
    });
    await addUser(app, 'carol');

    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await token(app, { username: 'carol', password: 'Wrong-Pass-1' })).status);
    }

    expect(statuses).toEqual([401, 401, 429]);
    const { Items = [] } = await app.dynamo.doc.send(
      new ScanCommand({ TableName: app.table(authTable).name, ConsistentRead: true }),
    );
    expect(Items).toEqual([expect.objectContaining({ PK: 'USER#carol', tat: expect.any(Number) })]);
  });

  it('gives a known user’s attempt back when its check is refused for want of room', async () => {
    const now = Date.now();
    const attempts = 10;
    const together = arriveTogether(attempts);
    const app = await createTestApp({
      modules: [authModule],
      ports: { tokens: issuer.tokens },
      clock: () => new Date(now),
      env: { AUTH_PASSWORD_CONCURRENCY: '1', AUTH_LOGIN_FAILURE_BURST: '100' },
      dynamo: together.dynamo,
    });
    await addUser(app, 'erin');

    const answers = Promise.all(
      Array.from({ length: attempts }, () =>
        token(app, { username: 'erin', password: 'Wrong-Pass-1' }),
      ),
    );
    await together.release();
    const responses = await answers;

    const refused = responses.filter((res) => res.status === 503);
    const checked = responses.filter((res) => res.status === 401).length;
    expect(refused.length).toBeGreaterThan(0);
    expect(checked + refused.length).toBe(attempts);
    for (const res of refused) await expectProblem(res, 503, 'AUTH.SIGN_IN_BUSY');
    const { Item } = await app.dynamo.doc.send(
      new GetCommand({
        TableName: app.table(authTable).name,
        Key: { PK: 'USER#erin' },
        ConsistentRead: true,
      }),
    );
    // Only the attempts whose password was checked still count: one decay interval each.
    expect(Item?.tat).toBe(now + checked * 60_000);
  });
});

describe('the per-client limit on sign-in attempts', () => {
  const settings = { AUTH_CLIENT_SIGNIN_BURST: '3', AUTH_CLIENT_SIGNIN_RATE: '1' };
  // The limits read this clock: time stands still unless a test moves it.
  const now = Date.now();
  const clock = () => new Date(now);

  describe('on the local server (the socket’s address)', () => {
    let app: TestApp;
    let server: Served;

    beforeAll(async () => {
      app = await createTestApp({
        modules: [authModule],
        ports: { tokens: issuer.tokens },
        env: settings,
        clock,
      });
      await addUser(app, 'dora');
      server = await serve(app);
    });

    afterAll(() => server.close());

    it('answers 429 with Retry-After once an address has used its burst, whatever the usernames', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await server.signIn('127.0.0.2', fresh())).status);

      const refused = await server.signIn('127.0.0.2', { username: 'dora', password: PASSWORD });

      expect(statuses).toEqual([401, 401, 401]);
      await expectProblem(refused, 429, 'AUTH.CLIENT_THROTTLED');
      expect(Number(refused.headers.get('retry-after'))).toBe(60);
    });

    it('lets another address sign in meanwhile', async () => {
      const res = await server.signIn('127.0.0.3', { username: 'dora', password: PASSWORD });

      expect(res.status).toBe(200);
    });
  });

  it('checks one password at a time per address, so its burst cannot queue ahead of others', async () => {
    const together = arriveTogether(4);
    const app = await createTestApp({
      modules: [authModule],
      ports: { tokens: issuer.tokens },
      env: { AUTH_CLIENT_SIGNIN_BURST: '10' },
      dynamo: together.dynamo,
    });
    await addUser(app, 'fay');
    const server = await serve(app);
    try {
      const answers = Promise.all([
        ...Array.from({ length: 3 }, () => server.signIn('127.0.0.4', fresh())),
        server.signIn('127.0.0.5', { username: 'fay', password: PASSWORD }),
      ]);
      await together.release();
      const responses = await answers;

      const burst = responses.slice(0, 3);
      expect(burst.map((res) => res.status).sort()).toEqual([401, 429, 429]);
      for (const res of burst.filter((r) => r.status === 429)) {
        await expectProblem(res, 429, 'AUTH.CLIENT_BUSY');
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      expect(responses[3]?.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('limits by the source address API Gateway reports', async () => {
    const app = await createTestApp({
      modules: [authModule],
      ports: { tokens: issuer.tokens },
      env: settings,
      clock,
    });
    const fromGateway = (sourceIp: string) =>
      app.app.request(
        '/auth/token',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(fresh()),
        },
        { event: { requestContext: { identity: { sourceIp } } } },
      );

    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fromGateway('198.51.100.7')).status);
    const other = await fromGateway('198.51.100.8');

    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(other.status).toBe(401);
  });
});
