import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { customersKeys } from '../../src/modules/customers/customers.dynamo.js';
import { CUSTOMER_WORKFLOW } from '../../src/modules/customers/customers.service.js';
import {
  both,
  commandIs,
  delayCalls,
  failCalls,
  gate,
  inputMentions,
  throttled,
} from '../support/faults.js';
import { sleep } from '../support/poll.js';
import {
  bodyOf,
  createCustomersApp,
  type Execution,
  execution,
  executionsOf,
  exists,
  expectProblem,
  ISO_UTC,
  submitAndWait,
  uniqueId,
} from './fixtures.js';

/** The id's GetItem (ValidateExists reads the customer item). */
const readsOf = (id: string) =>
  both(commandIs('GetItem'), inputMentions(customersKeys.customer(id).PK));

describe('POST /workflow/submit', () => {
  it('answers 202 with the execution id and where to follow it', async () => {
    const app = await createCustomersApp();

    const res = await app.call('/workflow/submit', { method: 'POST', json: { id: uniqueId('c') } });

    const { executionId } = await bodyOf<{ executionId: string }>(res, 202);
    expect(res.headers.get('location')).toBe(`/workflow/executions/${executionId}`);
    await app.idle();
  });

  it('inserts a new id: the execution ends SUCCEEDED on the Inserted branch', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('sfn');

    const run = await submitAndWait(app, id);

    expect(run).toEqual({
      executionId: run.executionId,
      id,
      status: 'SUCCEEDED',
      input: { id },
      output: { id, branch: 'Inserted' },
      branch: 'Inserted',
      error: null,
      startedAt: expect.stringMatching(ISO_UTC),
      stoppedAt: expect.stringMatching(ISO_UTC),
    });
    expect(await exists(app, id)).toBe(true);
    expect(app.adapters.metrics.snapshot()).toEqual({
      'customers.WorkflowSubmitted': 1,
      'customers.IdInserted': 1,
    });
  });

  it('takes the AlreadyExists branch for an id that is registered', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('sfn');
    await submitAndWait(app, id);

    const second = await submitAndWait(app, id);

    expect(second).toMatchObject({
      status: 'SUCCEEDED',
      branch: 'AlreadyExists',
      output: { id, branch: 'AlreadyExists' },
    });
  });

  it('reads the execution as RUNNING right after the 202', async () => {
    const id = uniqueId('c');
    const validated = gate();
    const app = await createCustomersApp({
      dynamo: (clients) => {
        // Hold ValidateExists' read of the customer until the test has read the execution, so
        // the execution cannot have finished yet, however busy the machine.
        delayCalls(clients, {
          when: both(commandIs('GetItem'), inputMentions(`CUSTOMER#${id}`)),
          until: validated.opened,
        });
        return clients;
      },
    });

    const { executionId } = await bodyOf<{ executionId: string }>(
      await app.call('/workflow/submit', { method: 'POST', json: { id } }),
      202,
    );

    expect(await execution(app, executionId)).toMatchObject({
      status: 'RUNNING',
      input: { id },
      output: null,
      branch: null,
    });
    validated.open();
    await app.idle();
    expect(await execution(app, executionId)).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('replays the first answer for the same Idempotency-Key, starting one execution', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');
    const send = () =>
      app.call('/workflow/submit', {
        method: 'POST',
        json: { id },
        headers: { 'idempotency-key': `key-${id}` },
      });

    const first = await bodyOf<{ executionId: string }>(await send(), 202);
    const again = await bodyOf<{ executionId: string }>(await send(), 202);

    expect(again).toEqual(first);
    await app.idle();
    expect(await executionsOf(app, id)).toHaveLength(1);
  });

  it('refuses a body without a valid id with 422', async () => {
    const app = await createCustomersApp();

    for (const json of [{}, { id: '' }, { id: 'a b' }, { id: 7 }]) {
      await expectProblem(
        await app.call('/workflow/submit', { method: 'POST', json }),
        422,
        'REQUEST.VALIDATION_FAILED',
      );
    }
  });

  it('answers 503 with Retry-After when the workflow engine refuses the start', async () => {
    const app = await createCustomersApp({
      wrap: (ports) => ({
        ...ports,
        workflows: {
          describe: ports.workflows.describe.bind(ports.workflows),
          start: async () => {
            throw Object.assign(new Error('Rate exceeded'), {
              name: 'ThrottlingException',
              $metadata: { httpStatusCode: 400 },
            });
          },
        },
      }),
    });
    const id = uniqueId('c');

    const res = await app.call('/workflow/submit', { method: 'POST', json: { id } });

    await expectProblem(res, 503, 'CUSTOMERS.WORKFLOW_UNAVAILABLE');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await executionsOf(app, id)).toEqual([]);
  });
});

describe('GET /workflow/executions/{executionId}', () => {
  it('answers 404 for an execution that does not exist', async () => {
    const app = await createCustomersApp();

    await expectProblem(
      await app.call('/workflow/executions/01234567-89ab-7def-8123-456789abcdef'),
      404,
      'CUSTOMERS.EXECUTION_NOT_FOUND',
    );
  });

  it('answers 422 for an id no execution can have', async () => {
    const app = await createCustomersApp();

    await expectProblem(await app.call(`/workflow/executions/${'e'.repeat(81)}`), 422);
  });
});

describe('GET /workflow/executions?id=', () => {
  it("lists an id's executions newest first, page by page", async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');
    const runs: Execution[] = [];
    for (let i = 0; i < 3; i++) runs.push(await submitAndWait(app, id));
    await submitAndWait(app, uniqueId('other'));

    const first = await app.call(`/workflow/executions?id=${id}&limit=2`);
    const page1 = await bodyOf<Execution[]>(first.clone(), 200);
    const link = first.headers.get('link');
    const next = /^<(\?[^>]+)>; rel="next"$/.exec(link ?? '')?.[1];
    expect(next).toBeDefined();
    const page2 = await bodyOf<Execution[]>(await app.call(`/workflow/executions${next}`), 200);

    expect([...page1, ...page2].map((e) => e.executionId)).toEqual(
      runs.map((e) => e.executionId).reverse(),
    );
    expect([...page1, ...page2].map((e) => e.branch)).toEqual([
      'AlreadyExists',
      'AlreadyExists',
      'Inserted',
    ]);
  });

  it('answers an empty list for an id without executions', async () => {
    const app = await createCustomersApp();

    expect(await executionsOf(app, uniqueId('none'))).toEqual([]);
  });

  it('refuses a malformed id (422)', async () => {
    const app = await createCustomersApp();

    await expectProblem(await app.call('/workflow/executions?id=a%20b'), 422);
  });

  it('refuses a cursor of another id with 400', async () => {
    const app = await createCustomersApp();
    const id = uniqueId('c');
    await submitAndWait(app, id);
    await submitAndWait(app, id);
    const res = await app.call(`/workflow/executions?id=${id}&limit=1`);
    const cursor = new URLSearchParams(/^<\?([^>]+)>/.exec(res.headers.get('link') ?? '')?.[1]).get(
      'cursor',
    );

    await expectProblem(
      await app.call(`/workflow/executions?id=${uniqueId('x')}&cursor=${cursor}`),
      400,
    );
  });
});

describe('the workflow under faults', () => {
  it('retries a task whose database call failed transiently, and still inserts', async () => {
    const id = uniqueId('retry');
    let faults: { failed: () => number } | undefined;
    const app = await createCustomersApp({
      dynamo: (clients) => {
        faults = failCalls(clients, { when: readsOf(id), times: 2, error: throttled() });
        return clients;
      },
    });

    const run = await submitAndWait(app, id);

    expect(faults?.failed()).toBe(2);
    expect(run).toMatchObject({ status: 'SUCCEEDED', branch: 'Inserted' });
    expect(await exists(app, id)).toBe(true);
  });

  it('records the error and fails the execution once the retries are used up', async () => {
    const id = uniqueId('catch');
    let faults: { failed: () => number } | undefined;
    const app = await createCustomersApp({
      dynamo: (clients) => {
        // Exactly the attempts the definition allows: one more would succeed and insert.
        faults = failCalls(clients, { when: readsOf(id), times: 4, error: throttled() });
        return clients;
      },
    });

    const run = await submitAndWait(app, id);

    // The first attempt and the three retries of ValidateExists' Retry field.
    expect(faults?.failed()).toBe(4);
    expect(run).toMatchObject({
      status: 'FAILED',
      branch: null,
      output: null,
      error: { error: 'Customers.Unavailable', cause: 'The customers table did not answer.' },
      stoppedAt: expect.stringMatching(ISO_UTC),
    });
    expect(await exists(app, id)).toBe(false);
    // The engine ends the execution with the caught error (the Fail state's ErrorPath).
    expect(await app.adapters.workflows.describe(CUSTOMER_WORKFLOW, run.executionId)).toMatchObject(
      { status: 'FAILED', error: 'Customers.Unavailable' },
    );
  });

  it('does not retry an error that is not transient', async () => {
    const id = uniqueId('fatal');
    let faults: { failed: () => number } | undefined;
    const app = await createCustomersApp({
      dynamo: (clients) => {
        faults = failCalls(clients, {
          when: both(commandIs('TransactWrite'), inputMentions(customersKeys.customer(id).PK)),
          times: 100,
          error: () =>
            Object.assign(new Error('One or more parameter values were invalid'), {
              name: 'ValidationException',
              $metadata: { httpStatusCode: 400 },
            }),
        });
        return clients;
      },
    });

    const run = await submitAndWait(app, id);

    expect(faults?.failed()).toBe(1);
    expect(run).toMatchObject({ status: 'FAILED', error: { error: 'ValidationException' } });
  });

  it('ends two executions racing on one new id with exactly one Inserted', async () => {
    const id = uniqueId('race');
    const bothRead = gate();
    let reads: { count: () => number } | undefined;
    const app = await createCustomersApp({
      dynamo: (clients) => {
        // Both executions' ValidateExists read "absent" before either inserts.
        reads = delayCalls(clients, { when: readsOf(id), until: bothRead.opened });
        return clients;
      },
    });

    const answers = await Promise.all(
      [1, 2].map(() => app.call('/workflow/submit', { method: 'POST', json: { id } })),
    );
    while ((reads?.count() ?? 0) < 2) await sleep(5);
    bothRead.open();
    await app.idle();

    expect(answers.map((res) => res.status)).toEqual([202, 202]);
    const runs = await executionsOf(app, id);
    expect(runs.map((run) => run.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(runs.map((run) => run.branch).sort()).toEqual(['AlreadyExists', 'Inserted']);
    const inserted = runs.find((run) => run.branch === 'Inserted');
    const stored = await app.dynamo.doc.send(
      new GetCommand({ TableName: app.config.tables.customers, Key: customersKeys.customer(id) }),
    );
    expect(stored.Item).toMatchObject({ id, createdBy: inserted?.executionId });
  });
});
