import { describe, expect, it } from 'vitest';
import {
  type InjectedFaults,
  injectFaults,
  transactionConflict,
  transactionInvalid,
  transactionThrottled,
} from '../support/faults.js';
import {
  bodyOf,
  createCustomersApp,
  executionsOf,
  exists,
  expectProblem,
  uniqueId,
} from './fixtures.js';

describe('PUT /customers/{id}', () => {
  it('answers 201 with created: true the first time and 200 with created: false after', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');

    const first = await app.call(`/customers/${id}`, { method: 'PUT' });
    const second = await app.call(`/customers/${id}`, { method: 'PUT' });

    expect(await bodyOf(first, 201)).toEqual({ id, created: true });
    expect(await bodyOf(second, 200)).toEqual({ id, created: false });
    expect(await exists(app, id)).toBe(true);
  });

  it('registers an id once when many PUTs race for it', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('race');

    const answers = await Promise.all(
      Array.from({ length: 20 }, () => app.call(`/customers/${id}`, { method: 'PUT' })),
    );

    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    await app.idle();
    // One CustomerCreated, so one execution started by the event.
    expect(await executionsOf(app, id)).toHaveLength(1);
  });

  it('answers 503 with Retry-After, not 500, when the transaction keeps conflicting, and stores nothing', async () => {
    const app = await createCustomersApp({
      dynamo: (clients) => {
        injectFaults(clients, {
          command: 'TransactWrite',
          times: Number.POSITIVE_INFINITY,
          error: transactionConflict(2),
        });
        return clients;
      },
    });
    const id = uniqueId('contended');

    const res = await app.call(`/customers/${id}`, { method: 'PUT' });

    await expectProblem(res, 503, 'DEPENDENCY.UNAVAILABLE');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await exists(app, id)).toBe(false);
  });

  it('tries a transaction DynamoDB cancelled for throughput again, and answers 201', async () => {
    let faults: InjectedFaults | undefined;
    const app = await createCustomersApp({
      dynamo: (clients) => {
        faults = injectFaults(clients, {
          command: 'TransactWrite',
          times: 2,
          error: transactionThrottled(2),
        });
        return clients;
      },
    });
    const id = uniqueId('throttled');

    expect(await bodyOf(await app.call(`/customers/${id}`, { method: 'PUT' }), 201)).toEqual({
      id,
      created: true,
    });
    expect(faults?.injected()).toBe(2);
    expect(await exists(app, id)).toBe(true);
  });

  it('does not read a cancellation that is not about a condition as "the id was taken"', async () => {
    const app = await createCustomersApp({
      dynamo: (clients) => {
        injectFaults(clients, { command: 'TransactWrite', times: 1, error: transactionInvalid(2) });
        return clients;
      },
    });
    const id = uniqueId('invalid');

    const res = await app.call(`/customers/${id}`, { method: 'PUT' });

    await expectProblem(res, 500, 'INTERNAL');
    expect(await exists(app, id)).toBe(false);
    // Nothing was stored, so the same PUT again creates it.
    expect(await bodyOf(await app.call(`/customers/${id}`, { method: 'PUT' }), 201)).toEqual({
      id,
      created: true,
    });
  });

  it('accepts the JSON content type with no body, as the examples of docs/seeds.md send it', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');

    const res = await app.call(`/customers/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
    });

    expect(await bodyOf(res, 201)).toEqual({ id, created: true });
  });

  it('refuses an id outside 1–100 characters of A-Z a-z 0-9 . _ : - with 422', async () => {
    const app = await createCustomersApp();

    const problem = await expectProblem(
      await app.call(`/customers/${'x'.repeat(101)}`, { method: 'PUT' }),
      422,
      'REQUEST.VALIDATION_FAILED',
    );
    expect(problem.errors?.[0]?.path).toBe('path.id');
    await expectProblem(await app.call('/customers/a%20b', { method: 'PUT' }), 422);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const app = await createCustomersApp();

    const res = await app.call(`/customers/${uniqueId('c')}`, {
      method: 'PUT',
      body: 'id=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

    await expectProblem(res, 415);
  });

  it('needs an API key', async () => {
    const app = await createCustomersApp();

    await expectProblem(
      await app.call(`/customers/${uniqueId('c')}`, { method: 'PUT', key: null }),
      401,
    );
    await expectProblem(
      await app.call(`/customers/${uniqueId('c')}`, { key: 'wrong-key-123' }),
      401,
    );
  });
});

describe('GET /customers/{id}', () => {
  it('answers 200 with exists: false for an unknown id, never 404', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('nobody');

    expect(await bodyOf(await app.call(`/customers/${id}`), 200)).toEqual({ id, exists: false });
  });

  it('answers 200 with exists: true once registered', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');
    await app.call(`/customers/${id}`, { method: 'PUT' });

    expect(await bodyOf(await app.call(`/customers/${id}`), 200)).toEqual({ id, exists: true });
  });
});

describe('DELETE /customers/{id}', () => {
  it('removes a registered id with 200 and deleted: true', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');
    await app.call(`/customers/${id}`, { method: 'PUT' });
    await app.idle();

    const res = await app.call(`/customers/${id}`, { method: 'DELETE' });

    expect(await bodyOf(res, 200)).toEqual({ id, deleted: true });
    expect(await exists(app, id)).toBe(false);
  });

  it('answers 404 for an id that is not registered', async () => {
    const app = await createCustomersApp();

    await expectProblem(
      await app.call(`/customers/${uniqueId('nobody')}`, { method: 'DELETE' }),
      404,
      'CUSTOMERS.CUSTOMER_NOT_FOUND',
    );
  });

  it('lets the id be registered again afterwards (201)', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');
    await app.call(`/customers/${id}`, { method: 'PUT' });
    // Its CustomerCreated run may still be under way: it cannot bring the id back
    // (delete-race.test.ts), and it does not stand in the way of the next PUT either.
    await app.call(`/customers/${id}`, { method: 'DELETE' });

    expect(await bodyOf(await app.call(`/customers/${id}`, { method: 'PUT' }), 201)).toEqual({
      id,
      created: true,
    });
  });
});

describe('CORS', () => {
  it('answers a preflight for PUT with content-type and x-api-key from localhost:5173 with 204', async () => {
    const app = await createCustomersApp();

    const res = await app.call('/customers/user_abc', {
      method: 'OPTIONS',
      key: null,
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type,x-api-key',
      },
    });

    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const list = (name: string) =>
      (res.headers.get(name) ?? '').split(',').map((v) => v.trim().toLowerCase());
    expect(list('access-control-allow-methods')).toEqual(
      expect.arrayContaining(['get', 'put', 'delete', 'options']),
    );
    expect(list('access-control-allow-headers')).toEqual(
      expect.arrayContaining(['content-type', 'x-api-key']),
    );
  });
});
