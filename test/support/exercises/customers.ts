import { randomUUID } from 'node:crypto';
import {
  customersModule,
  customersTable,
} from '../../../src/modules/customers/customers.module.js';
import type { Ports } from '../../../src/platform/module.js';
import { Recent } from './recent.js';
import { byIndex } from './tables.js';
import type { AccessHarness, AccessScenario, Exercise, LoadPlan, SoakRun } from './types.js';

/**
 * The customers module against stand-ins for its workflow engine and event bus (their own calls
 * are not DynamoDB's), on a clock the test moves; the two scenarios share them.
 */
function accessScenarios(): AccessScenario[] {
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
  const customersApp = ({ appFor }: AccessHarness) =>
    appFor([customersModule], {
      ports,
      clock: () => new Date(now),
      env: { CUSTOMERS_OUTBOX_GRACE_SECONDS: '0' },
    });

  return [
    {
      title: 'the routes stay within the API’s grants',
      functions: ['api'],
      run: async (harness) => {
        const { ok, within } = harness;
        const { app, during } = await customersApp(harness);
        const calls = await during(async () => {
          await ok(app, '/customers/c1', { method: 'PUT' });
          await ok(app, '/customers/c1');
          await ok(app, '/customers?limit=1');
          await ok(app, '/customers/c1', { method: 'DELETE' });
          const submitted = await ok(app, '/workflow/submit', {
            method: 'POST',
            json: { id: 'c2' },
          });
          await ok(app, `/workflow/executions/${String(submitted?.executionId)}`);
          await ok(app, '/workflow/executions?id=c2');
          await ok(app, '/workflow/executions?limit=1');
          await ok(app, '/workflow/executions?status=RUNNING&from=2020-01-01T00:00:00Z');
          await ok(app, '/workflow/executions/stats');
        });
        within(calls, 'api');
      },
    },
    {
      title: 'each workflow step, the scheduled check and the sweeps stay within their grants',
      functions: [
        'validate-exists',
        'insert-id',
        'record-already-exists',
        'record-failure',
        'scheduled-check',
        'publish-pending-events',
        'reconcile-executions',
        'backfill-list-indexes',
      ],
      run: async (harness) => {
        const { ok, runTask, within, expect } = harness;
        const { app, during } = await customersApp(harness);
        const startedAt = new Date(now).toISOString();
        const step = async (name: string, input: unknown) => {
          const calls = await during(() => runTask(app, name, input));
          within(calls, name);
        };
        await step('validate-exists', {
          id: 'c3',
          executionId: 'x3',
          startedAt,
          input: { id: 'c3' },
        });
        await step('insert-id', { id: 'c3', executionId: 'x3' });
        await runTask(app, 'validate-exists', {
          id: 'c3',
          executionId: 'x4',
          startedAt,
          input: { id: 'c3' },
        });
        await step('record-already-exists', { id: 'c3', executionId: 'x4' });
        await runTask(app, 'validate-exists', {
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
        await step('backfill-list-indexes', { trigger: 'schedule' });
        expect(started.length).toBeGreaterThan(0);
      },
    },
  ];
}

export const exercise: Exercise = {
  access: { scenarios: accessScenarios },
  load: {
    operations: ({ runId }: LoadPlan) => [
      {
        op: 'put-customer',
        weight: 120,
        build: (n) => {
          const id = `${runId}-c-${n}`;
          return { method: 'PUT', path: `/customers/${id}`, subject: { id } };
        },
        create: { retried: 201 },
        verify: async ({ subject }, runtime) => {
          const { body } = await runtime.get(`/customers/${subject.id}`);
          return (body as { exists?: boolean }).exists === true ? [] : [`customer ${subject.id}`];
        },
      },
      {
        op: 'submit-workflow',
        weight: 60,
        build: (n, idempotencyKey) => {
          const id = `${runId}-w-${n}`;
          return {
            method: 'POST',
            path: '/workflow/submit',
            body: { id },
            idempotencyKey,
            subject: { id },
          };
        },
        create: { retried: 202 },
        verify: async ({ response }, runtime) => {
          const id = (response as { executionId?: string } | undefined)?.executionId;
          return (await runtime.get(`/workflow/executions/${id}`)).status === 200
            ? []
            : [`execution ${id}`];
        },
      },
    ],
    // Execution records still RUNNING, CustomerCreated events still in the outbox.
    leftovers: async ({ dynamo, name }) => ({
      runningExecutions: (await byIndex(dynamo, name(customersTable), 'gsi1', 'GSI1PK', 'RUNNING'))
        .length,
      outboxEvents: (await byIndex(dynamo, name(customersTable), 'gsi1', 'GSI1PK', 'OUTBOX'))
        .length,
    }),
  },
  soak: {
    routes: ({ runId }: SoakRun) => {
      const customers = new Recent<string>();
      const executions = new Recent<string>();
      return [
        {
          kind: 'put-customer',
          weight: 6,
          build: (i) => {
            const id = `${runId}-c${i}`;
            return {
              route: 'PUT /customers/{id}',
              method: 'PUT',
              path: `/customers/${id}`,
              onSuccess: () => customers.add(id),
            };
          },
        },
        {
          kind: 'get-customer',
          weight: 5,
          build: () => {
            const id = customers.pick() ?? `${runId}-none`;
            return { route: 'GET /customers/{id}', method: 'GET', path: `/customers/${id}` };
          },
        },
        {
          kind: 'submit-workflow',
          weight: 2,
          build: (i) => ({
            route: 'POST /workflow/submit',
            method: 'POST',
            path: '/workflow/submit',
            idempotent: true,
            body: { id: `${runId}-w${i}` },
            onSuccess: (body) => executions.add((body as { executionId: string }).executionId),
          }),
        },
        {
          kind: 'get-execution',
          weight: 3,
          build: () => {
            const id = executions.pick();
            if (!id) return undefined;
            return {
              route: 'GET /workflow/executions/{executionId}',
              method: 'GET',
              path: `/workflow/executions/${id}`,
            };
          },
        },
      ];
    },
  },
  bench: {
    run: async (stack, tools) =>
      (await import('../../../bench/support/customers.js')).customersSection(stack, tools),
  },
};
