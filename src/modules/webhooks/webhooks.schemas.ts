import { z } from 'zod';
import { ClientIdSchema } from '../../platform/ids.js';
import { strictBody, text } from '../../platform/input.js';
import { deliveryStatuses, disabledReasons } from './webhooks.model.js';

/*
 * The HTTP shapes of the webhooks module. A secret appears in exactly two answers: the creation
 * of an endpoint and a rotation.
 */

const EVENT_TYPE = /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$/;

const eventTypes = z
  .array(
    z
      .string()
      .max(100)
      .regex(EVENT_TYPE, 'must be an event type such as registration.promoted, or *'),
  )
  .min(1)
  .max(50)
  .refine((types) => new Set(types).size === types.length, 'lists a type twice')
  .meta({
    description: 'The domain event types it receives (`GET /webhooks/event-types`); `["*"]`: all.',
    example: ['registration.promoted', 'registration.cancelled'],
  });

const url = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2048)
  .meta({ example: 'https://hooks.example.com/roster' });

const description = text(500, { min: 0 }).meta({ example: 'CRM sync' });

export const CreateWebhookSchema = strictBody({
  url,
  eventTypes,
  description: description.optional(),
}).meta({ id: 'CreateWebhookEndpoint' });

export const UpdateWebhookSchema = strictBody({
  url: url.optional(),
  eventTypes: eventTypes.optional(),
  description: description.optional(),
  enabled: z.boolean().optional().meta({
    description: 'false stops deliveries (pending ones are abandoned); true resumes them.',
  }),
})
  .refine((body) => Object.values(body).some((value) => value !== undefined), 'changes nothing')
  .meta({ id: 'UpdateWebhookEndpoint' });

export const WebhookEndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z.enum(disabledReasons).optional().meta({
      description:
        '`gone`: it answered 410; `failing`: every attempt failed for five days; `owner`: a PATCH.',
    }),
    failingSince: z.string().optional().meta({
      description: 'Since when every attempt has failed (absent after a success).',
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number().int(),
  })
  .meta({ id: 'WebhookEndpoint' });

export const WebhookWithSecretSchema = WebhookEndpointSchema.extend({
  secret: z.string().meta({
    description:
      'The signing secret (`whsec_…`, Standard Webhooks). Shown only in this answer: store it now.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  }),
}).meta({ id: 'WebhookEndpointWithSecret' });

const instant = z.iso.datetime({ offset: true });

export const ReplaySchema = strictBody({
  eventId: z.uuid().optional().meta({ description: 'Send this one event again…' }),
  since: instant.optional().meta({ description: '…or every event from here (inclusive)…' }),
  until: instant.optional().meta({ description: '…to here (exclusive).' }),
})
  .superRefine((body, context) => {
    const window = body.since !== undefined || body.until !== undefined;
    if (body.eventId !== undefined && window) {
      context.addIssue({ code: 'custom', message: 'give eventId, or since and until, not both' });
    } else if (
      body.eventId === undefined &&
      (body.since === undefined || body.until === undefined)
    ) {
      context.addIssue({ code: 'custom', message: 'give eventId, or both since and until' });
    } else if (window && Date.parse(body.since ?? '') >= Date.parse(body.until ?? '')) {
      context.addIssue({ code: 'custom', message: 'since must be before until', path: ['until'] });
    }
  })
  .meta({ id: 'WebhookReplay' });

export const ReplayedSchema = z
  .object({ replayed: z.number().int().meta({ description: 'Events sent again.' }) })
  .meta({ id: 'WebhookReplayed' });

export const DeliveryAttemptSchema = z
  .object({
    eventId: z.string(),
    eventType: z.string(),
    round: z.number().int().meta({ description: '1, then one more per replay.' }),
    attempt: z.number().int().meta({ description: 'Attempt of the round, from 1.' }),
    attemptedAt: z.string(),
    ok: z.boolean(),
    statusCode: z.number().int().optional(),
    latencyMs: z.number(),
    responseExcerpt: z.string(),
    error: z.string().optional(),
    nextAttemptAt: z.string().optional(),
  })
  .meta({ id: 'WebhookDeliveryAttempt' });

export const DeliverySchema = z
  .object({
    eventId: z.string(),
    eventType: z.string(),
    occurredAt: z.string(),
    status: z.enum(deliveryStatuses),
    attempts: z.number().int(),
    round: z.number().int(),
    nextAttemptAt: z.string().optional(),
    lastStatusCode: z.number().int().optional(),
    lastError: z.string().optional(),
    updatedAt: z.string(),
  })
  .meta({ id: 'WebhookDelivery' });

export const EventTypeSchema = z
  .object({ type: z.string(), description: z.string() })
  .meta({ id: 'DomainEventType' });

/** Ids are UUIDs Roster made; any other well-formed id is simply not found (404). */
export const WebhookIdParam = z.object({
  id: ClientIdSchema.meta({
    param: { name: 'id', in: 'path' },
    example: '019a8f3e-5a3c-7c1e-9d2b-3f4a5b6c7d8e',
  }),
});

export const DeliveryParams = WebhookIdParam.extend({
  eventId: z.uuid().meta({ param: { name: 'eventId', in: 'path' } }),
});
