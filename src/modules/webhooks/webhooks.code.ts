import type { ModuleContext } from '../../platform/module.js';
import { onFirstUse } from '../../platform/on-first-use.js';
import { queueOf } from '../../platform/queue/queue.js';
import { DynamoWebhookRepository } from './webhooks.dynamo.js';
import { deliveryQueue, webhooksTable } from './webhooks.resources.js';
import { webhookRoutes, webhooksEventSchemas } from './webhooks.routes.js';
import { WebhooksService, type WebhooksSettings } from './webhooks.service.js';

/**
 * The webhooks module's code, behind its definition's `load` (webhooks.module.ts): the API Lambda
 * loads it on the first request to one of the module's routes.
 */

const SECRET_PURPOSE = 'webhook-signing-secrets';

export function services(
  context: ModuleContext<WebhooksSettings & { readonly targets: 'public' | 'public-and-loopback' }>,
) {
  const { settings: s } = context;
  // The sender (DNS, sockets, Standard Webhooks signing) and its checks of a target, loaded by
  // the first call that needs them: a delivery, or an endpoint created, changed or given a new
  // secret. The API and the tasks that only dispatch or sweep start without them.
  const delivery = onFirstUse(() => import('./webhooks.delivery.js'));
  const sender = onFirstUse(async () => (await delivery()).createSender({ policy: s.targets }));
  return {
    webhooks: new WebhooksService({
      repository: new DynamoWebhookRepository(context.table(webhooksTable), context.outbox),
      outbox: context.outbox,
      deliveries: queueOf(context.ports.queues, deliveryQueue),
      send: async (request) => (await sender())(request),
      targetProblem: async (url) => (await delivery()).targetUrlProblem(url, s.targets),
      newSecret: async () => (await delivery()).newSigningSecret(),
      seal: async (secret) => (await context.secrets()).seal(SECRET_PURPOSE, secret),
      open: async (sealed) => (await context.secrets()).open(SECRET_PURPOSE, sealed),
      clock: context.clock,
      newId: context.newId,
      random: Math.random,
      logger: context.logger,
      metrics: context.metrics,
      settings: s,
    }),
  };
}

export const routers = ({ webhooks }: ReturnType<typeof services>) => [webhookRoutes(webhooks)];

export const domainEventSchemas = webhooksEventSchemas;
