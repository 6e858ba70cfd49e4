import { beforeAll, describe, expect, it } from 'vitest';
import { customersKeys } from '../../src/modules/customers/customers.dynamo.js';
import { customersModule } from '../../src/modules/customers/customers.module.js';
import { type DomainEvent, outboxQueue } from '../../src/platform/outbox/outbox.js';
import { loggedEvents } from '../support/app.js';
import {
  both,
  commandIs,
  delayCalls,
  gate,
  inputMentions,
  outboxPutFails,
} from '../support/faults.js';
import {
  bodyOf,
  type CustomersApp,
  createCustomersApp,
  executionsOf,
  expectProblem,
  submitAndWait,
  uniqueId,
} from './fixtures.js';

/*
 * A customer id's domain events are committed in the transactions that change it: created by a
 * PUT or by the workflow's InsertId, deleted by a DELETE. Their sequence is the entry's version
 * (each create and each delete takes the next), so a re-created id goes on counting after its
 * delete. A change refused, a replay and a run that finds the id registered or deleted since
 * commit none; no change commits without its event.
 */

const put = (app: CustomersApp, id: string) => app.call(`/customers/${id}`, { method: 'PUT' });
const del = (app: CustomersApp, id: string) => app.call(`/customers/${id}`, { method: 'DELETE' });
const shown = async (app: CustomersApp, id: string) =>
  bodyOf<{ id: string; exists: boolean }>(await app.call(`/customers/${id}`), 200);

/** The (type, sequence) of each event of `id`, oldest first. */
const history = async (app: CustomersApp, id: string) =>
  (await eventsOf(app, id)).map((event) => [event.type, event.aggregate.sequence]);

let app: CustomersApp;
beforeAll(async () => {
  app = await createCustomersApp();
});

describe('customer.created', () => {
  it('is committed once by PUT /customers/{id}, at sequence 1, with the id as GET answers it, and announced', async () => {
    const fresh = await createCustomersApp();
    const id = uniqueId('put');

    await bodyOf(await put(fresh, id), 201);
    await fresh.idle();

    const events = await eventsOf(fresh, id);
    expect(events).toEqual([
      {
        id: expect.any(String),
        type: 'customer.created',
        occurredAt: expect.any(String),
        aggregate: { type: 'customer', id, sequence: 1 },
        data: await shown(fresh, id),
      },
    ]);
    expect(events[0]?.data).toEqual({ id, exists: true });
    expect(await announced(fresh)).toEqual([events[0]?.id]);
  });

  it('is committed once by the workflow’s InsertId, at sequence 1', async () => {
    const id = uniqueId('sfn');

    const run = await submitAndWait(app, id);

    expect(run).toMatchObject({ status: 'SUCCEEDED', branch: 'Inserted' });
    const events = await eventsOf(app, id);
    expect(events).toEqual([
      {
        id: expect.any(String),
        type: 'customer.created',
        occurredAt: expect.any(String),
        aggregate: { type: 'customer', id, sequence: 1 },
        data: await shown(app, id),
      },
    ]);
  });

  it('is not committed again by a PUT of a registered id, nor by a run that finds it registered', async () => {
    const id = uniqueId('again');
    await bodyOf(await put(app, id), 201);
    await app.idle();

    await bodyOf(await put(app, id), 200);
    expect(await submitAndWait(app, id)).toMatchObject({ branch: 'AlreadyExists' });
    await app.idle();

    expect(await history(app, id)).toEqual([['customer.created', 1]]);
  });

  it('is not committed again when InsertId runs again after its commit (a retried task)', async () => {
    const id = uniqueId('retried');
    const executionId = uniqueId('exec');
    const { steps } = app.servicesOf(customersModule);
    const { version } = await steps.validateExists({
      id,
      executionId,
      startedAt: new Date().toISOString(),
      input: { id },
    });

    const first = await steps.insertId({ id, executionId, version });
    const again = await steps.insertId({ id, executionId, version });

    expect(first).toEqual({ id, branch: 'Inserted' });
    expect(again).toEqual(first);
    expect(await history(app, id)).toEqual([['customer.created', 1]]);
  });

  it('is not committed for a refused PUT (an id that cannot be one)', async () => {
    const before = await loggedEvents(app);

    await expectProblem(await put(app, 'no spaces allowed'), 422);
    await expectProblem(await put(app, 'x'.repeat(101)), 422);

    expect(await loggedEvents(app)).toEqual(before);
  });

  it('takes the customer (and its CustomerCreated) with it when its write fails', async () => {
    const fault = outboxPutFails();
    const faulty = await createCustomersApp({ dynamo: fault.install });
    const id = uniqueId('atomic');
    fault.armed = true;

    await expectProblem(await put(faulty, id), 500);

    fault.armed = false;
    expect(fault.cancelled()).toBe(1);
    expect(await shown(faulty, id)).toEqual({ id, exists: false });
    expect(await loggedEvents(faulty)).toEqual([]);
    await faulty.idle();
    // No CustomerCreated either: nothing started a run.
    expect(await executionsOf(faulty, id)).toEqual([]);
  });

  it('takes InsertId’s customer with it when its write fails: the run fails, the id stays free', async () => {
    const fault = outboxPutFails();
    const faulty = await createCustomersApp({ dynamo: fault.install });
    const id = uniqueId('atomic-sfn');
    fault.armed = true;

    const run = await submitAndWait(faulty, id);

    fault.armed = false;
    expect(fault.cancelled()).toBeGreaterThanOrEqual(1);
    expect(run).toMatchObject({ status: 'FAILED' });
    expect(await shown(faulty, id)).toEqual({ id, exists: false });
    expect(await loggedEvents(faulty)).toEqual([]);
  });
});

describe('customer.deleted', () => {
  it('is committed once by DELETE /customers/{id}, at sequence 2, with the id as GET answers it', async () => {
    const id = uniqueId('del');
    await bodyOf(await put(app, id), 201);
    await app.idle();

    await bodyOf(await del(app, id), 200);

    const events = await eventsOf(app, id);
    expect(events.map((event) => event.type)).toEqual(['customer.created', 'customer.deleted']);
    expect(events[1]).toEqual({
      id: expect.any(String),
      type: 'customer.deleted',
      occurredAt: expect.any(String),
      aggregate: { type: 'customer', id, sequence: 2 },
      data: await shown(app, id),
    });
    expect(events[1]?.data).toEqual({ id, exists: false });
  });

  it('is not committed for a DELETE of an id that is not registered, or deleted already', async () => {
    const id = uniqueId('gone');
    await bodyOf(await put(app, id), 201);
    await app.idle();
    await bodyOf(await del(app, id), 200);

    await expectProblem(await del(app, id), 404);
    await expectProblem(await del(app, uniqueId('never')), 404);

    expect(await history(app, id)).toEqual([
      ['customer.created', 1],
      ['customer.deleted', 2],
    ]);
  });

  it('leaves the customer registered when its write fails', async () => {
    const fault = outboxPutFails();
    const faulty = await createCustomersApp({ dynamo: fault.install });
    const id = uniqueId('atomic-del');
    await bodyOf(await put(faulty, id), 201);
    await faulty.idle();
    fault.armed = true;

    await expectProblem(await del(faulty, id), 500);

    fault.armed = false;
    expect(fault.cancelled()).toBe(1);
    expect(await shown(faulty, id)).toEqual({ id, exists: true });
    expect(await history(faulty, id)).toEqual([['customer.created', 1]]);
  });
});

describe('a customer id created again after its delete', () => {
  it('goes on counting: PUT after DELETE is created at sequence 3, its DELETE at 4', async () => {
    const id = uniqueId('recreate');
    await bodyOf(await put(app, id), 201);
    await app.idle();
    await bodyOf(await del(app, id), 200);

    await bodyOf(await put(app, id), 201);
    await app.idle();
    await bodyOf(await del(app, id), 200);

    expect(await history(app, id)).toEqual([
      ['customer.created', 1],
      ['customer.deleted', 2],
      ['customer.created', 3],
      ['customer.deleted', 4],
    ]);
  });

  it('goes on counting when the workflow inserts it again: created at sequence 3', async () => {
    const id = uniqueId('reinsert');
    await bodyOf(await put(app, id), 201);
    await app.idle();
    await bodyOf(await del(app, id), 200);

    expect(await submitAndWait(app, id)).toMatchObject({ branch: 'Inserted' });

    expect(await history(app, id)).toEqual([
      ['customer.created', 1],
      ['customer.deleted', 2],
      ['customer.created', 3],
    ]);
    expect((await eventsOf(app, id))[2]?.data).toEqual(await shown(app, id));
  });

  it('is not created by the run of a PUT whose id was deleted before the run read it (Superseded)', async () => {
    const id = uniqueId('late');
    const deleted = gate();
    const held = await createCustomersApp({
      dynamo: (clients) => {
        // The run's first write (ValidateExists records the execution) waits for the DELETE.
        delayCalls(clients, {
          when: both(commandIs('PutItem'), inputMentions(customersKeys.customer(id).PK)),
          until: deleted.opened,
        });
        return clients;
      },
    });

    await bodyOf(await put(held, id), 201);
    await bodyOf(await del(held, id), 200);
    deleted.open();
    await held.idle();

    expect(await executionsOf(held, id)).toEqual([
      expect.objectContaining({ status: 'SUCCEEDED', branch: 'Superseded' }),
    ]);
    expect(await history(held, id)).toEqual([
      ['customer.created', 1],
      ['customer.deleted', 2],
    ]);
  });
});

async function eventsOf(testApp: CustomersApp, id: string): Promise<DomainEvent[]> {
  return (await loggedEvents(testApp)).filter((event) => event.aggregate.id === id);
}

/** The event ids the wake-ups on the domain-events queue announced (received and deleted). */
async function announced(testApp: CustomersApp): Promise<string[]> {
  const { queues } = testApp.adapters;
  const ids: string[] = [];
  for (const message of await queues.receive(outboxQueue, 100)) {
    ids.push(...(JSON.parse(message.body) as { eventIds: string[] }).eventIds);
    queues.delete(outboxQueue, message);
  }
  return ids;
}
