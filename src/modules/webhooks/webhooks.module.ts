import * as z from 'zod/mini';
import { integerSetting } from '../../platform/input.js';
import { defineModule, isStartupRun } from '../../platform/module.js';
import { outboxQueue } from '../../platform/outbox/outbox.js';
import { scheduleSetting } from '../../platform/schedule.js';
import { deliveryQueue, webhooksTable } from './webhooks.resources.js';
import { parseSchedule, STANDARD_RETRY_SCHEDULE } from './webhooks.rules.js';
import type { WebhooksService } from './webhooks.service.js';

export { deliveryQueue, webhooksTable };

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

/** Account-wide webhook endpoints: domain events delivered signed, at least once, with replay. */
export const webhooksModule = defineModule({
  name: 'webhooks',
  tables: [webhooksTable],
  settings,
  // Its code (services, routers, the schemas of its events) loads with `load`: in the API
  // Lambda, on the first request to one of these routes (docs/decisions/lazy-modules.md).
  load: () => import('./webhooks.code.js'),
  routes: [
    'GET /webhooks/event-types',
    'POST /webhooks',
    'GET /webhooks',
    'GET /webhooks/{id}',
    'PATCH /webhooks/{id}',
    'DELETE /webhooks/{id}',
    'POST /webhooks/{id}/rotate',
    'GET /webhooks/{id}/deliveries',
    'GET /webhooks/{id}/deliveries/{eventId}',
    'POST /webhooks/{id}/replay',
  ],
  tags: [
    {
      name: 'webhooks',
      description:
        'Endpoints that receive domain events, signed to the Standard Webhooks spec; delivery log and replay',
    },
  ],
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
