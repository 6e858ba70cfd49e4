import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { customersKeys } from '../../src/modules/customers/customers.dynamo.js';
import { customersModule } from '../../src/modules/customers/customers.module.js';
import { CUSTOMER_WORKFLOW } from '../../src/modules/customers/customers.service.js';
import type { BusEvent } from '../../src/platform/event-bus/bus.js';
import { createLogger } from '../../src/platform/logger.js';
import { LocalEventBus } from '../../src/runtime/local/event-bus.js';
import { localTasks } from '../../src/runtime/local/tasks.js';
import { both, commandIs, delayCalls, type Gate, gate, inputMentions } from '../support/faults.js';
import { journalEntries } from '../support/journal.js';
import { sleep } from '../support/poll.js';
import {
  bodyOf,
  type CustomersApp,
  createCustomersApp,
  execution,
  executionsOf,
  exists,
  uniqueId,
} from './fixtures.js';

const silent = createLogger('silent');

/** The outbox items still waiting for the bus. */
async function outbox(app: CustomersApp): Promise<Record<string, unknown>[]> {
  const out = await app.dynamo.doc.send(
    new QueryCommand({
      TableName: app.config.tables.customers,
      IndexName: customersKeys.pendingIndex,
      KeyConditionExpression: 'GSI1PK = :outbox',
      ExpressionAttributeValues: { ':outbox': 'OUTBOX' },
    }),
  );
  return out.Items ?? [];
}

describe('CustomerCreated', () => {
  it('PUT /customers/{id} → CustomerCreated → an execution on the AlreadyExists branch', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');

    expect(await bodyOf(await app.call(`/customers/${id}`, { method: 'PUT' }), 201)).toEqual({
      id,
      created: true,
    });
    await app.idle();

    // The PUT stored the id before the event was published, so the workflow finds it.
    expect(await executionsOf(app, id)).toEqual([
      expect.objectContaining({
        id,
        status: 'SUCCEEDED',
        input: { id, version: 1 },
        branch: 'AlreadyExists',
        output: { id, branch: 'AlreadyExists' },
      }),
    ]);
    expect(await outbox(app)).toEqual([]);
    expect(app.adapters.metrics.snapshot()).toEqual({
      'customers.CustomerCreated': 1,
      'customers.IdAlreadyRegistered': 1,
    });
  });

  it('is not emitted by a PUT of an id that was registered already', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');
    await app.call(`/customers/${id}`, { method: 'PUT' });
    await app.idle();

    await bodyOf(await app.call(`/customers/${id}`, { method: 'PUT' }), 200);
    await app.idle();

    expect(await executionsOf(app, id)).toHaveLength(1);
  });

  it('starts nothing when an event matches no rule', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');
    const event = (overrides: Partial<BusEvent>): BusEvent => ({
      source: 'customer.api',
      detailType: 'CustomerCreated',
      detail: { id },
      ...overrides,
    });

    await app.adapters.ports.events.publish([
      event({ detailType: 'CustomerDeleted' }),
      event({ source: 'customer.admin' }),
      event({ detailType: 'customercreated' }),
    ]);
    await app.idle();
    expect(await executionsOf(app, id)).toEqual([]);

    // The rule itself is live: the matching event does start one.
    await app.adapters.ports.events.publish([event({})]);
    await app.idle();
    expect(await executionsOf(app, id)).toEqual([
      expect.objectContaining({ status: 'SUCCEEDED', branch: 'Inserted' }),
    ]);
  });

  it('answers 201 when the bus refuses the event, and the outbox sweep publishes it later', async () => {
    let busDown = true;
    const app = await createCustomersApp({
      env: { CUSTOMERS_OUTBOX_GRACE_SECONDS: '0' },
      wrap: (ports) => ({
        ...ports,
        events: {
          publish: async (events) => {
            if (busDown) throw new Error('EventBridge did not answer');
            return ports.events.publish(events);
          },
        },
      }),
    });
    const id = uniqueId('c');

    const res = await app.call(`/customers/${id}`, { method: 'PUT' });

    expect(await bodyOf(res, 201)).toEqual({ id, created: true });
    await app.idle();
    expect(await executionsOf(app, id)).toEqual([]);
    expect(await outbox(app)).toEqual([
      expect.objectContaining({
        source: 'customer.api',
        detailType: 'CustomerCreated',
        detail: { id, version: 1 },
      }),
    ]);
    // While the bus is down the sweep fails (and keeps the event)…
    await expect(app.servicesOf(customersModule).customers.publishPending()).rejects.toThrow();
    expect(await outbox(app)).toHaveLength(1);

    busDown = false;
    expect(await app.servicesOf(customersModule).customers.publishPending()).toBe(1);
    await app.idle();

    expect(await outbox(app)).toEqual([]);
    expect(await executionsOf(app, id)).toEqual([
      expect.objectContaining({ status: 'SUCCEEDED', branch: 'AlreadyExists' }),
    ]);
  });
});

describe('the schedule', () => {
  it('starts the workflow with {"id":"scheduled-check"} on its rate', async () => {
    const app = await createCustomersApp({ env: { CUSTOMERS_SCHEDULE: 'rate(1 second)' } });
    const tasks = localTasks(app, silent);

    await tasks.start();
    await sleep(2_300);
    await tasks.stop();
    await app.idle();

    const runs = await executionsOf(app, 'scheduled-check');
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.length).toBeLessThanOrEqual(3);
    expect(runs.every((run) => run.status === 'SUCCEEDED')).toBe(true);
    expect(runs.at(-1)).toMatchObject({ input: { id: 'scheduled-check' }, branch: 'Inserted' });
    expect(runs.at(0)).toMatchObject({ branch: 'AlreadyExists' });
  });

  it('does not run when turned off', async () => {
    const app = await createCustomersApp({ env: { CUSTOMERS_SCHEDULE: 'off' } });

    const schedule = customersModule.tasks?.find((t) => t.name === 'scheduled-check');

    expect(schedule?.schedule?.(app.config.settings.customers as never)).toBeUndefined();
  });
});

describe('a restart', () => {
  it('marks an execution the previous process left RUNNING as FAILED, and keeps every record readable', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}`;
    const id = uniqueId('crash');
    const insert = gate();
    const before = await createCustomersApp({
      env: { TABLE_PREFIX: prefix },
      dynamo: (clients) => {
        // InsertId never gets through while this process "runs".
        delayCalls(clients, {
          when: both(commandIs('TransactWrite'), inputMentions(customersKeys.customer(id).PK)),
          until: insert.opened,
          maxMs: 10_000,
        });
        return clients;
      },
    });
    const done = await bodyOf<{ executionId: string }>(
      await before.call('/workflow/submit', { method: 'POST', json: { id: uniqueId('ok') } }),
      202,
    );
    const { executionId } = await bodyOf<{ executionId: string }>(
      await before.call('/workflow/submit', { method: 'POST', json: { id } }),
      202,
    );
    while ((await execution(before, done.executionId)).status === 'RUNNING') await sleep(10);
    // The process "dies": its engine is gone with the execution it was running.
    void before.adapters.workflows.stop(0);

    const after = await createCustomersApp({ env: { TABLE_PREFIX: prefix } });
    expect(await after.adapters.workflows.describe(CUSTOMER_WORKFLOW, executionId)).toBeUndefined();
    expect(await execution(after, executionId)).toMatchObject({ status: 'RUNNING' });
    const tasks = localTasks(after, silent);
    await tasks.start();
    await tasks.stop();

    expect(await execution(after, executionId)).toMatchObject({
      status: 'FAILED',
      error: { error: 'Roster.Interrupted' },
      stoppedAt: expect.any(String),
    });
    expect(await execution(after, done.executionId)).toMatchObject({
      status: 'SUCCEEDED',
      branch: 'Inserted',
    });
    insert.open();
  });
});

describe('journals of the local bus and engine (a crash loses nothing acknowledged)', () => {
  /** The run's read of the id (its first step, ValidateExists), nothing the API does. */
  const runCalls = (id: string) =>
    both(commandIs('GetItem'), inputMentions(customersKeys.customer(id).PK));
  const busJournal = (dir: string) => journalEntries(join(dir, 'event-bus'));
  const engineJournal = (dir: string) => journalEntries(join(dir, 'workflows'));
  const scratch = () => mkdtemp(join(tmpdir(), 'roster-journal-'));

  /** An app whose workflow runs for `id` get nowhere until `held` opens (the process "runs"). */
  const heldApp = (prefix: string, dir: string, id: string, held: Gate) =>
    createCustomersApp({
      env: { TABLE_PREFIX: prefix },
      journalDir: dir,
      dynamo: (clients) => {
        delayCalls(clients, { when: runCalls(id), until: held.opened, maxMs: 10_000 });
        return clients;
      },
    });

  it('keeps an event until its run started, and the run until it ended', async () => {
    const dir = await scratch();
    const id = uniqueId('c');
    const run = gate();
    const app = await heldApp(`t${randomBytes(6).toString('hex')}`, dir, id, run);

    await bodyOf(await app.call(`/customers/${id}`, { method: 'PUT' }), 201);
    await app.adapters.events.idle();

    expect(await busJournal(dir)).toEqual([]);
    expect(await engineJournal(dir)).toHaveLength(1);
    // Its own entries, under way: nothing to recover or resume.
    expect(await app.adapters.events.recover()).toBe(0);
    expect(await app.adapters.workflows.resume()).toBe(0);
    run.open();
    await app.idle();
    expect(await engineJournal(dir)).toEqual([]);
    expect(await executionsOf(app, id)).toEqual([
      expect.objectContaining({ status: 'SUCCEEDED', branch: 'AlreadyExists' }),
    ]);
    await rm(dir, { recursive: true, force: true });
  });

  it('runs again after a restart, under the same id, an execution the previous process did not finish', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}`;
    const dir = await scratch();
    const id = uniqueId('w');
    const run = gate();
    const before = await heldApp(prefix, dir, id, run);
    const { executionId } = await bodyOf<{ executionId: string }>(
      await before.call('/workflow/submit', { method: 'POST', json: { id } }),
      202,
    );
    // The process stops: its run is aborted at once (a crash would not even get that far).
    await before.adapters.workflows.stop(0);
    await before.adapters.workflows.flushed();
    expect(await engineJournal(dir)).toHaveLength(1);

    const after = await createCustomersApp({ env: { TABLE_PREFIX: prefix }, journalDir: dir });
    expect(await after.adapters.workflows.resume()).toBe(1);
    // The start-up task that closes executions left RUNNING leaves a resumed one alone.
    const tasks = localTasks(after, silent);
    await tasks.start();
    await after.idle();
    await tasks.stop();

    expect(await execution(after, executionId)).toMatchObject({
      status: 'SUCCEEDED',
      branch: 'Inserted',
    });
    expect(await executionsOf(after, id)).toHaveLength(1);
    expect(await exists(after, id)).toBe(true);
    expect(await engineJournal(dir)).toEqual([]);
    run.open();
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers after a restart an event accepted before its target started', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}`;
    const dir = await scratch();
    const id = uniqueId('c');
    // The process dies after the bus accepted the event, before the engine took the run: an
    // engine that never answers stands for that moment.
    const stuck = new LocalEventBus(
      [customersModule],
      { start: () => new Promise(() => {}), describe: async () => undefined },
      silent,
      { journal: join(dir, 'event-bus') },
    );
    await stuck.publish([
      { source: 'customer.api', detailType: 'CustomerCreated', detail: { id } },
    ]);
    expect(await busJournal(dir)).toHaveLength(1);

    const after = await createCustomersApp({ env: { TABLE_PREFIX: prefix }, journalDir: dir });
    expect(await after.adapters.events.recover()).toBe(1);
    await after.idle();

    expect(await executionsOf(after, id)).toEqual([
      expect.objectContaining({ status: 'SUCCEEDED', branch: 'Inserted' }),
    ]);
    expect(await busJournal(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps an event whose target could not start, for the next start to deliver', async () => {
    const dir = await scratch();
    const bus = new LocalEventBus(
      [customersModule],
      {
        start: () => Promise.reject(new Error('the engine is down')),
        describe: async () => undefined,
      },
      silent,
      { journal: join(dir, 'event-bus') },
    );

    await bus.publish([
      { source: 'customer.api', detailType: 'CustomerCreated', detail: { id: uniqueId('c') } },
    ]);
    await bus.idle();

    expect(await busJournal(dir)).toHaveLength(1);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses the event when the journal cannot be written, so it stays in the outbox', async () => {
    const parent = await scratch();
    const file = join(parent, 'not-a-directory');
    await writeFile(file, '');
    const app = await createCustomersApp({ journalDir: file });
    const id = uniqueId('c');

    await bodyOf(await app.call(`/customers/${id}`, { method: 'PUT' }), 201);
    await app.idle();

    expect(await executionsOf(app, id)).toEqual([]);
    expect(await outbox(app)).toEqual([
      expect.objectContaining({ detail: { id, version: 1 }, type: 'outbox' }),
    ]);
    await rm(parent, { recursive: true, force: true });
  });
});
