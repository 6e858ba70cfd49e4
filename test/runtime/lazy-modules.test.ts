import { beforeAll, describe, expect, it } from 'vitest';
import { modules } from '../../src/modules/index.js';
import type { AnyModule } from '../../src/platform/module.js';
import { createTestApp, type TestApp } from '../support/app.js';

/*
 * The API Lambda builds its app without any module's code (createApi with `moduleCode:
 * 'on-first-request'`): each module with a route table is served from it, and its code — services,
 * routers — loads on the first request to one of its routes. Here the real modules are given a
 * `load` of their own (the same `import()` of their code, counted), so this process, which has
 * every module's code at hand, builds the app as the Lambda does.
 */

interface Counted {
  readonly modules: AnyModule[];
  /** Loads per module name. */
  readonly loads: Map<string, number>;
  /** Make the next load of this module fail (a chunk that could not be read). */
  failNext(name: string): void;
}

function countedModules(): Counted {
  const loads = new Map<string, number>();
  const failing = new Set<string>();
  const counted = modules.map((module): AnyModule => {
    const load = module.load;
    if (!load) return module;
    loads.set(module.name, 0);
    return {
      ...module,
      load: async () => {
        loads.set(module.name, (loads.get(module.name) ?? 0) + 1);
        if (failing.delete(module.name)) throw new Error(`chunk of ${module.name} unreadable`);
        return load();
      },
    };
  });
  return { modules: counted, loads, failNext: (name) => failing.add(name) };
}

const loaded = (loads: Map<string, number>) =>
  Object.fromEntries([...loads].filter(([, count]) => count > 0));

/** What two apps' answers must share: status, the headers that matter, the body. */
async function answer(res: Response) {
  const text = await res.text();
  let body: unknown = text;
  try {
    const { requestId: _, ...rest } = JSON.parse(text) as Record<string, unknown>;
    body = rest;
  } catch {
    // Not JSON: compared as text.
  }
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    allow: res.headers.get('allow'),
    location: res.headers.get('location'),
    authenticate: res.headers.get('www-authenticate'),
    replayed: res.headers.get('idempotent-replayed'),
    body,
  };
}

describe('modules whose code loads on the first request', () => {
  let counted: Counted;
  let lazy: TestApp;
  let eager: TestApp;

  beforeAll(async () => {
    counted = countedModules();
    lazy = await createTestApp({
      modules: counted.modules,
      api: { moduleCode: 'on-first-request', csvVariant: 'redirect' },
    });
    eager = await createTestApp({ modules, api: { csvVariant: 'redirect' } });
  });

  it('builds the app without loading any module’s code', () => {
    expect(loaded(counted.loads)).toEqual({});
  });

  it('answers the requests no module serves without loading any: health, 404, 405, 401, CSV redirect', async () => {
    const requests: [string, RequestInit?, (string | null)?][] = [
      ['/health', {}, null],
      ['/nowhere'],
      ['/events', { method: 'PATCH' }],
      ['/events/e-1/registrations', { method: 'PUT' }],
      ['/sla-errors/stats', { method: 'DELETE' }],
      ['/webhooks/w-1/rotate', { method: 'GET' }],
      ['/events', {}, null],
      ['/enrollments', {}, 'not-the-key'],
      ['/sla-errors?limit=5', { headers: { accept: 'text/csv' } }],
      [
        '/events',
        {
          method: 'OPTIONS',
          headers: { origin: 'https://a.example', 'access-control-request-method': 'POST' },
        },
      ],
    ];
    for (const [path, init, key] of requests) {
      const options = { ...init, ...(key === undefined ? {} : { key }) };
      const [fromLazy, fromEager] = await Promise.all([
        lazy.call(path, options).then(answer),
        eager.call(path, options).then(answer),
      ]);
      expect({ path, ...fromLazy }).toEqual({ path, ...fromEager });
    }
    expect(loaded(counted.loads)).toEqual({});
  });

  it('loads a module’s code on the first request to one of its routes, once, and answers as the whole app', async () => {
    const bodies = Array.from({ length: 4 }, () =>
      lazy.call('/events', { method: 'POST', json: {} }).then(answer),
    );
    const expected = await eager.call('/events', { method: 'POST', json: {} }).then(answer);
    for (const body of await Promise.all(bodies)) expect(body).toEqual(expected);
    expect(expected.status).toBe(422);
    expect(loaded(counted.loads)).toEqual({ events: 1 });

    // A public route of a module not loaded yet is public before its code is there.
    const offer = await lazy.call('/offers/not-a-token', { key: null }).then(answer);
    expect(offer).toEqual(await eager.call('/offers/not-a-token', { key: null }).then(answer));
    expect(offer.status).not.toBe(401);
  });

  it('serves each module’s routes once loaded, with the path parameters and fall-through of the whole app', async () => {
    const created = await lazy.call('/events', {
      method: 'POST',
      json: {
        eventId: 'lazy-1',
        title: 'Lazy',
        description: 'Served before its module was loaded',
        date: '2030-01-01',
        location: 'Here',
        capacity: 2,
        organizer: 'Us',
        status: 'active',
        hasWaitlist: true,
      },
    });
    expect(created.status).toBe(201);
    // `/events/{eventId}.ics` hands an id without the suffix on to `/events/{eventId}`.
    expect((await lazy.call('/events/lazy-1')).status).toBe(200);
    expect((await lazy.call('/events/lazy-1.ics')).headers.get('content-type')).toMatch(
      /^text\/calendar/,
    );
    expect((await lazy.call('/sla-errors/stats')).status).not.toBe(404);
    expect(loaded(counted.loads)).toEqual({ events: 1, 'sla-errors': 1 });
  });

  it('runs a route’s own middleware around its handler as the whole app does: a refused create is stored under its Idempotency-Key and replayed', async () => {
    const post = (app: TestApp, key: string) =>
      app.call('/sla-errors/stats', { method: 'DELETE' }).then(() =>
        app
          .call('/enrollments', {
            method: 'POST',
            json: { name: '' },
            headers: { 'idempotency-key': key },
          })
          .then(answer),
      );
    const key = `lazy-${Date.now()}`;
    const lazyAnswers = [await post(lazy, key), await post(lazy, key)];
    const eagerAnswers = [await post(eager, `${key}-e`), await post(eager, `${key}-e`)];
    expect(lazyAnswers).toEqual(eagerAnswers);
    expect(lazyAnswers.map(({ status, replayed }) => [status, replayed])).toEqual([
      [422, null],
      [422, 'true'],
    ]);
  });

  it('answers 500 when a module’s code cannot be loaded, and loads it again on the next request', async () => {
    counted.failNext('webhooks');
    expect((await lazy.call('/webhooks')).status).toBe(500);
    expect((await lazy.call('/webhooks')).status).toBe(200);
    expect(counted.loads.get('webhooks')).toBe(2);
  });
  it('answers auth’s optional JWKS line as the whole app: no route without the local issuer', async () => {
    for (const [key, status] of [
      [null, 401],
      [undefined, 404],
    ] as const) {
      const options = key === undefined ? {} : { key };
      const [fromLazy, fromEager] = await Promise.all([
        lazy.call('/.well-known/jwks.json', options).then(answer),
        eager.call('/.well-known/jwks.json', options).then(answer),
      ]);
      expect(fromLazy).toEqual(fromEager);
      expect(fromLazy.status).toBe(status);
    }
    expect(counted.loads.get('auth')).toBe(1);
  });
});

describe('a route table that does not match its module’s routers', () => {
  it('fails the module’s requests instead of serving the wrong route', async () => {
    const slaErrors = modules.find((module) => module.name === 'sla-errors') as AnyModule;
    const table = slaErrors.routes as readonly string[];
    const load = slaErrors.load as NonNullable<AnyModule['load']>;
    // Two routes swapped: `/sla-errors/{id}` listed where the routers serve `/sla-errors/stats`.
    const swapped: AnyModule = {
      ...slaErrors,
      load: () => load(),
      routes: [table[4], ...table.slice(1, 4), table[0]] as string[],
    };
    const app = await createTestApp({
      modules: [swapped],
      api: { moduleCode: 'on-first-request' },
    });
    // Served from the table, `/sla-errors/stats` would reach the record route's handler.
    expect((await app.call('/sla-errors/stats')).status).toBe(500);
    expect((await app.call('/sla-errors')).status).toBe(500);
  });
});
