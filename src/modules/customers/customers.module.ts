import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import type { EventRule } from '../../platform/event-bus/bus.js';
import { integerSetting } from '../../platform/input.js';
import { defineModule, isStartupRun } from '../../platform/module.js';
import { scheduleSetting } from '../../platform/schedule.js';
import type { WorkflowDefinition } from '../../platform/workflow/workflow.js';
import { CUSTOMER_CREATED, CUSTOMER_WORKFLOW, customerEvents } from './customers.model.js';
import { customersTable } from './customers.resources.js';

export { customersTable };

/**
 * The customer-ID workflow (docs/spec.md#customer-workflow), one ASL file for Step Functions and
 * the local engine alike; each placeholder names the module task that runs the Task state.
 */
export const customerWorkflow = {
  id: CUSTOMER_WORKFLOW,
  definitionFile: fileURLToPath(new URL('./customers.workflow.asl.json', import.meta.url)),
  tasks: {
    ValidateExistsFunctionArn: 'validate-exists',
    InsertIdFunctionArn: 'insert-id',
    RecordAlreadyExistsFunctionArn: 'record-already-exists',
    RecordFailureFunctionArn: 'record-failure',
  },
} as const satisfies WorkflowDefinition;

/**
 * The workflow's event trigger (docs/spec.md#customer-workflow): a created customer starts the
 * workflow with `{id}`.
 */
export const customerCreatedRule = {
  name: 'customer-created-starts-workflow',
  description: 'CustomerCreated from the customers API starts the workflow with the event detail.',
  pattern: { source: [CUSTOMER_CREATED.source], 'detail-type': [CUSTOMER_CREATED.detailType] },
  target: { workflow: customerWorkflow, inputPath: '$.detail' },
} as const satisfies EventRule;

const settings = z.object({
  /** How often the workflow runs with {"id":"scheduled-check"} (the schedule trigger). */
  schedule: scheduleSetting('rate(5 minutes)'),
  /** How often CustomerCreated events a failed publish left in the outbox are sent again. */
  outboxSweep: scheduleSetting('rate(1 minute)'),
  /** How old an outbox event must be before the sweep sends it (younger: its request's own). */
  outboxGraceSeconds: integerSetting(30, { min: 0, max: 3600 }),
  /** How often execution records left RUNNING are checked against the workflow engine. */
  reconcileSweep: scheduleSetting('rate(10 minutes)'),
  /**
   * How often items the previous release wrote are put into the lists (GET /customers, GET
   * /workflow/executions without an id); `off` once a run has found nothing left.
   */
  listBackfillSchedule: scheduleSetting('rate(1 hour)'),
  /** How many items the backfill reads per Scan call. */
  listBackfillPageSize: integerSetting(100, { min: 1, max: 1000 }),
});
/** Customer-ID registry and its workflow, started by API, event and schedule. */
export const customersModule = defineModule({
  name: 'customers',
  tables: [customersTable],
  settings,
  workflows: [customerWorkflow],
  eventRules: [customerCreatedRule],
  // Its code (services, routers, the schemas of its events) loads with `load`: in the API
  // Lambda, on the first request to one of these routes (docs/decisions/lazy-modules.md).
  load: () => import('./customers.code.js'),
  routes: [
    'PUT /customers/{id}',
    'GET /customers/{id}',
    'GET /customers',
    'DELETE /customers/{id}',
    // Before `/workflow/executions/{executionId}`.
    'GET /workflow/executions/stats',
    'POST /workflow/submit',
    'GET /workflow/executions/{executionId}',
    'GET /workflow/executions',
  ],
  domainEvents: [
    {
      type: customerEvents.created,
      description:
        'A customer id was registered, by PUT /customers/{id} or by the workflow’s InsertId. The sequence is the id’s version: an id registered again after a delete goes on counting.',
    },
    {
      type: customerEvents.deleted,
      description:
        'A customer id was removed by DELETE /customers/{id}; its sequence is one more than its creation’s.',
    },
  ],
  tags: [
    {
      name: 'customers',
      description:
        'Customer-ID registry and its workflow (validate → insert or record), started by API, by CustomerCreated events and by a schedule',
    },
  ],
  tasks: [
    // Listed before the outbox sweep: at local start-up, records left RUNNING by a crash are
    // closed before anything new starts.
    {
      name: 'reconcile-executions',
      description: 'Closes execution records left RUNNING whose execution has ended or was lost.',
      startup: true,
      schedule: (s) => s.reconcileSweep,
      run: ({ workflow }, input) => workflow.reconcile({ all: isStartupRun(input) }),
    },
    {
      name: 'publish-pending-events',
      description: 'Publishes CustomerCreated events a failed or interrupted publish left behind.',
      startup: true,
      schedule: (s) => s.outboxSweep,
      run: ({ customers }) => customers.publishPending(),
    },
    {
      name: 'backfill-list-indexes',
      description:
        'Puts customers and execution records written before the lists existed into them (a migration).',
      startup: true,
      schedule: (s) => s.listBackfillSchedule,
      run: ({ customers }) => customers.backfillLists(),
    },
    {
      name: 'scheduled-check',
      description: 'Starts the workflow with {"id":"scheduled-check"} (the schedule trigger).',
      schedule: (s) => s.schedule,
      run: ({ workflow }) => workflow.scheduledCheck().then((executionId) => ({ executionId })),
    },
    // The workflow's Task states (customers.workflow.asl.json).
    {
      name: 'validate-exists',
      description:
        'Workflow step ValidateExists: records the execution, reads whether the id exists.',
      run: ({ steps }, input) => steps.validateExists(input),
    },
    {
      name: 'insert-id',
      description: 'Workflow step InsertId: a conditional put of the id with the Inserted outcome.',
      run: ({ steps }, input) => steps.insertId(input),
    },
    {
      name: 'record-already-exists',
      description: 'Workflow step AlreadyExists: records that the id was registered already.',
      run: ({ steps }, input) => steps.recordAlreadyExists(input),
    },
    {
      name: 'record-failure',
      description: 'Workflow step RecordFailure: records the error that failed the execution.',
      run: ({ steps }, input) => steps.recordFailure(input),
    },
  ],
});
