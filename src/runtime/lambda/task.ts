import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { modules } from '../../modules/index.js';
import { ConfigError } from '../../platform/config.js';
import type { AnyModule } from '../../platform/module.js';
import { consumeMessage } from '../../platform/queue/queue.js';
import { flushingMetrics, lambdaContainer } from './bootstrap.js';

/**
 * One module task (`ROSTER_TASK=<module>/<task>`, set by the stack), invoked by its trigger
 * (EventBridge Scheduler, …) with the trigger's event as input. The same task definitions run
 * locally on timers (src/runtime/local/tasks.ts).
 *
 * A task with a queue trigger gets SQS batches: Powertools' batch processor runs the task once per
 * record and answers `batchItemFailures` (the event source has ReportBatchItemFailures), so only
 * the failed messages come back. A poison message goes to the dead-letter queue at once.
 */
const container = await lambdaContainer();
const [moduleName, taskName] = (container.config.task ?? '').split('/');
const module = (modules as readonly AnyModule[]).find((m) => m.name === moduleName);
const task = module?.tasks?.find((t) => t.name === taskName);
if (!module || !task) {
  throw new ConfigError(
    `Invalid configuration: ROSTER_TASK names no task (${container.config.task})`,
  );
}
const services = container.servicesOf(module);

const queue = task.queue ? container.ports.queues?.queue(task.queue) : undefined;
// Powertools' batch processor, for a task fed by a queue alone (every invocation then uses it).
const batch = queue ? await import('@aws-lambda-powertools/batch') : undefined;
const processor = batch && new batch.BatchProcessor(batch.EventType.SQS);

const consumeRecord = async (record: SQSRecord): Promise<void> => {
  if (!queue) throw new Error('no queue port');
  await consumeMessage(
    queue,
    {
      id: record.messageId,
      body: record.body,
      receiveCount: Number(record.attributes.ApproximateReceiveCount),
    },
    (message) => task.run(services, message),
  );
};

export const handler = flushingMetrics(
  container,
  async (event: unknown, context: Context): Promise<unknown> =>
    batch && processor
      ? batch.processPartialResponse(event as SQSEvent, consumeRecord, processor, { context })
      : task.run(services, event),
);
