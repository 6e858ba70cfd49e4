import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { customersKeys } from '../../src/modules/customers/customers.dynamo.js';
import { customersModule } from '../../src/modules/customers/customers.module.js';
import { allPages } from '../support/fixture-app.js';
import {
  bodyOf,
  type CustomersApp,
  createCustomersApp,
  type Execution,
  expectProblem,
  uniqueId,
} from './fixtures.js';

interface Listed {
  readonly id: string;
  readonly createdAt: string;
}

/** A clock one second further on at each reading, so every write has its own time. */
function tickingClock(start = '2026-03-01T00:00:00.000Z') {
  let t = Date.parse(start);
  return () => {
    t += 1000;
    return new Date(t);
  };
}

const put = (app: CustomersApp, id: string) => app.call(`/customers/${id}`, { method: 'PUT' });
const del = (app: CustomersApp, id: string) => app.call(`/customers/${id}`, { method: 'DELETE' });

async function listedIds(app: CustomersApp, query = ''): Promise<string[]> {
  return (await allPages<Listed>(app, `/customers${query}`)).flat().map((c) => c.id);
}

async function listedExecutions(app: CustomersApp, query = ''): Promise<string[]> {
  return (await allPages<Execution>(app, `/workflow/executions${query}`))
    .flat()
    .map((e) => e.executionId);
}

/** A RUNNING record started at `startedAt`, written by the workflow's own first step. */
async function started(app: CustomersApp, executionId: string, startedAt: string, id = 'c') {
  await app.servicesOf(customersModule).steps.validateExists({
    id,
    executionId,
    startedAt,
    input: { id },
  });
}

async function failed(app: CustomersApp, executionId: string) {
  await app.servicesOf(customersModule).steps.recordFailure({
    executionId,
    error: { Error: 'States.TaskFailed', Cause: 'boom' },
  });
}

describe('GET /customers', () => {
  it('lists the registered ids newest first, a page at a time', async () => {
    const app = await createCustomersApp({ clock: tickingClock() });
    const ids = Array.from({ length: 5 }, (_, i) => uniqueId(`c${i}`));
    for (const id of ids) await bodyOf(await put(app, id), 201);
    await app.idle();

    const pages = await allPages<Listed>(app, '/customers?limit=2');

    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((c) => c.id)).toEqual([...ids].reverse());
    expect(pages[0]?.[0]).toEqual({ id: ids[4], createdAt: expect.any(String) });
  });

  it('takes a deleted id out of the list and puts it back, first, when it is registered again', async () => {
    const app = await createCustomersApp({ clock: tickingClock() });
    const [a, b, c] = [uniqueId('a'), uniqueId('b'), uniqueId('c')];
    for (const id of [a, b, c]) await bodyOf(await put(app, id), 201);

    await bodyOf(await del(app, b), 200);
    expect(await listedIds(app)).toEqual([c, a]);

    await bodyOf(await put(app, b), 201);
    expect(await listedIds(app)).toEqual([b, c, a]);
  });

  it('lists an id the workflow inserted', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('wf');
    await bodyOf(await app.call('/workflow/submit', { method: 'POST', json: { id } }), 202);
    await app.idle();

    expect(await listedIds(app)).toEqual([id]);
  });

  it('refuses a cursor of the executions list with 400', async () => {
    const app = await createCustomersApp();
    await started(app, uniqueId('x'), '2026-03-01T00:00:00.000Z');
    await started(app, uniqueId('x'), '2026-03-01T00:00:01.000Z');
    const res = await app.call('/workflow/executions?limit=1');
    const cursor = new URLSearchParams(/^<\?([^>]+)>/.exec(res.headers.get('link') ?? '')?.[1]).get(
      'cursor',
    );

    await expectProblem(
      await app.call(`/customers?cursor=${encodeURIComponent(cursor ?? '')}`),
      400,
      'PAGINATION.CURSOR_INVALID',
    );
  });

  it('answers 422 for limit=0', async () => {
    const app = await createCustomersApp();

    await expectProblem(await app.call('/customers?limit=0'), 422, 'REQUEST.VALIDATION_FAILED');
  });
});

describe('GET /workflow/executions by status and time', () => {
  const at = (second: number) => `2026-03-01T00:00:${String(second).padStart(2, '0')}.000Z`;

  it('lists every execution newest first, or those of one status, a page at a time', async () => {
    const app = await createCustomersApp();
    const [x1, x2, x3, x4] = [1, 2, 3, 4].map((n) => uniqueId(`x${n}`));
    for (const [n, x] of [x1, x2, x3, x4].entries()) await started(app, x as string, at(n + 1));
    await failed(app, x2 as string);
    await app.servicesOf(customersModule).steps.recordAlreadyExists({ id: 'c', executionId: x3 });

    expect((await allPages(app, '/workflow/executions?limit=3')).map((p) => p.length)).toEqual([
      3, 1,
    ]);
    expect(await listedExecutions(app, '?limit=3')).toEqual([x4, x3, x2, x1]);
    expect(await listedExecutions(app, '?status=RUNNING&limit=1')).toEqual([x4, x1]);
    expect(await listedExecutions(app, '?status=FAILED')).toEqual([x2]);
    expect(await listedExecutions(app, '?status=SUCCEEDED')).toEqual([x3]);
  });

  it('moves an execution from RUNNING to the status it ends with', async () => {
    const app = await createCustomersApp();
    const x = uniqueId('x');
    await started(app, x, at(1));
    expect(await listedExecutions(app, '?status=RUNNING')).toEqual([x]);
    expect(await listedExecutions(app, '?status=FAILED')).toEqual([]);

    await failed(app, x);

    expect(await listedExecutions(app, '?status=RUNNING')).toEqual([]);
    expect(await listedExecutions(app, '?status=FAILED')).toEqual([x]);
    expect(await listedExecutions(app)).toEqual([x]);
  });

  it('moves an execution the reconciler closes', async () => {
    const app = await createCustomersApp();
    const x = uniqueId('lost');
    await started(app, x, at(1));

    // The local engine never heard of it: the reconciler closes it FAILED (Roster.Interrupted).
    expect(await app.servicesOf(customersModule).workflow.reconcile({ all: true })).toBe(1);

    expect(await listedExecutions(app, '?status=RUNNING')).toEqual([]);
    expect(await listedExecutions(app, '?status=FAILED')).toEqual([x]);
  });

  it('keeps the executions started in [from, to), with or without a status', async () => {
    const app = await createCustomersApp();
    const xs = [1, 2, 3, 4, 5].map((n) => uniqueId(`x${n}`));
    for (const [n, x] of xs.entries()) await started(app, x, at(n + 1));
    await failed(app, xs[2] as string);

    const [x1, x2, x3, x4, x5] = xs;
    expect(await listedExecutions(app, `?from=${at(2)}&to=${at(4)}`)).toEqual([x3, x2]);
    expect(await listedExecutions(app, `?from=${at(4)}`)).toEqual([x5, x4]);
    expect(await listedExecutions(app, `?to=${at(2)}`)).toEqual([x1]);
    expect(await listedExecutions(app, `?status=RUNNING&from=${at(2)}&to=${at(5)}`)).toEqual([
      x4,
      x2,
    ]);
    // Instants whose UTC year leaves 0000–9999 (an offset can do that) bound nothing further.
    expect(
      await listedExecutions(
        app,
        `?from=${encodeURIComponent('0000-01-01T00:00:00+01:00')}&to=${encodeURIComponent('9999-12-31T23:59:59-23:59')}`,
      ),
    ).toEqual([...xs].reverse());
    // An offset is the same instant in UTC.
    expect(
      await listedExecutions(app, `?from=${encodeURIComponent('2026-03-01T01:00:04+01:00')}`),
    ).toEqual([x5, x4]);
  });

  it('keeps listing a customer’s executions with ?id=, within [from, to) too', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');
    const [x1, x2] = [uniqueId('x1'), uniqueId('x2')];
    await started(app, x1, at(1), id);
    await started(app, x2, at(2), id);
    await started(app, uniqueId('other'), at(3));

    expect(await listedExecutions(app, `?id=${id}`)).toEqual([x2, x1]);
    expect(await listedExecutions(app, `?id=${id}&from=${at(2)}`)).toEqual([x2]);
  });

  it.each([
    ['an unknown status', '?status=DONE', 'query.status'],
    ['a from that is not a date-time', '?from=yesterday', 'query.from'],
    ['a to without a time zone', '?to=2026-03-01T00:00:00', 'query.to'],
    ['from not before to', `?from=${at(5)}&to=${at(5)}`, 'query.to'],
    ['a status with an id', '?id=c&status=RUNNING', 'query.status'],
  ])('answers 422 for %s', async (_, query, path) => {
    const app = await createCustomersApp();

    const problem = await expectProblem(
      await app.call(`/workflow/executions${query}`),
      422,
      'REQUEST.VALIDATION_FAILED',
    );
    expect(problem.errors).toEqual([{ path, message: expect.any(String) }]);
  });
});

describe('the list backfill (data the previous release wrote)', () => {
  const startedAt = (second: number) => `2025-01-01T00:00:0${second}.000Z`;
  /** Items exactly as the previous release's adapter wrote them: no list attributes. */
  const legacy = {
    customer: (id: string, createdAt: string, version?: number) => ({
      ...customersKeys.customer(id),
      type: 'customer',
      id,
      createdAt,
      createdBy: 'api',
      ...(version === undefined ? {} : { version }),
    }),
    tombstone: (id: string) => ({
      ...customersKeys.customer(id),
      type: 'customer',
      id,
      deletedAt: '2025-01-02T00:00:00.000Z',
      version: 2,
    }),
    running: (executionId: string, second: number, customerId: string) => ({
      ...customersKeys.execution(executionId),
      type: 'execution',
      executionId,
      status: 'RUNNING',
      input: { id: customerId },
      startedAt: startedAt(second),
      GSI1PK: 'RUNNING',
      GSI1SK: `${startedAt(second)}#${executionId}`,
      customerId,
      GSI2PK: `CUSTOMER#${customerId}`,
      GSI2SK: `${startedAt(second)}#${executionId}`,
    }),
    // Closing one took it out of gsi1 (REMOVE GSI1PK, GSI1SK).
    succeeded: (executionId: string, second: number, customerId: string) => ({
      ...customersKeys.execution(executionId),
      type: 'execution',
      executionId,
      status: 'SUCCEEDED',
      input: { id: customerId },
      startedAt: startedAt(second),
      stoppedAt: startedAt(second + 1),
      branch: 'Inserted',
      output: { id: customerId, branch: 'Inserted' },
      customerId,
      GSI2PK: `CUSTOMER#${customerId}`,
      GSI2SK: `${startedAt(second)}#${executionId}`,
    }),
    failedWithoutId: (executionId: string, second: number) => ({
      ...customersKeys.execution(executionId),
      type: 'execution',
      executionId,
      status: 'FAILED',
      input: {},
      startedAt: startedAt(second),
      stoppedAt: startedAt(second + 1),
      error: { error: 'Customers.InvalidInput', cause: 'no id' },
    }),
  };

  const runBackfill = (app: CustomersApp) => {
    const task = customersModule.tasks?.find((t) => t.name === 'backfill-list-indexes');
    if (!task) throw new Error('no backfill-list-indexes task');
    return task.run(app.servicesOf(customersModule), { trigger: 'startup' });
  };

  it('puts the old items in the lists, idempotently, and leaves tombstones out', async () => {
    const app = await createCustomersApp({ env: { CUSTOMERS_LIST_BACKFILL_PAGE_SIZE: '2' } });
    const [old, older, gone] = [uniqueId('old'), uniqueId('older'), uniqueId('gone')];
    const [run, done, bad] = [uniqueId('run'), uniqueId('done'), uniqueId('bad')];
    for (const Item of [
      legacy.customer(older, '2025-01-01T00:00:00.000Z'),
      legacy.customer(old, '2025-01-01T00:00:05.000Z', 1),
      legacy.tombstone(gone),
      legacy.running(run, 3, old),
      legacy.succeeded(done, 1, old),
      legacy.failedWithoutId(bad, 2),
    ]) {
      await app.dynamo.doc.send(new PutCommand({ TableName: app.config.tables.customers, Item }));
    }
    const before = {
      customers: await listedIds(app),
      all: await listedExecutions(app),
      succeeded: await listedExecutions(app, '?status=SUCCEEDED'),
    };
    expect(before).toEqual({ customers: [], all: [], succeeded: [] });

    expect(await runBackfill(app)).toEqual({ customers: 2, executions: 3 });

    expect(await listedIds(app)).toEqual([old, older]);
    expect(await listedExecutions(app)).toEqual([run, bad, done]);
    expect(await listedExecutions(app, '?status=RUNNING')).toEqual([run]);
    expect(await listedExecutions(app, '?status=SUCCEEDED')).toEqual([done]);
    expect(await listedExecutions(app, '?status=FAILED')).toEqual([bad]);
    expect(await listedExecutions(app, `?id=${old}`)).toEqual([run, done]);

    // Again: nothing left to do, nothing moves.
    expect(await runBackfill(app)).toEqual({ customers: 0, executions: 0 });
    expect(await listedIds(app)).toEqual([old, older]);
    expect(await listedExecutions(app)).toEqual([run, bad, done]);

    // A backfilled id leaves the list on DELETE; the reconciler still finds the old RUNNING one.
    await bodyOf(await del(app, old), 200);
    expect(await listedIds(app)).toEqual([older]);
    await app.servicesOf(customersModule).workflow.reconcile({ all: true });
    expect(await listedExecutions(app, '?status=FAILED')).toEqual([run, bad]);
  });

  it('is a start-up task, on a schedule that can be turned off', async () => {
    const task = customersModule.tasks?.find((t) => t.name === 'backfill-list-indexes');
    const on = await createCustomersApp();
    const off = await createCustomersApp({ env: { CUSTOMERS_LIST_BACKFILL_SCHEDULE: 'off' } });

    expect(task?.startup).toBe(true);
    expect(task?.schedule?.(on.config.settings.customers as never)).toBe('rate(1 hour)');
    expect(task?.schedule?.(off.config.settings.customers as never)).toBeUndefined();
  });
});
