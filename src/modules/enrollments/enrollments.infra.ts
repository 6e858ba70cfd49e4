import type { ModuleAccess } from '../../../infra/access.js';
import type { ModuleInfra } from '../../../infra/module-infra.js';
import { outboxTable } from '../../platform/outbox/outbox.js';
import { enrollmentsKeys } from './enrollments.dynamo.js';
import { enrollmentQueue, enrollmentsTable } from './enrollments.module.js';

/**
 * What each enrollments function does on its table:
 * - the API: age groups (a put with the age slots' updates; a delete with them; read; listed by
 *   the groups index) and enrollments (the CPF guard and the record put with the age slot's
 *   condition check, and the enrollment.accepted event into the platform's outbox; read; listed
 *   by status (the status index) and by group and status (the groups index); counted by status,
 *   and the oldest pending found, in the status index);
 * - the processor: reads a request, then marks it processed (an update with the group's check)
 *   or rejected (an update, and the delete of its CPF guard), with its event in the outbox;
 * - the reconciler: lists requests still pending (the pending index), and sends them again;
 * - the list's backfill (a migration): scans for records an earlier release stored without the
 *   list's keys, and sets them with a conditional update. It queries no index.
 */
export const access: ModuleAccess = {
  api: [
    {
      table: enrollmentsTable,
      actions: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'],
      indexes: [enrollmentsKeys.groupsIndex, enrollmentsKeys.statusIndex],
    },
    { table: outboxTable, actions: ['PutItem'] },
  ],
  process: [
    {
      table: enrollmentsTable,
      actions: ['GetItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'],
    },
    { table: outboxTable, actions: ['PutItem'] },
  ],
  reconcile: [{ table: enrollmentsTable, actions: [], indexes: [enrollmentsKeys.pendingIndex] }],
  'backfill-list-keys': [{ table: enrollmentsTable, actions: ['Scan', 'UpdateItem'] }],
};

/**
 * The enrollments module on AWS. The stack has built its table, its queue with the DLQ (redrive
 * after 5 receives, visibility 6 × the processor's 20 s timeout, SSL enforced, DLQ-depth alarm),
 * the processor Lambda on the queue (ReportBatchItemFailures, bounded concurrency) and the
 * scheduled reconciler, with the table access above; this lets the API and the reconciler send.
 */
export const infra: ModuleInfra = (_scope, { queue, apiFunction, taskFunctions }) => {
  const { queue: requests } = queue(enrollmentQueue);
  const reconciler = taskFunctions.get('reconcile');
  if (!reconciler) throw new Error('enrollments: the reconcile Lambda is missing');
  requests.grantSendMessages(apiFunction);
  requests.grantSendMessages(reconciler);
};
