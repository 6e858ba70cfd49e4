import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { v7 as uuidv7 } from 'uuid';
import { customersKeys } from '../../src/modules/customers/customers.dynamo.js';
import { customersModule, customersTable } from '../../src/modules/customers/customers.module.js';
import { CUSTOMER_WORKFLOW } from '../../src/modules/customers/customers.service.js';
import { directLoad, httpLoad, type Sample, summarize } from './measure.js';
import type { Row } from './report.js';
import { type BenchSection, type BenchTools, rpsOf } from './sections.js';
import { BENCH_API_KEY, type BenchStack } from './stack.js';

export interface CustomersBenchSettings {
  readonly concurrency: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly roundSeconds: number;
  readonly maxDirectCalls: number;
  /** How long the workflow run lasts, and at most how many executions it starts. */
  readonly workflowSeconds: number;
  readonly maxExecutions: number;
}

/** The customers module's section: workflow executions/s, PUT /customers/{id} vs its write. */
export async function customersSection(
  stack: BenchStack,
  tools: BenchTools,
): Promise<BenchSection> {
  tools.log('customers: workflow executions/s, PUT /customers/{id} vs its conditional write');
  const rows = await tools.timed('customers', () =>
    customersBench(stack, { ...tools.settings, workflowSeconds: 5, maxExecutions: 5000 }),
  );
  const rps = rpsOf(rows);
  return {
    rows,
    ratios: {
      'PUT /customers/{id}: app / direct conditional transaction':
        rps('customers PUT app') / rps('customers put direct txn'),
      'PUT /customers/{id}: app / direct conditional PutItem':
        rps('customers PUT app') / rps('customers put direct'),
    },
  };
}

/**
 * The customers module locally:
 * 1. workflow executions per second: `concurrency` workers, each starting an execution through
 *    the service (as POST /workflow/submit does) and waiting for it to end on the local engine
 *    (ValidateExists → InsertId for a new id: three DynamoDB writes and a read each);
 * 2. PUT /customers/{id} for new ids through the app vs the same conditional write sent directly
 *    — the transaction the adapter sends (customer put, CustomerCreated's outbox put, the domain
 *    event's put) and a bare conditional
 *    PutItem — in interleaved rounds. The app also publishes each CustomerCreated, deletes the
 *    outbox item, and its bus starts an execution per created id in the same process: that is
 *    what a local PUT costs, so it is measured as it runs.
 */
export async function customersBench(
  stack: BenchStack,
  settings: CustomersBenchSettings,
): Promise<Row[]> {
  const { workflow } = stack.container.servicesOf(customersModule);
  const engine = stack.adapters.workflows;
  const table = stack.container.table(customersTable).name;
  const run = uuidv7().slice(-8);
  let next = 0;
  const freshId = (label: string) => `bench-${label}-${run}-${next++}`;

  const executions = await directLoad({
    concurrency: settings.concurrency,
    durationMs: settings.workflowSeconds * 1000,
    hardStopMs: settings.workflowSeconds * 1000 + 30_000,
    maxCalls: settings.maxExecutions,
    call: async () => {
      const executionId = await workflow.submit(freshId('wf'));
      const ended = await engine.settled(CUSTOMER_WORKFLOW, executionId);
      return ended?.status === 'SUCCEEDED' ? 'ok' : (ended?.status ?? 'unknown');
    },
  });
  await stack.adapters.idle();

  const targets: Record<string, (seconds: number) => Promise<Sample>> = {
    'customers PUT app': (seconds) =>
      httpLoad({
        url: `${stack.appUrl}/customers/x`,
        method: 'PUT',
        headers: { 'x-api-key': BENCH_API_KEY },
        // Fresh ids for more requests than a run can make.
        paths: Array.from({ length: 50_000 }, () => `/customers/${freshId('app')}`),
        connections: settings.concurrency,
        durationSeconds: seconds,
        watchdogSeconds: seconds + 10,
      }),
    'customers put direct txn': (seconds) =>
      direct(settings, seconds, async () => {
        const id = freshId('txn');
        const now = new Date().toISOString();
        const eventId = uuidv7();
        // What DynamoCustomerRepository.createCustomer sends.
        await stack.direct.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: table,
                  Item: {
                    ...customersKeys.customer(id),
                    type: 'customer',
                    id,
                    createdAt: now,
                    createdBy: 'api',
                    version: 1,
                  },
                  ConditionExpression:
                    'attribute_not_exists(PK) OR (attribute_exists(deletedAt) AND #v = :previous)',
                  ExpressionAttributeNames: { '#v': 'version' },
                  ExpressionAttributeValues: { ':previous': 0 },
                },
              },
              {
                Put: {
                  TableName: table,
                  Item: {
                    ...customersKeys.outbox(eventId),
                    type: 'outbox',
                    eventId,
                    source: 'customer.api',
                    detailType: 'CustomerCreated',
                    detail: { id, version: 1 },
                    createdAt: now,
                    GSI1PK: 'OUTBOX',
                    GSI1SK: `${now}#${eventId}`,
                  },
                },
              },
              // …and its domain event, as the platform's outbox writes it.
              stack.container.outbox.put(
                stack.container.outbox.event(
                  'customer.created',
                  { type: 'customer', id, sequence: 1 },
                  { id, exists: true },
                ),
              ),
            ],
          }),
        );
        return undefined;
      }),
    'customers put direct': (seconds) =>
      direct(settings, seconds, async () => {
        const id = freshId('put');
        await stack.direct.doc.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...customersKeys.customer(id),
              type: 'customer',
              id,
              createdAt: new Date().toISOString(),
              createdBy: 'api',
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
        return undefined;
      }),
  };

  const entries = Object.entries(targets);
  for (const [, target] of entries) await target(settings.warmupSeconds);
  await stack.adapters.idle();
  const samples = new Map<string, Sample[]>(entries.map(([name]) => [name, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (let k = 0; k < entries.length; k++) {
      const [name, target] = entries[(round + k) % entries.length] as (typeof entries)[number];
      samples.get(name)?.push(await target(settings.roundSeconds));
      // The executions the app's PUTs started finish before the next target runs.
      await stack.adapters.idle();
    }
  }
  return [
    { name: 'workflow executions local', m: summarize([executions]) },
    ...entries.map(([name]) => ({ name, m: summarize(samples.get(name) ?? []) })),
  ];
}

function direct(
  settings: CustomersBenchSettings,
  seconds: number,
  call: () => Promise<string | undefined>,
): Promise<Sample> {
  return directLoad({
    concurrency: settings.concurrency,
    durationMs: seconds * 1000,
    hardStopMs: seconds * 1000 + 10_000,
    maxCalls: settings.maxDirectCalls,
    call,
  });
}
