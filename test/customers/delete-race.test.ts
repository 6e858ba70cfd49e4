import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { customersKeys } from '../../src/modules/customers/customers.dynamo.js';
import { customersModule } from '../../src/modules/customers/customers.module.js';
import { both, commandIs, delayCalls, failCalls, gate, inputMentions } from '../support/faults.js';
import { until } from '../support/poll.js';
import {
  bodyOf,
  type CustomersApp,
  createCustomersApp,
  type Execution,
  executionsOf,
  exists,
  expectProblem,
  uniqueId,
} from './fixtures.js';

/*
 * A PUT that creates an id publishes CustomerCreated, whose workflow run inserts the id if it
 * finds it absent. A DELETE answered 200 in between is the later decision: the run must not
 * bring the id back, only a later PUT (or a run started after the DELETE) may.
 */

const put = (app: CustomersApp, id: string) => app.call(`/customers/${id}`, { method: 'PUT' });
const del = (app: CustomersApp, id: string) => app.call(`/customers/${id}`, { method: 'DELETE' });

/** Waits until every id has `runs` recorded executions and none of them is RUNNING. */
async function settledRuns(app: CustomersApp, ids: readonly string[], runs = 1) {
  await app.idle();
  return until(
    () => Promise.all(ids.map((id) => executionsOf(app, id))),
    (all) => all.every((list) => list.length === runs && list.every((e) => e.status !== 'RUNNING')),
  );
}

async function customerItem(app: CustomersApp, id: string) {
  const { Item } = await app.dynamo.doc.send(
    new GetCommand({ TableName: app.config.tables.customers, Key: customersKeys.customer(id) }),
  );
  return Item;
}

/** The runs of one id, as branches (the run of a PUT ends AlreadyExists or Superseded). */
const branchesOf = (runs: Execution[][]) => new Set(runs.flat().map((run) => run.branch));

describe('a DELETE answered 200 stands against the workflow of the PUT before it', () => {
  it('keeps the id deleted when that run reads the registry only after the DELETE', async () => {
    const id = uniqueId('late');
    const deleted = gate();
    const app = await createCustomersApp({
      dynamo: (clients) => {
        // The run's first write (ValidateExists records the execution) waits for the DELETE.
        delayCalls(clients, {
          when: both(commandIs('PutItem'), inputMentions(customersKeys.customer(id).PK)),
          until: deleted.opened,
        });
        return clients;
      },
    });

    await bodyOf(await put(app, id), 201);
    expect(await bodyOf(await del(app, id), 200)).toEqual({ id, deleted: true });
    deleted.open();
    const [runs] = await settledRuns(app, [id]);

    expect(await exists(app, id)).toBe(false);
    expect(runs).toEqual([
      expect.objectContaining({
        status: 'SUCCEEDED',
        branch: 'Superseded',
        input: { id, version: 1 },
        output: { id, branch: 'Superseded' },
      }),
    ]);
    expect(app.adapters.metrics.snapshot()).toMatchObject({ 'customers.InsertSuperseded': 1 });
  });

  it('100 sequential PUT/DELETE pairs: no id comes back once every run has ended', async () => {
    const app = await createCustomersApp();
    const ids = Array.from({ length: 100 }, () => uniqueId('seq'));

    const deletes: number[] = [];
    for (const id of ids) {
      expect((await put(app, id)).status).toBe(201);
      deletes.push((await del(app, id)).status);
    }
    const runs = await settledRuns(app, ids);

    expect(deletes.every((status) => status === 200)).toBe(true);
    expect(runs.flat().filter((run) => run.status !== 'SUCCEEDED')).toEqual([]);
    const back = [];
    for (const id of ids) if (await exists(app, id)) back.push(id);
    expect(back).toEqual([]);
    // The PUT stored the id: its run never inserts it (again).
    expect(branchesOf(runs).has('Inserted')).toBe(false);
  });

  it('100 racing PUT/DELETE pairs: an id exists exactly when its DELETE found nothing to delete', async () => {
    const app = await createCustomersApp();
    const ids = Array.from({ length: 100 }, () => uniqueId('race'));

    const answers = await Promise.all(
      ids.map(async (id) => {
        const [created, deleted] = await Promise.all([put(app, id), del(app, id)]);
        return { created: created.status, deleted: deleted.status };
      }),
    );
    const runs = await settledRuns(app, ids);

    expect(answers.every((a) => a.created === 201)).toBe(true);
    expect(answers.every((a) => a.deleted === 200 || a.deleted === 404)).toBe(true);
    expect(runs.flat().filter((run) => run.status !== 'SUCCEEDED')).toEqual([]);
    const wrong: { id: string; deleted: number; exists: boolean }[] = [];
    for (const [i, id] of ids.entries()) {
      const deleted = answers[i]?.deleted ?? 0;
      const found = await exists(app, id);
      // A 200 DELETE came after the PUT's commit: it is the last word. A 404 came before it.
      if (found !== (deleted === 404)) wrong.push({ id, deleted, exists: found });
    }
    expect(wrong).toEqual([]);
  });

  it('lets a PUT after the DELETE register the id again (201), and that PUT’s run leave it', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('again');

    await bodyOf(await put(app, id), 201);
    await bodyOf(await del(app, id), 200);
    expect(await bodyOf(await put(app, id), 201)).toEqual({ id, created: true });
    const [runs] = await settledRuns(app, [id], 2);

    expect(await exists(app, id)).toBe(true);
    expect(runs?.map((run) => run.input)).toEqual([
      { id, version: 3 },
      { id, version: 1 },
    ]);
    expect(runs?.[0]).toMatchObject({ status: 'SUCCEEDED', branch: 'AlreadyExists' });
    expect(await bodyOf(await put(app, id), 200)).toEqual({ id, created: false });
    // And deleted again, it stays deleted.
    await bodyOf(await del(app, id), 200);
    await app.idle();
    expect(await exists(app, id)).toBe(false);
    await bodyOf(await del(app, id), 404);
  });
});

describe('a PUT of an id being created and deleted over and over', () => {
  it('answers 503 with Retry-After once its attempts run out, and stores nothing', async () => {
    const id = uniqueId('churn');
    let version = 0;
    const app = await createCustomersApp({
      dynamo: (clients) => {
        // Each attempt finds a newer tombstone than the last: someone else keeps creating and
        // deleting the id between this PUT's attempts.
        failCalls(clients, {
          when: both(commandIs('TransactWrite'), inputMentions(customersKeys.customer(id).PK)),
          times: Number.POSITIVE_INFINITY,
          error: () => {
            version += 2;
            const tombstone = { ...customersKeys.customer(id), id, version, deletedAt: 'x' };
            return new TransactionCanceledException({
              message: 'Transaction cancelled [ConditionalCheckFailed, None]',
              $metadata: { httpStatusCode: 400 },
              CancellationReasons: [
                { Code: 'ConditionalCheckFailed', Item: marshall(tombstone) },
                { Code: 'None' },
              ],
            });
          },
        });
        return clients;
      },
    });

    const res = await put(app, id);

    await expectProblem(res, 503, 'CUSTOMERS.REGISTRY_BUSY');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await exists(app, id)).toBe(false);
    const outbox = await app.dynamo.doc.send(
      new QueryCommand({
        TableName: app.config.tables.customers,
        IndexName: customersKeys.pendingIndex,
        KeyConditionExpression: 'GSI1PK = :outbox',
        ExpressionAttributeValues: { ':outbox': 'OUTBOX' },
      }),
    );
    expect(outbox.Items).toEqual([]);
  });
});

describe('runs started without a version (POST /workflow/submit, the schedule)', () => {
  it('registers again an id deleted before the run read it', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('sub');
    await bodyOf(await put(app, id), 201);
    await app.idle();
    await bodyOf(await del(app, id), 200);

    await bodyOf(await app.call('/workflow/submit', { method: 'POST', json: { id } }), 202);
    const [runs] = await settledRuns(app, [id], 2);

    expect(runs?.[0]).toMatchObject({ input: { id }, status: 'SUCCEEDED', branch: 'Inserted' });
    expect(await exists(app, id)).toBe(true);
  });

  it('does not insert once a DELETE answered after the run read the registry', async () => {
    const id = uniqueId('sub');
    const deleted = gate();
    let insert: { firstHeld: Promise<unknown> } | undefined;
    const app = await createCustomersApp({
      dynamo: (clients) => {
        // InsertId's transaction (the customer and the execution record), not the PUT's.
        insert = delayCalls(clients, {
          when: both(
            both(commandIs('TransactWrite'), inputMentions(customersKeys.customer(id).PK)),
            inputMentions('EXECUTION#'),
          ),
          until: deleted.opened,
        });
        return clients;
      },
    });

    await bodyOf(await app.call('/workflow/submit', { method: 'POST', json: { id } }), 202);
    // The run read "absent" and waits to insert; meanwhile the id is created and deleted.
    await insert?.firstHeld;
    await bodyOf(await put(app, id), 201);
    await until(
      () => executionsOf(app, id),
      (list) => list.some((run) => run.branch === 'AlreadyExists'),
    );
    await bodyOf(await del(app, id), 200);
    deleted.open();
    const [runs] = await settledRuns(app, [id], 2);

    expect(await exists(app, id)).toBe(false);
    expect(runs?.map((run) => run.branch).sort()).toEqual(['AlreadyExists', 'Superseded']);
  });

  it('runs the scheduled check again after its id was deleted, and inserts it', async () => {
    const app = await createCustomersApp();
    const { workflow } = app.servicesOf(customersModule);
    await workflow.scheduledCheck();
    await app.idle();
    await bodyOf(await del(app, 'scheduled-check'), 200);

    await workflow.scheduledCheck();
    await app.idle();

    expect((await executionsOf(app, 'scheduled-check')).map((run) => run.branch)).toEqual([
      'Inserted',
      'Inserted',
    ]);
    expect(await exists(app, 'scheduled-check')).toBe(true);
  });
});

describe('data the previous release wrote (no version)', () => {
  const legacyCustomer = (id: string) => ({
    ...customersKeys.customer(id),
    type: 'customer',
    id,
    createdAt: '2025-01-01T00:00:00.000Z',
    createdBy: 'api',
  });

  it('reads, refuses to re-create, deletes and re-creates an item without a version', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('old');
    await app.dynamo.doc.send(
      new PutCommand({ TableName: app.config.tables.customers, Item: legacyCustomer(id) }),
    );

    expect(await exists(app, id)).toBe(true);
    expect(await bodyOf(await put(app, id), 200)).toEqual({ id, created: false });
    await bodyOf(await del(app, id), 200);
    expect(await exists(app, id)).toBe(false);
    // A version-less item counts as version 0: its tombstone is version 1.
    expect(await customerItem(app, id)).toMatchObject({
      version: 1,
      deletedAt: expect.any(String),
    });
    expect(await bodyOf(await put(app, id), 201)).toEqual({ id, created: true });
    await app.idle();

    expect(await customerItem(app, id)).toMatchObject({ version: 2 });
    expect(await executionsOf(app, id)).toEqual([
      expect.objectContaining({ input: { id, version: 2 }, branch: 'AlreadyExists' }),
    ]);
  });

  it('does not let an outbox event without a version bring back an id deleted since', async () => {
    const app = await createCustomersApp({ env: { CUSTOMERS_OUTBOX_GRACE_SECONDS: '0' } });
    const id = uniqueId('old');
    const eventId = uniqueId('evt');
    const createdAt = '2025-01-01T00:00:00.000Z';
    // The previous release stored the customer and its event; the publish failed.
    for (const Item of [
      legacyCustomer(id),
      {
        ...customersKeys.outbox(eventId),
        type: 'outbox',
        eventId,
        source: 'customer.api',
        detailType: 'CustomerCreated',
        detail: { id },
        createdAt,
        GSI1PK: 'OUTBOX',
        GSI1SK: `${createdAt}#${eventId}`,
      },
    ]) {
      await app.dynamo.doc.send(new PutCommand({ TableName: app.config.tables.customers, Item }));
    }
    await bodyOf(await del(app, id), 200);

    expect(await app.servicesOf(customersModule).customers.publishPending()).toBe(1);
    const [runs] = await settledRuns(app, [id]);

    expect(runs?.[0]).toMatchObject({ status: 'SUCCEEDED', branch: 'Superseded' });
    expect(await exists(app, id)).toBe(false);
  });
});

describe('a version that is not a count', () => {
  it('fails the run with Customers.InvalidInput and inserts nothing', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('bad');

    await app.adapters.ports.events.publish([
      { source: 'customer.api', detailType: 'CustomerCreated', detail: { id, version: 'one' } },
    ]);
    const [runs] = await settledRuns(app, [id]);

    expect(runs?.[0]).toMatchObject({
      status: 'FAILED',
      error: { error: 'Customers.InvalidInput' },
    });
    expect(await exists(app, id)).toBe(false);
  });
});
