import * as z from 'zod/mini';
import { S, type TableDefinition } from '../../platform/dynamo/tables.js';
import { integerSetting } from '../../platform/input.js';
import { defineModule, isStartupRun } from '../../platform/module.js';
import { onFirstUse } from '../../platform/on-first-use.js';
import { outboxQueue } from '../../platform/outbox/outbox.js';
import { type QueueDefinition, queueOf } from '../../platform/queue/queue.js';
import { scheduleSetting } from '../../platform/schedule.js';
import { DynamoWebhookRepository } from './webhooks.dynamo.js';
import { webhookRoutes, webhooksEventSchemas } from './webhooks.routes.js';
import { parseSchedule, STANDARD_RETRY_SCHEDULE } from './webhooks.rules.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * webhooks: endpoints, deliveries and the attempt log, one partition per endpoint (keys in
 * webhooks.dynamo.ts).
 * - gsi1  endpoints by creation   GSI1PK=ENDPOINTS   GSI1SK=<createdAt>#<id>
 *         deliveries due (sparse) GSI1PK=DUE         GSI1SK=<nextAttemptAt>#<endpointId>#<eventId>
 */
export const webhooksTable = {
  id: 'webhooks',
  partitionKey: S('PK'),
  sortKey: S('SK'),
  globalIndexes: [{ indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') }],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDefinition;

/**
 * One message per delivery attempt due. An attempt takes at most `attemptTimeoutSeconds` (30 at
 * most), so a consumer's batch, attempted in parallel, ends well within 60 s.
 */
export const deliveryQueue = {
  id: 'webhook-deliveries',
  maxReceiveCount: 10,
  consumerTimeoutSeconds: 60,
  batchSize: 10,
  maxConcurrency: 10,
} as const satisfies QueueDefinition;

const settings = z.object({
  /**
   * Which URLs may receive webhooks: `public` (https only; private, loopback, link-local and
   * metadata addresses refused, also after DNS resolution) — what the CDK stack sets — or
   * `public-and-loopback` (also http and loopback targets: the local runtime, itself
   * loopback-only, and its tests).
   */
  targets: z._default(z.optional(z.enum(['public', 'public-and-loopback'])), 'public-and-loopback'),
  /** One attempt, from DNS to the first KiB of the answer. */
  attemptTimeoutSeconds: integerSetting(15, { min: 1, max: 30 }),
  /** The delay before each attempt, seconds (the Standard Webhooks example schedule). */
  retrySchedule: z.pipe(
    z._default(z.optional(z.string()), STANDARD_RETRY_SCHEDULE.join(',')),
    z.transform((text, payload) => {
      try {
        return parseSchedule(text);
      } catch (error) {
        payload.issues.push({ code: 'custom', message: (error as Error).message, input: text });
        return z.NEVER;
      }
    }),
  ),
  /** An endpoint whose every attempt failed for this long is disabled (five days). */
  disableAfterFailingSeconds: integerSetting(432_000, { min: 60 }),
  /** How often overdue deliveries and events not handed on are picked up again. */
  sweepSchedule: scheduleSetting('rate(1 minute)'),
  /** How overdue they must be (younger: their own message is probably on its way). */
  sweepGraceSeconds: integerSetting(30, { min: 0, max: 3600 }),
  maxEndpoints: integerSetting(50, { min: 1, max: 1000 }),
  /** The most events one replay of a window may send. */
  replayMaxEvents: integerSetting(10_000, { min: 1, max: 100_000 }),
});

const SECRET_PURPOSE = 'webhook-signing-secrets';

/** Account-wide webhook endpoints: domain events delivered signed, at least once, with replay. */
export const webhooksModule = defineModule({
  name: 'webhooks',
  tables: [webhooksTable],
  settings,
  services: (context) => {
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
  },
  routes: ({ webhooks }) => [webhookRoutes(webhooks)],
  tags: [
    {
      name: 'webhooks',
      description:
        'Endpoints that receive domain events, signed to the Standard Webhooks spec; delivery log and replay',
    },
  ],
  domainEventSchemas: webhooksEventSchemas,
  domainEvents: [
    {
      type: 'webhook_endpoint.disabled',
      description:
        'Roster disabled an endpoint: it answered 410 Gone, or every attempt to it failed for five days.',
    },
  ],
  tasks: [
    {
      name: 'dispatch',
      description:
        'Turns each committed domain event into one delivery per subscribed endpoint (outbox wake-ups).',
      queue: outboxQueue,
      run: ({ webhooks }, message) =>
        webhooks.dispatch(message as Parameters<WebhooksService['dispatch']>[0]),
    },
    {
      name: 'deliver',
      description: 'Makes one delivery attempt: signed POST, logged, then done or rescheduled.',
      queue: deliveryQueue,
      run: ({ webhooks }, message) =>
        webhooks.deliver(message as Parameters<WebhooksService['deliver']>[0]),
    },
    {
      name: 'sweep',
      description:
        'Picks up domain events not handed on and deliveries whose attempt is overdue (the backstop for lost messages).',
      // At local start-up every pending delivery gets its message again: the in-process queue
      // lost its messages with the process.
      startup: true,
      schedule: (s) => s.sweepSchedule,
      run: ({ webhooks }, input) => webhooks.sweep({ all: isStartupRun(input) }),
    },
  ],
});
