import * as z from 'zod/mini';
import { ClientIdSchema } from '../../platform/ids.js';
import { strictBody, text, withMeta } from '../../platform/input.js';
import { deliveryStatuses, disabledReasons } from './webhooks.model.js';

/*
 * The HTTP shapes of the webhooks module. A secret appears in exactly two answers: the creation
 * of an endpoint and a rotation.
 */

const EVENT_TYPE = /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$/;

const eventTypes = withMeta(
  z
    .array(
      z
        .string()
        .check(
          z.maxLength(100),
          z.regex(EVENT_TYPE, 'must be an event type such as registration.promoted, or *'),
        ),
    )
    .check(
      z.minLength(1),
      z.maxLength(50),
      z.refine((types) => new Set(types).size === types.length, 'lists a type twice'),
    ),
  {
    description: 'The domain event types it receives (`GET /webhooks/event-types`); `["*"]`: all.',
    example: ['registration.promoted', 'registration.cancelled'],
  },
);

const url = withMeta(
  z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).check(z.maxLength(2048)),
  { example: 'https://hooks.example.com/roster' },
);

const description = withMeta(text(500, { min: 0 }), { example: 'CRM sync' });

export const CreateWebhookSchema = withMeta(
  strictBody({
    url,
    eventTypes,
    description: z.optional(description),
  }),
  { id: 'CreateWebhookEndpoint' },
);

export const UpdateWebhookSchema = withMeta(
  strictBody({
    url: z.optional(url),
    eventTypes: z.optional(eventTypes),
    description: z.optional(description),
    enabled: withMeta(z.optional(z.boolean()), {
      description: 'false stops deliveries (pending ones are abandoned); true resumes them.',
    }),
  }).check(
    z.refine((body) => Object.values(body).some((value) => value !== undefined), 'changes nothing'),
  ),
  { id: 'UpdateWebhookEndpoint' },
);

export const WebhookEndpointSchema = withMeta(
  z.object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: withMeta(z.optional(z.enum(disabledReasons)), {
      description:
        '`gone`: it answered 410; `failing`: every attempt failed for five days; `owner`: a PATCH.',
    }),
    failingSince: withMeta(z.optional(z.string()), {
      description: 'Since when every attempt has failed (absent after a success).',
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.int(),
  }),
  { id: 'WebhookEndpoint' },
);

export const WebhookWithSecretSchema = withMeta(
  z.extend(WebhookEndpointSchema, {
    secret: withMeta(z.string(), {
      description:
        'The signing secret (`whsec_…`, Standard Webhooks). Shown only in this answer: store it now.',
      example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    }),
  }),
  { id: 'WebhookEndpointWithSecret' },
);

const instant = z.iso.datetime({ offset: true });

export const ReplaySchema = withMeta(
  strictBody({
    eventId: withMeta(z.optional(z.uuid()), { description: 'Send this one event again…' }),
    since: withMeta(z.optional(instant), { description: '…or every event from here (inclusive)…' }),
    until: withMeta(z.optional(instant), { description: '…to here (exclusive).' }),
  }).check(
    z.superRefine((body, context) => {
      const window = body.since !== undefined || body.until !== undefined;
      if (body.eventId !== undefined && window) {
        context.addIssue({ code: 'custom', message: 'give eventId, or since and until, not both' });
      } else if (
        body.eventId === undefined &&
        (body.since === undefined || body.until === undefined)
      ) {
        context.addIssue({ code: 'custom', message: 'give eventId, or both since and until' });
      } else if (window && Date.parse(body.since ?? '') >= Date.parse(body.until ?? '')) {
        context.addIssue({
          code: 'custom',
          message: 'since must be before until',
          path: ['until'],
        });
      }
    }),
  ),
  { id: 'WebhookReplay' },
);

export const ReplayedSchema = withMeta(
  z.object({ replayed: withMeta(z.int(), { description: 'Events sent again.' }) }),
  { id: 'WebhookReplayed' },
);

export const DeliveryAttemptSchema = withMeta(
  z.object({
    eventId: z.string(),
    eventType: z.string(),
    round: withMeta(z.int(), { description: '1, then one more per replay.' }),
    attempt: withMeta(z.int(), { description: 'Attempt of the round, from 1.' }),
    attemptedAt: z.string(),
    ok: z.boolean(),
    statusCode: z.optional(z.int()),
    latencyMs: z.number(),
    responseExcerpt: z.string(),
    error: z.optional(z.string()),
    nextAttemptAt: z.optional(z.string()),
  }),
  { id: 'WebhookDeliveryAttempt' },
);

export const DeliverySchema = withMeta(
  z.object({
    eventId: z.string(),
    eventType: z.string(),
    occurredAt: z.string(),
    status: z.enum(deliveryStatuses),
    attempts: z.int(),
    round: z.int(),
    nextAttemptAt: z.optional(z.string()),
    lastStatusCode: z.optional(z.int()),
    lastError: z.optional(z.string()),
    updatedAt: z.string(),
  }),
  { id: 'WebhookDelivery' },
);

export const EventTypeSchema = withMeta(z.object({ type: z.string(), description: z.string() }), {
  id: 'DomainEventType',
});

/** Ids are UUIDs Roster made; any other well-formed id is simply not found (404). */
export const WebhookIdParam = z.object({
  id: withMeta(ClientIdSchema, {
    param: { name: 'id', in: 'path' },
    example: '019a8f3e-5a3c-7c1e-9d2b-3f4a5b6c7d8e',
  }),
});

export const DeliveryParams = z.extend(WebhookIdParam, {
  eventId: withMeta(z.uuid(), { param: { name: 'eventId', in: 'path' } }),
});
