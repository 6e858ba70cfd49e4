import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modules } from '../../src/modules/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { type LocalAdapters, localAdapters } from '../../src/runtime/local/adapters.js';
import { localTokenIssuer } from '../../src/runtime/local/token-issuer.js';
import {
  accessClaims,
  addUser,
  createLocalIssuer,
  forge,
  type LocalIssuer,
  PASSWORD,
  signIn,
} from '../auth/fixtures.js';
import { formatCpf, newCpf, withWrongCheckDigit } from '../enrollments/fixtures.js';
import { createTestApp, TEST_API_KEY, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/fixture-app.js';
import { workerCaptureFile } from '../support/log-capture.js';
import { scanText } from './secret-scan.js';

/**
 * Security checks over the whole app (every module, the local adapters, the local token issuer),
 * with its logger at debug level so that what these requests make it log is scanned too.
 */

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly security?: readonly Record<string, unknown>[];
}

const WRONG_KEY = 'wrong-key-0123456789';
const OTHER_PASSWORD = 'Not-The-Password-1';

/** The OpenAPI operations of the app, with the security each declares (absent: the default). */
async function operationsOf(app: TestApp): Promise<Operation[]> {
  const res = await app.call('/openapi.json', { key: null });
  const document = (await res.json()) as {
    paths: Record<string, Record<string, { security?: Operation['security'] }>>;
  };
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      ...(operation.security ? { security: operation.security } : {}),
    })),
  );
}

const isPublic = (op: Operation) => Array.isArray(op.security) && op.security.length === 0;
const isBearerOnly = (op: Operation) =>
  op.security?.length === 1 && Object.keys(op.security[0] ?? {}).join() === 'Bearer';

/** A concrete request for an operation: every path parameter filled, a JSON body where one goes. */
function requestFor(op: Operation, headers: Record<string, string>): [string, RequestInit] {
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => `sec-${name}`);
  const body = ['POST', 'PUT', 'PATCH'].includes(op.method) ? '{}' : undefined;
  return [
    path,
    {
      method: op.method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body } : {}),
    },
  ];
}

describe('security of every route, from the OpenAPI document', () => {
  let app: TestApp;
  let issuer: LocalIssuer;
  let operations: Operation[];
  let accessToken: string;
  /** Tokens that must not let anyone in, by what is wrong with them. */
  let badTokens: Record<string, string>;
  let adapters: LocalAdapters | undefined;
  let logStart = 0;
  const terminal = process.stdout.write;

  beforeAll(async () => {
    logStart = readCapture().length;
    // Debug lines go to the capture file (test/support/log-capture.ts), not to the terminal.
    process.stdout.write = (() => true) as typeof process.stdout.write;
    issuer = await createLocalIssuer();
    app = await createTestApp({
      modules,
      env: { LOG_LEVEL: 'debug' },
      ports: (container) => {
        adapters = localAdapters({ modules, logger: createLogger('debug'), container });
        return { ...adapters.ports, tokens: issuer.tokens };
      },
    });
    operations = await operationsOf(app);
    await addUser(app, 'sec-user');
    accessToken = (await signIn(app, 'sec-user')).access_token;

    const now = Math.floor(Date.now() / 1000);
    // The same issuer (same key, same kid) two hours ago: signed right, expired.
    const past = await localTokenIssuer({
      dataDir: issuer.dir,
      clock: () => new Date(Date.now() - 2 * 3600 * 1000),
    });
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    badTokens = {
      garbage: 'not-a-jwt-at-all',
      expired: (await past.issue({ sub: 'sec-user', username: 'sec-user' })).accessToken,
      'signed by another key': await forge(otherKey, accessClaims('sec-user', now), {
        alg: 'RS256',
        kid: issuer.kid,
        typ: 'JWT',
      }),
      'alg none': `${encode({ alg: 'none', typ: 'JWT' })}.${encode(accessClaims('sec-user', now))}.`,
      'an id token': (await issuer.tokens.issue({ sub: 'sec-user', username: 'sec-user' })).idToken,
      'HS256 with the public key as secret': await forge(
        new TextEncoder().encode(JSON.stringify(issuer.tokens.jwks().keys[0])),
        accessClaims('sec-user', now),
        { alg: 'HS256', kid: issuer.kid, typ: 'JWT' },
      ),
    };
  });

  afterAll(async () => {
    await adapters?.stop();
    await issuer?.cleanup();
    process.stdout.write = terminal;
  });

  it('finds every module in the document, and which routes are public or take a token only', () => {
    expect(operations.length).toBeGreaterThan(25);
    for (const prefix of ['/events', '/users', '/age-groups', '/enrollments', '/customers']) {
      expect(
        operations.some((op) => op.path.startsWith(prefix) && !isPublic(op)),
        prefix,
      ).toBe(true);
    }
    expect(operations.filter(isPublic).map((op) => `${op.method} ${op.path}`)).toEqual(
      expect.arrayContaining(['GET /health', 'POST /auth/token']),
    );
    expect(operations.filter(isBearerOnly).map((op) => `${op.method} ${op.path}`)).toEqual([
      'POST /sla-errors',
    ]);
  });

  it('refuses a missing key, a wrong key and every bad token on every non-public route with a 401 problem', async () => {
    const protectedOps = operations.filter((op) => !isPublic(op));
    const attempts: [string, Record<string, string>][] = [
      ['no credentials', {}],
      ['a wrong key', { 'x-api-key': WRONG_KEY }],
      ['an empty key', { 'x-api-key': '' }],
      ['a key in the wrong case', { 'x-api-key': TEST_API_KEY.toUpperCase() }],
      ...Object.entries(badTokens).map(
        ([what, token]) =>
          [`a bad token (${what})`, { authorization: `Bearer ${token}` }] as [
            string,
            Record<string, string>,
          ],
      ),
      ['a Basic authorization', { authorization: 'Basic c2VjLXVzZXI6cGFzcw==' }],
    ];

    let checked = 0;
    for (const op of protectedOps) {
      for (const [what, headers] of attempts) {
        const res = await app.app.request(...requestFor(op, headers));
        const problem = await expectProblem(res, 401).catch((error: Error) => {
          throw new Error(`${op.method} ${op.path} with ${what}: ${error.message}`);
        });
        expect(problem.code, `${op.method} ${op.path} with ${what}`).toMatch(/^AUTH\./);
        expect(res.headers.get('www-authenticate'), `${op.method} ${op.path}`).toBeTruthy();
        checked++;
      }
    }
    expect(checked).toBe(protectedOps.length * attempts.length);
  });

  it('refuses an API key alone, or with a bad token, where a route takes a bearer token only', async () => {
    for (const op of operations.filter(isBearerOnly)) {
      const keyOnly = await app.app.request(...requestFor(op, { 'x-api-key': TEST_API_KEY }));
      await expectProblem(keyOnly, 401, 'AUTH.TOKEN_REQUIRED');
      for (const token of Object.values(badTokens)) {
        const res = await app.app.request(
          ...requestFor(op, { 'x-api-key': TEST_API_KEY, authorization: `Bearer ${token}` }),
        );
        await expectProblem(res, 401);
      }
    }
  });

  it('lets the same requests past authentication with a valid credential (so the 401s are about the credentials)', async () => {
    for (const op of operations.filter((candidate) => !isPublic(candidate))) {
      const headers: Record<string, string> = isBearerOnly(op)
        ? { authorization: `Bearer ${accessToken}` }
        : { 'x-api-key': TEST_API_KEY };
      const res = await app.app.request(...requestFor(op, headers));
      expect(res.status, `${op.method} ${op.path}: ${await res.clone().text()}`).not.toBe(401);
      expect(res.status, `${op.method} ${op.path}`).toBeLessThan(500);
    }
    for (const op of operations.filter(isPublic)) {
      const res = await app.app.request(...requestFor(op, {}));
      expect(res.status, `${op.method} ${op.path}`).not.toBe(401);
    }
  });

  it('writes no CPF, password, token or key to its debug logs while it serves them', async () => {
    const cpfs = [newCpf(), newCpf()];
    const [first = '', second = ''] = cpfs;
    const headers = { 'x-api-key': TEST_API_KEY, 'content-type': 'application/json' };
    const post = (path: string, body: unknown, extra: Record<string, string> = {}) =>
      app.app.request(path, {
        method: 'POST',
        headers: { ...headers, ...extra },
        body: JSON.stringify(body),
      });
    expect((await post('/age-groups', { min_age: 0, max_age: 150 })).status).toBe(201);

    const answers = [
      await post('/enrollments', { name: 'Ana', age: 30, cpf: formatCpf(first) }),
      await post('/enrollments', { name: 'Bia', age: 31, cpf: second }),
      // The same CPF again (409), and one whose check digits fail (422): both quote nothing.
      await post('/enrollments', { name: 'Ana', age: 30, cpf: first }),
      await post('/enrollments', { name: 'Cid', age: 32, cpf: withWrongCheckDigit(first) }),
      await post('/auth/token', { username: 'sec-user', password: PASSWORD }),
      await post('/auth/token', { username: 'sec-user', password: OTHER_PASSWORD }),
      await post(
        '/sla-errors',
        {
          fileName: 'sec.csv',
          slaDeadline: '2026-11-21T10:00:00Z',
          errorCode: 'SLA_BREACH',
          message: 'late',
          severity: 'low',
          source: 'security-test',
        },
        { authorization: `Bearer ${accessToken}` },
      ),
      await app.app.request('/events', { headers: { 'x-api-key': WRONG_KEY } }),
      await app.app.request('/events', {
        headers: { authorization: `Bearer ${badTokens['signed by another key']}` },
      }),
    ];
    expect(answers.map((res) => res.status)).toEqual([202, 202, 409, 422, 200, 401, 200, 401, 401]);

    const logged = readCapture().slice(logStart);
    // Logging was on, so the scan below looks at real lines of these requests.
    const requestLines = logged.split('\n').filter((line) => line.includes('"message":"request"'));
    expect(requestLines.length).toBeGreaterThan(answers.length);
    expect(logged).toContain('"route":"/enrollments","status":409');
    const known = [
      ...cpfs,
      ...cpfs.map(formatCpf),
      PASSWORD,
      OTHER_PASSWORD,
      TEST_API_KEY,
      WRONG_KEY,
      accessToken,
      ...Object.values(badTokens).filter((token) => token.length >= 16),
    ];
    expect(scanText(logged, 'this test', known)).toEqual([]);
  });
});

function readCapture(): string {
  try {
    return readFileSync(workerCaptureFile(), 'utf8');
  } catch {
    return '';
  }
}
