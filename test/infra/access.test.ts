import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { DynamoAction, ModuleAccess, TableAccess } from '../../infra/access.js';
import { loadModuleInfra } from '../../infra/module-infra.js';
import { PLATFORM_ACCESS } from '../../infra/roster-stack.js';
import { authModule } from '../../src/modules/auth/auth.module.js';
import { customersModule } from '../../src/modules/customers/customers.module.js';
import { enrollmentsModule } from '../../src/modules/enrollments/enrollments.module.js';
import { enrollmentMessage } from '../../src/modules/enrollments/enrollments.rules.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { slaErrorsModule } from '../../src/modules/sla-errors/sla-errors.module.js';
import type { DynamoClients } from '../../src/platform/dynamo/client.js';
import type { AnyModule, Ports } from '../../src/platform/module.js';
import type { QueuePort } from '../../src/platform/queue/queue.js';
import { addUser, createLocalIssuer, signIn } from '../auth/fixtures.js';
import { createTestApp, type TestApp, type TestAppOptions } from '../support/app.js';
import { commandIs, failCalls } from '../support/faults.js';

/*
 * The least-privilege declarations (`access` in each <m>.infra.ts) against what the code really
 * sends. A recorder at the front of the DynamoDB client turns every call into what IAM checks
 * (`PutItem customers`, `Query events/index/gsi1`, one entry per item of a transaction); each
 * function's work — the module's routes through the HTTP app, each task's `run` — must stay
 * within what its declaration grants on AWS. (The auth module's routes are left out: on AWS they
 * use Cognito, here the local issuer and its users table; its authorizer reads no table.)
 */

const infra = await loadModuleInfra([
  eventsModule,
  enrollmentsModule,
  customersModule,
  slaErrorsModule,
  authModule,
]);
const accessOf = (module: AnyModule): ModuleAccess => {
  const found = infra.get(module)?.access;
  if (!found) throw new Error(`no access declared by ${module.name}`);
  return found;
};
/** What `module` declares for its function `name`. */
const grantsOf = (module: AnyModule, name: string): readonly TableAccess[] => {
  const found = accessOf(module)[name];
  if (!found) throw new Error(`${module.name} declares nothing for "${name}"`);
  return found;
};

/** `Action table` / `Query table/index/name`, by table id, as the declarations grant them. */
function granted(accesses: readonly TableAccess[]): Set<string> {
  return new Set(
    accesses.flatMap((access) => [
      ...access.actions.map((action) => `${action} ${access.table.id}`),
      ...(access.indexes ?? []).map((index) => `Query ${access.table.id}/index/${index}`),
    ]),
  );
}

interface Recorder {
  /** For `createTestApp({ dynamo })`. */
  readonly install: (clients: DynamoClients) => DynamoClients;
  /** Records what `work` sends, on the tables of `app` (by id). */
  readonly during: (app: TestApp, work: () => Promise<unknown>) => Promise<Set<string>>;
}

function recorder(): Recorder {
  let calls: Set<string> | undefined;
  let ids: Record<string, string> = {};
  const note = (action: DynamoAction | 'Scan' | string, table: unknown, index?: unknown) => {
    const id = ids[String(table)] ?? `unknown-table:${String(table)}`;
    calls?.add(`${action} ${id}${index ? `/index/${String(index)}` : ''}`);
  };
  return {
    install(clients) {
      clients.client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = (args as { input: Record<string, unknown> }).input;
          const command = (context.commandName ?? '').replace(/Command$/, '');
          switch (command) {
            case 'GetItem':
            case 'PutItem':
            case 'UpdateItem':
            case 'DeleteItem':
            case 'Scan':
              note(command, input.TableName);
              break;
            case 'Query':
              note('Query', input.TableName, input.IndexName);
              break;
            case 'BatchGetItem':
            case 'BatchWriteItem':
              for (const table of Object.keys(input.RequestItems as object)) note(command, table);
              break;
            case 'TransactWriteItems':
            case 'TransactGetItems':
              for (const item of input.TransactItems as Record<string, { TableName: string }>[]) {
                for (const [kind, { TableName }] of Object.entries(item)) {
                  const action =
                    kind === 'Put'
                      ? 'PutItem'
                      : kind === 'Update'
                        ? 'UpdateItem'
                        : kind === 'Delete'
                          ? 'DeleteItem'
                          : kind === 'ConditionCheck'
                            ? 'ConditionCheckItem'
                            : 'GetItem';
                  note(action, TableName);
                }
              }
              break;
            default:
              note(command, input.TableName);
          }
          return next(args);
        },
        { step: 'initialize', name: 'accessRecorder' },
      );
      return clients;
    },
    async during(app, work) {
      ids = Object.fromEntries(Object.entries(app.config.tables).map(([id, name]) => [name, id]));
      calls = new Set();
      try {
        await work();
        return calls;
      } finally {
        calls = undefined;
      }
    },
  };
}

/** Runs one of `module`'s tasks as its Lambda would. */
function runTask(app: TestApp, module: AnyModule, name: string, input?: unknown) {
  const task = module.tasks?.find((t) => t.name === name);
  if (!task) throw new Error(`${module.name} has no task ${name}`);
  return task.run(app.servicesOf(module), input);
}

/** `app.call` that insists on a 2xx, so a scenario cannot pass by not doing its work. */
async function ok(app: TestApp, path: string, init: Parameters<TestApp['call']>[1] = {}) {
  const res = await app.call(path, init);
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status}`);
  return res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
}

const noQueues: QueuePort = {
  queue: () => ({ send: async () => {}, sendBatch: async () => {}, deadLetter: async () => {} }),
};

async function appFor(
  modules: readonly AnyModule[],
  options: Omit<TestAppOptions, 'modules' | 'dynamo'> & { faults?: (c: DynamoClients) => void },
) {
  const recording = recorder();
  const { faults, ...rest } = options;
  const app = await createTestApp({
    modules,
    dynamo: (clients) => {
      faults?.(clients);
      return recording.install(clients);
    },
    ...rest,
  });
  return { app, recording };
}

/** What `module`'s function `name` sent, restricted to the tables it may name. */
function expectWithin(calls: Set<string>, accesses: readonly TableAccess[], function_: string) {
  expect(calls.size, `${function_} sent nothing: the scenario did not run`).toBeGreaterThan(0);
  const allowed = granted(accesses);
  expect(
    [...calls].filter((call) => !allowed.has(call)),
    `${function_}: calls its declaration does not grant`,
  ).toEqual([]);
}

describe('events', () => {
  it('the routes stay within the API’s grants (and the platform’s)', async () => {
    const { app, recording } = await appFor([eventsModule], {});
    const event = (id: string) => ({
      eventId: id,
      title: 'Access',
      description: 'least privilege',
      date: '2030-01-01',
      location: 'here',
      capacity: 1,
      organizer: 'ops',
      status: 'active',
      hasWaitlist: true,
    });
    const calls = await recording.during(app, async () => {
      await ok(app, '/events', {
        method: 'POST',
        json: event('e1'),
        headers: { 'idempotency-key': randomUUID() },
      });
      await ok(app, '/events');
      await ok(app, '/events?status=active');
      await ok(app, '/events/e1');
      for (const userId of ['u1', 'u2']) {
        await ok(app, '/users', { method: 'POST', json: { userId, name: userId } });
        await ok(app, '/events/e1/registrations', { method: 'POST', json: { userId } });
      }
      await ok(app, '/users');
      await ok(app, '/users/u1');
      await ok(app, '/users/u1/registrations');
      await ok(app, '/events/e1/registrations');
      await ok(app, '/events/e1', { method: 'PUT', json: { capacity: 2 } });
      await ok(app, '/events/e1/registrations/u1', { method: 'DELETE' });
      await ok(app, '/events/e1', { method: 'DELETE' });
      await ok(app, '/health', { key: null });
    });
    expectWithin(calls, [...grantsOf(eventsModule, 'api'), ...PLATFORM_ACCESS], 'events api');
  });

  it('the deletion sweep stays within its grants', async () => {
    let failing = false;
    const { app, recording } = await appFor([eventsModule], {
      faults: (clients) =>
        failCalls(clients, {
          when: (call) => failing && commandIs('BatchWrite')(call),
          times: 1,
          error: () => Object.assign(new Error('down'), { name: 'InternalServerError' }),
        }),
    });
    await ok(app, '/events', {
      method: 'POST',
      json: {
        eventId: 'e2',
        title: 't',
        description: 'd',
        date: '2030-01-01',
        location: 'l',
        capacity: 5,
        organizer: 'o',
        status: 'active',
        hasWaitlist: false,
      },
    });
    await ok(app, '/users', { method: 'POST', json: { userId: 'u3', name: 'u3' } });
    await ok(app, '/events/e2/registrations', { method: 'POST', json: { userId: 'u3' } });
    failing = true; // the DELETE marks the event, then fails: the sweep finishes it
    expect((await app.call('/events/e2', { method: 'DELETE' })).status).toBeGreaterThanOrEqual(500);
    failing = false;

    const calls = await recording.during(app, async () => {
      expect(await runTask(app, eventsModule, 'finish-deletions')).toBe(1);
    });
    expectWithin(calls, grantsOf(eventsModule, 'finish-deletions'), 'finish-deletions');
  });
});

describe('enrollments', () => {
  const enroll = (app: TestApp, cpf: string) =>
    ok(app, '/enrollments', { method: 'POST', json: { name: 'Access Test', age: 30, cpf } });

  it('the routes stay within the API’s grants', async () => {
    const { app, recording } = await appFor([enrollmentsModule], { ports: { queues: noQueues } });
    const calls = await recording.during(app, async () => {
      const group = await ok(app, '/age-groups', {
        method: 'POST',
        json: { min_age: 0, max_age: 150 },
      });
      await ok(app, '/age-groups');
      const enrollment = await enroll(app, '529.982.247-25');
      await ok(app, `/enrollments/${String(enrollment?.enrollment_id)}`);
      expect(
        (
          await app.call('/enrollments', {
            method: 'POST',
            json: { name: 'Again', age: 30, cpf: '529.982.247-25' },
          })
        ).status,
      ).toBe(409);
      await ok(app, `/age-groups/${String(group?.id)}`, { method: 'DELETE' });
    });
    expectWithin(calls, grantsOf(enrollmentsModule, 'api'), 'enrollments api');
  });

  it('the processor and the reconciler stay within their grants', async () => {
    const { app, recording } = await appFor([enrollmentsModule], {
      ports: { queues: noQueues },
      env: { ENROLLMENTS_RECONCILE_AFTER_SECONDS: '1' },
    });
    const group = await ok(app, '/age-groups', {
      method: 'POST',
      json: { min_age: 0, max_age: 150 },
    });
    const processed = await enroll(app, '529.982.247-25');
    const rejected = await enroll(app, '111.444.777-35');
    const message = (id: unknown) => ({
      id: randomUUID(),
      body: enrollmentMessage(String(id)),
      receiveCount: 1,
    });

    const processing = await recording.during(app, async () => {
      await runTask(app, enrollmentsModule, 'process', message(processed?.enrollment_id));
    });
    await ok(app, `/age-groups/${String(group?.id)}`, { method: 'DELETE' });
    const rejecting = await recording.during(app, async () => {
      await runTask(app, enrollmentsModule, 'process', message(rejected?.enrollment_id));
    });
    expect((await ok(app, `/enrollments/${String(rejected?.enrollment_id)}`))?.status).toBe(
      'REJECTED',
    );
    expectWithin(
      new Set([...processing, ...rejecting]),
      grantsOf(enrollmentsModule, 'process'),
      'process',
    );

    await enroll(app, '390.533.447-05').catch(() => undefined); // no group: 422, nothing pending
    const group2 = await ok(app, '/age-groups', {
      method: 'POST',
      json: { min_age: 0, max_age: 150 },
    });
    await enroll(app, '390.533.447-05');
    await new Promise((done) => setTimeout(done, 1_100));
    const reconciling = await recording.during(app, async () => {
      expect(await runTask(app, enrollmentsModule, 'reconcile')).toMatchObject({ requeued: 1 });
    });
    expectWithin(reconciling, grantsOf(enrollmentsModule, 'reconcile'), 'reconcile');
    expect(group2).toBeDefined();
  });
});

describe('customers', () => {
  let now = Date.now();
  let publishFails = false;
  const started: string[] = [];
  const ports: Ports = {
    events: {
      publish: async () => {
        if (publishFails) throw new Error('bus down');
      },
    },
    workflows: {
      start: async (_workflow, _input, options) => {
        const executionId = options?.name ?? randomUUID();
        started.push(executionId);
        return { executionId };
      },
      describe: async () => ({
        status: 'SUCCEEDED',
        output: { id: 'x', branch: 'Inserted' },
        startedAt: new Date(now - 120_000).toISOString(),
        stoppedAt: new Date(now).toISOString(),
      }),
    },
  };
  const customersApp = () =>
    appFor([customersModule], {
      ports,
      clock: () => new Date(now),
      env: { CUSTOMERS_OUTBOX_GRACE_SECONDS: '0' },
    });

  it('the routes stay within the API’s grants', async () => {
    const { app, recording } = await customersApp();
    const calls = await recording.during(app, async () => {
      await ok(app, '/customers/c1', { method: 'PUT' });
      await ok(app, '/customers/c1');
      await ok(app, '/customers/c1', { method: 'DELETE' });
      const submitted = await ok(app, '/workflow/submit', { method: 'POST', json: { id: 'c2' } });
      await ok(app, `/workflow/executions/${String(submitted?.executionId)}`);
      await ok(app, '/workflow/executions?id=c2');
    });
    expectWithin(calls, grantsOf(customersModule, 'api'), 'customers api');
  });

  it('each workflow step, the scheduled check and the sweeps stay within their grants', async () => {
    const { app, recording } = await customersApp();
    const startedAt = new Date(now).toISOString();
    const step = async (name: string, input: unknown) => {
      const calls = await recording.during(app, () => runTask(app, customersModule, name, input));
      expectWithin(calls, grantsOf(customersModule, name), name);
    };
    await step('validate-exists', { id: 'c3', executionId: 'x3', startedAt, input: { id: 'c3' } });
    await step('insert-id', { id: 'c3', executionId: 'x3' });
    await runTask(app, customersModule, 'validate-exists', {
      id: 'c3',
      executionId: 'x4',
      startedAt,
      input: { id: 'c3' },
    });
    await step('record-already-exists', { id: 'c3', executionId: 'x4' });
    await runTask(app, customersModule, 'validate-exists', {
      id: 'c5',
      executionId: 'x5',
      startedAt,
      input: { id: 'c5' },
    });
    await step('record-failure', {
      executionId: 'x5',
      error: { Error: 'States.TaskFailed', Cause: 'x' },
    });
    await step('scheduled-check', { trigger: 'schedule' });

    publishFails = true; // the PUT's own publish fails: its event waits in the outbox
    await ok(app, '/customers/c6', { method: 'PUT' });
    publishFails = false;
    now += 120_000; // the outbox event and the scheduled check's record are old enough now
    await step('publish-pending-events', { trigger: 'schedule' });
    await step('reconcile-executions', { trigger: 'schedule' });
    expect(started.length).toBeGreaterThan(0);
  });
});

describe('sla-errors', () => {
  const issuer = createLocalIssuer();
  afterAll(async () => (await issuer).cleanup());

  it('the routes stay within the API’s grants (and the platform’s)', async () => {
    const { app, recording } = await appFor([authModule, slaErrorsModule], {
      ports: { tokens: (await issuer).tokens },
    });
    await addUser(app, 'reporter');
    const bearer = (await signIn(app, 'reporter')).access_token;
    const calls = await recording.during(app, async () => {
      const created = await ok(app, '/sla-errors', {
        method: 'POST',
        key: null,
        headers: { authorization: `Bearer ${bearer}`, 'idempotency-key': randomUUID() },
        json: {
          fileName: 'access.csv',
          slaDeadline: '2030-01-01T10:00:00Z',
          errorCode: 'SLA_BREACH',
          message: 'least privilege',
          severity: 'low',
          source: 'test',
        },
      });
      await ok(app, '/sla-errors');
      await ok(app, '/sla-errors?fileName=access.csv');
      await ok(app, `/sla-errors/${String(created?.id)}`);
    });
    // The sign-in's own calls (the local issuer's users) are not part of these routes.
    const slaCalls = new Set([...calls].filter((call) => !call.endsWith(' auth')));
    expectWithin(
      slaCalls,
      [...grantsOf(slaErrorsModule, 'api'), ...PLATFORM_ACCESS],
      'sla-errors api',
    );
  });
});
