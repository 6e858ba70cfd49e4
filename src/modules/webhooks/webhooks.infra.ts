import type { ModuleAccess } from '../../../infra/access.js';
import type { ModuleInfra } from '../../../infra/module-infra.js';
import { settingsEnvVars } from '../../platform/config.js';
import { outboxQueue, outboxTable } from '../../platform/outbox/outbox.js';
import { queueEnvVars } from '../../platform/queue/queue.js';
import { webhooksKeys } from './webhooks.dynamo.js';
import { deliveryQueue, webhooksModule, webhooksTable } from './webhooks.module.js';

const { index } = webhooksKeys;

/**
 * What each webhooks function does on its table and on the platform's outbox (the stack grants
 * exactly this):
 * - the API: endpoints (put if absent, read, conditional updates for PATCH and rotation, delete;
 *   listed and counted through gsi1), a delivery read, the attempt log (a query on the endpoint's
 *   partition); replay reads one event (GetItem) or a window of the log (gsi2) and reopens each
 *   delivery (an update);
 * - dispatch: reads the announced events (batch), lists the endpoints (gsi1), opens a delivery
 *   per subscriber (put if absent) and takes the event off the pending index (an update);
 * - deliver: reads the delivery, its endpoint and its event, claims and settles the attempt
 *   (conditional updates), logs it (a put), marks the endpoint failing; disabling one is an update
 *   with its `webhook_endpoint.disabled` event put in the same transaction; it deletes nothing;
 * - sweep: events still pending (the outbox's gsi1) get a wake-up again on the domain-events
 *   queue (dispatch hands them on), each moved on in that index (a conditional update); deliveries overdue come from the DUE entries of gsi1, each
 *   moved on in that index (a conditional update) before its message is sent again.
 */
export const access: ModuleAccess = {
  api: [
    {
      table: webhooksTable,
      actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'],
      indexes: [index],
    },
    { table: outboxTable, actions: ['GetItem'], indexes: ['gsi2'] },
  ],
  dispatch: [
    { table: webhooksTable, actions: ['PutItem'], indexes: [index] },
    { table: outboxTable, actions: ['BatchGetItem', 'UpdateItem'] },
  ],
  deliver: [
    { table: webhooksTable, actions: ['GetItem', 'PutItem', 'UpdateItem'] },
    { table: outboxTable, actions: ['GetItem', 'PutItem'] },
  ],
  sweep: [
    { table: webhooksTable, actions: ['UpdateItem'], indexes: [index] },
    { table: outboxTable, actions: ['UpdateItem'], indexes: ['gsi1'] },
  ],
};

/**
 * The webhooks module on AWS. The stack has built its table, the two queues it consumes
 * (`domain-events`, the outbox's wake-ups, for dispatch; `webhook-deliveries` for deliver) with
 * their DLQs, redrive, event sources and DLQ alarms, the scheduled sweep, and the table access
 * above; it also lets every function that commits domain events (deliver among them) send the
 * wake-ups. This lets whoever makes deliveries send them, and holds every function of the module
 * to the AWS target policy: https only, no private, loopback, link-local or metadata address
 * (deliver runs outside any VPC, so it reaches the internet and nothing private).
 */
export const infra: ModuleInfra = (_scope, { queue, apiFunction, taskFunctions }) => {
  const fn = (task: string) => {
    const found = taskFunctions.get(task);
    if (!found) throw new Error(`webhooks: no Lambda for task "${task}"`);
    return found;
  };
  const { queue: deliveries } = queue(deliveryQueue);
  const targets = settingsEnvVars(webhooksModule).targets;
  if (!targets) throw new Error('webhooks: no "targets" setting');
  for (const sender of [apiFunction, fn('dispatch'), fn('deliver'), fn('sweep')]) {
    deliveries.grantSendMessages(sender);
    sender.addEnvironment(targets, 'public');
  }
  // The sweep wakes the dispatcher for events still pending (it commits none itself, so the
  // stack's rule for committers does not cover it).
  const { queue: wakeUps } = queue(outboxQueue);
  wakeUps.grantSendMessages(fn('sweep'));
  fn('sweep').addEnvironment(queueEnvVars(outboxQueue).url, wakeUps.queueUrl);
};
