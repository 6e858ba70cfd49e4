import type { ModuleInfra } from '../../../infra/module-infra.js';
import { enrollmentQueue, enrollmentsTable } from './enrollments.module.js';

/**
 * The enrollments module on AWS. The stack has built its table, its queue with the DLQ (redrive
 * after 5 receives, visibility 6 × the processor's 20 s timeout, SSL enforced, DLQ-depth alarm),
 * the processor Lambda on the queue (ReportBatchItemFailures) and the scheduled reconciler; this
 * grants what each function does: the API accepts requests (table, send), the processor reads and
 * transitions them, the reconciler reads the pending index and sends again.
 */
export const infra: ModuleInfra = (_scope, { table, queue, apiFunction, taskFunctions }) => {
  const enrollments = table(enrollmentsTable);
  const { queue: requests } = queue(enrollmentQueue);
  enrollments.grantReadWriteData(apiFunction);
  requests.grantSendMessages(apiFunction);

  const processor = taskFunctions.get('process');
  const reconciler = taskFunctions.get('reconcile');
  if (!processor || !reconciler) throw new Error('enrollments: a task Lambda is missing');
  enrollments.grantReadWriteData(processor);
  enrollments.grantReadData(reconciler);
  requests.grantSendMessages(reconciler);
};
