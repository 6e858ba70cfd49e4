import { createServer, type Server, type Socket } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import pkg from '../../package.json' with { type: 'json' };
import { loadConfig } from '../../src/platform/config.js';
import { jsonBody, jsonContent, problemResponses } from '../../src/platform/http/openapi.js';
import { paginationQuery } from '../../src/platform/http/pagination.js';
import { createRoute } from '../../src/platform/http/routes.js';
import { HEALTH_DEADLINE_MS, mountSystemRoutes } from '../../src/platform/http/system.routes.js';
import { createApi, createContainer } from '../../src/runtime/container.js';
import { createTestApp, TEST_API_KEY, TEST_SECRETS, type TestApp } from '../support/app.js';
import { commandIs, delayCalls } from '../support/faults.js';
import { callerFor, createFixtureApp, expectProblem } from '../support/fixture-app.js';

/** The real container on an endpoint that is not DynamoDB Local. */
function appOn(endpoint: string) {
  const container = createContainer({
    config: loadConfig({
      DYNAMODB_ENDPOINT: endpoint,
      API_KEYS: TEST_API_KEY,
      LOG_LEVEL: 'silent',
    }),
    modules: [],
    secrets: TEST_SECRETS,
  });
  return callerFor(createApi(container));
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<
    string,
    Record<string, { security?: unknown; responses: Record<string, { content?: object }> }>
  >;
  components: { securitySchemes?: Record<string, unknown>; schemas?: Record<string, unknown> };
}

const openApiOf = async (res: Response) => (await res.json()) as OpenApiDocument;

async function validateOpenApi(document: unknown) {
  const validator = new Validator();
  const result = await validator.validate(document as Record<string, unknown>);
  return { valid: result.valid, errors: result.errors, version: validator.version };
}

describe('system routes', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });

  it('answers GET / with the name, version and links to the docs', async () => {
    const res = await app.call('/', { key: null });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: 'Roster',
      version: pkg.version,
      description: pkg.description,
      links: { docs: '/docs', openapi: '/openapi.json', health: '/health' },
    });
  });

  it('answers /health with 200 {status:"ok"} when DynamoDB answers', async () => {
    const res = await app.call('/health', { key: null });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it('serves an OpenAPI 3.1 document with the ApiKey and Bearer security schemes', async () => {
    const res = await app.call('/openapi.json', { key: null });

    expect(res.status).toBe(200);
    const doc = await openApiOf(res);
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/', '/health']));
    expect(doc.components.securitySchemes).toEqual({
      ApiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      Bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
  });

  it('marks the system routes as public in the OpenAPI document', async () => {
    const doc = await openApiOf(await app.call('/openapi.json', { key: null }));

    expect(doc.paths['/health']?.get?.security).toEqual([]);
    expect(doc.paths['/']?.get?.security).toEqual([]);
  });

  it('serves an OpenAPI document that passes a real OpenAPI 3.1 schema validator', async () => {
    const doc = await openApiOf(await app.call('/openapi.json', { key: null }));

    const result = await validateOpenApi(doc);

    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(result.version).toBe('3.1');
  });

  it('serves the docs page as HTML referencing only relative assets', async () => {
    const res = await app.call('/docs', { key: null });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThanOrEqual(3);
    expect(html).not.toMatch(/https?:\/\//);
    for (const ref of refs) expect(ref).not.toMatch(/^(?:[a-z]+:)?\/\//i);
  });

  it('serves every asset the docs page references, with the right content type', async () => {
    const html = await (await app.call('/docs', { key: null })).text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    const expected: Record<string, RegExp> = {
      css: /^text\/css/,
      js: /^(?:text|application)\/javascript/,
      png: /^image\/png/,
    };

    for (const ref of refs) {
      const path = new URL(ref, 'http://localhost/docs').pathname;
      const res = await app.call(path, { key: null });
      const type = expected[path.split('.').pop() ?? ''];
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(type, path).toBeDefined();
      expect(res.headers.get('content-type'), path).toMatch(type ?? /^$/);
      expect((await res.arrayBuffer()).byteLength, path).toBeGreaterThan(0);
    }
  });

  it('resolves the docs assets under an API Gateway stage prefix too', async () => {
    const html = await (await app.call('/docs', { key: null })).text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');

    for (const ref of refs) {
      expect(new URL(ref, 'https://api.example/prod/docs').pathname).toMatch(/^\/prod\/docs\//);
    }
  });

  it('configures the docs page without calls to third-party hosts', async () => {
    const res = await app.call('/docs/assets/swagger-ui-init.js', { key: null });

    const script = await res.text();
    expect(res.status).toBe(200);
    expect(script).not.toMatch(/https?:\/\//);
    // Swagger UI otherwise sends the document's URL to validator.swagger.io from every page view.
    expect(script).toMatch(/validatorUrl:\s*null/);
  });

  it.each([
    '/docs/assets/package.json',
    '/docs/assets/..%2F..%2Fpackage.json',
    '/docs/assets/index.html',
    // Names every plain object has: a lookup in one must not find them.
    '/docs/assets/__proto__',
    '/docs/assets/constructor',
    '/docs/assets/toString',
    '/docs/assets/hasOwnProperty',
  ])('answers 404 problem for %s, which is not a docs asset', async (path) => {
    const res = await app.call(path, { key: null });

    await expectProblem(res, 404);
  });

  it('sends the docs page a CSP that allows only its own files, and forbids framing', async () => {
    const res = await app.call('/docs', { key: null });

    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-eval|https?:|\*/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('marks every docs asset nosniff', async () => {
    for (const name of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-init.js']) {
      const res = await app.call(`/docs/assets/${name}`, { key: null });

      expect({ name, nosniff: res.headers.get('x-content-type-options') }).toEqual({
        name,
        nosniff: 'nosniff',
      });
    }
  });
});

describe('/health when DynamoDB does not answer', () => {
  let silent: Server;
  let silentPort: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never answers: a hung endpoint, not a refused one.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    silentPort = (silent.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((done) => silent.close(done));
  });

  it('answers 503 by its deadline when the endpoint refuses connections', async () => {
    const call = appOn('http://127.0.0.1:1');
    const started = Date.now();

    const res = await call('/health', { key: null });

    // The check's deadline is 2 s (a second of slack for a busy machine).
    expect(Date.now() - started).toBeLessThan(HEALTH_DEADLINE_MS + 1_000);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ status: 'unavailable' });
  });

  it('answers 503 at its deadline instead of hanging when the endpoint never answers', async () => {
    const call = appOn(`http://127.0.0.1:${silentPort}`);
    const started = Date.now();

    const res = await call('/health', { key: null });

    // The check's deadline is 2 s (a second of slack for a busy machine).
    expect(Date.now() - started).toBeLessThan(HEALTH_DEADLINE_MS + 1_000);
    expect(res.status).toBe(503);
  });

  it('answers 503 by its 2 s deadline even while the SDK call itself goes on (retries, waits)', async () => {
    // The check's GetItem held for 5 s before it is even sent, deaf to the abort signal, as a
    // long retry backoff or a wait for a socket would be.
    const app = await createTestApp({
      dynamo: (clients) => {
        delayCalls(clients, { when: commandIs('GetItem'), ms: 5_000 });
        return clients;
      },
    });
    const started = Date.now();

    const res = await app.call('/health', { key: null });

    const elapsed = Date.now() - started;
    expect(res.status).toBe(503);
    expect(elapsed).toBeGreaterThanOrEqual(HEALTH_DEADLINE_MS - 50);
    expect(elapsed).toBeLessThan(HEALTH_DEADLINE_MS + 1_000);
    expect(await res.json()).toMatchObject({ status: 'unavailable' });
  });

  it('answers 503 when DynamoDB answers but the tables do not exist', async () => {
    const app = await createTestApp();
    const missing = createContainer({
      config: {
        ...app.config,
        tables: {
          events: 'no-such-events',
          idempotency: 'no-such-table',
          'domain-events': 'no-such-outbox',
        },
      },
      modules: [],
      secrets: TEST_SECRETS,
      dynamo: app.dynamo,
    });

    const res = await callerFor(createApi(missing, { apiKeys: [TEST_API_KEY] }))('/health', {
      key: null,
    });

    expect(res.status).toBe(503);
    expect(await res.text()).not.toContain('no-such-table');
  });
});

describe('OpenAPI document of routes built with the platform helpers', () => {
  it('validates as OpenAPI 3.1 with bodies, parameters and problem responses', async () => {
    const { app, call } = createFixtureApp();
    const Thing = z.object({ id: z.string(), size: z.number().int().min(1) }).meta({ id: 'Thing' });
    app.openapi(
      createRoute({
        method: 'post',
        path: '/things/{thingId}',
        request: {
          params: z.object({ thingId: z.string().min(1).max(100) }),
          query: paginationQuery,
          body: jsonBody(Thing),
        },
        responses: {
          201: jsonContent(Thing, 'Created'),
          ...problemResponses(400, 401, 409, 413, 415, 422, 500, 503),
        },
      }),
      (c) => c.json(c.req.valid('json'), 201),
    );
    mountSystemRoutes(app, {
      info: { name: 'Fixture', version: '0.0.0', description: 'fixture' },
      checkHealth: async () => {},
    });

    const doc = await openApiOf(await call('/openapi.json', { key: null }));
    const result = await validateOpenApi(doc);

    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.paths['/things/{thingId}']?.post?.responses['422']?.content).toHaveProperty(
      'application/problem+json',
    );
    expect(doc.components.schemas).toHaveProperty('Problem');
  });
});
