import { z } from 'zod';
import { ClientIdSchema as IdSchema } from '../../platform/ids.js';
import { strictBody, text } from '../../platform/input.js';
import {
  eventBody,
  eventOrders,
  eventStatuses,
  MAX_SHARDS,
  OFFER_DEFAULTS,
  type PlacedRegistration,
  promotionModes,
  registrationBody,
  registrationStatuses,
} from './events.model.js';

/*
 * The HTTP shapes of the events module: request bodies and parameters (validated, and the
 * OpenAPI document), and responses. The service speaks events.model.ts; the routes map. Bodies
 * refuse unknown fields and text follows the platform's rule (src/platform/input.ts); only the
 * description may span lines.
 */

export const EventStatusSchema = z.enum(eventStatuses).meta({ id: 'EventStatus' });
export const EventOrderSchema = z
  .enum(eventOrders)
  .describe('By creation time: `oldest` first (the default) or `newest` first.');

const EventDateSchema = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], {
    error: (issue) =>
      issue.input === undefined
        ? 'Invalid input: expected a date (YYYY-MM-DD) or an ISO 8601 date-time, received undefined'
        : 'Invalid date: expected YYYY-MM-DD or an ISO 8601 date-time with an offset (2024-12-15, 2024-12-15T18:00:00Z)',
  })
  .meta({ description: 'YYYY-MM-DD or an ISO 8601 date-time', example: '2024-12-15' });

const eventFields = {
  title: text(200).meta({ example: 'Tech Conference 2024' }),
  description: text(2000, { multiline: true }).meta({ example: 'Annual technology conference' }),
  date: EventDateSchema,
  location: text(200).meta({ example: 'San Francisco, CA' }),
  capacity: z.number().int().min(1).max(100_000).meta({ example: 100 }),
  organizer: text(200).meta({ example: 'Tech Corp' }),
  status: EventStatusSchema,
  hasWaitlist: z.boolean().meta({ description: 'Whether a full event takes a waitlist.' }),
  waitlistEnabled: z
    .boolean()
    .meta({ description: 'Alias of `hasWaitlist`; give one or the other.' }),
  promotion: z.enum(promotionModes).meta({
    id: 'PromotionMode',
    description:
      'How a freed or added seat reaches the waitlist: `instant` confirms the next person at once; `offer` holds the seat for them as an offer they accept or decline through a signed link before `offerWindowSeconds` pass (then it goes to the next).',
  }),
  offerWindowSeconds: z.number().int().min(60).max(604_800).meta({
    description: 'How long an offer holds its seat: 60 s to 7 days.',
    example: 86_400,
  }),
  offersCloseBefore: z.number().int().min(0).max(8_760).meta({
    description:
      "No offers are made in the last this many hours before the event's date (an offer made earlier lapses by then at the latest); seats freed after that are confirmed at once, as in `instant` mode.",
    example: 24,
  }),
  offerBatch: z.number().int().min(1).max(100).meta({
    description:
      'Offers out at once, at most; further free seats wait (still reserved for the waitlist) until one is taken or passed on.',
    example: 1,
  }),
  shards: z.number().int().min(1).max(MAX_SHARDS).meta({
    description:
      'Counters the seats are spread over, for an event whose registrations come in a rush (1 to 32; more than 1 only where the deployment turns sharding on). Fixed when the event is created: a PUT may repeat it, not change it (409).',
    example: 1,
  }),
};

const offerSettings = {
  promotion: eventFields.promotion
    .optional()
    .meta({ description: `Defaults to \`${OFFER_DEFAULTS.promotion}\`.` }),
  offerWindowSeconds: eventFields.offerWindowSeconds
    .optional()
    .meta({ description: `Defaults to ${OFFER_DEFAULTS.offerWindowSeconds} (a day).` }),
  offersCloseBefore: eventFields.offersCloseBefore
    .optional()
    .meta({ description: `Defaults to ${OFFER_DEFAULTS.offersCloseBefore}.` }),
  offerBatch: eventFields.offerBatch
    .optional()
    .meta({ description: `Defaults to ${OFFER_DEFAULTS.offerBatch}.` }),
};

const sameWaitlistFlag = (body: { hasWaitlist?: boolean; waitlistEnabled?: boolean }) =>
  body.hasWaitlist === undefined ||
  body.waitlistEnabled === undefined ||
  body.hasWaitlist === body.waitlistEnabled;

const waitlistAliasMismatch = {
  message: 'hasWaitlist and waitlistEnabled disagree; send one of them',
  path: ['waitlistEnabled'],
};

export const CreateEventSchema = strictBody({
  eventId: IdSchema.refine(
    (id) => !id.toLowerCase().endsWith('.ics'),
    'must not end in ".ics" (GET /events/{id}.ics is the event\'s calendar)',
  )
    .optional()
    .meta({
      description: 'Generated (UUIDv7) when absent.',
      example: 'tech-conf-2024',
    }),
  ...eventFields,
  status: eventFields.status.optional().meta({ description: 'Defaults to `active`.' }),
  hasWaitlist: eventFields.hasWaitlist.optional(),
  waitlistEnabled: eventFields.waitlistEnabled.optional(),
  ...offerSettings,
  shards: eventFields.shards.optional().meta({ description: 'Defaults to 1.' }),
})
  .refine(sameWaitlistFlag, waitlistAliasMismatch)
  .meta({ id: 'CreateEvent' });

export const UpdateEventSchema = strictBody({
  title: eventFields.title.optional(),
  description: eventFields.description.optional(),
  date: eventFields.date.optional(),
  location: eventFields.location.optional(),
  capacity: eventFields.capacity.optional().meta({
    description:
      'Below the number of confirmed registrations is a 409; raising it promotes waitlisted users in join order.',
  }),
  organizer: eventFields.organizer.optional(),
  status: eventFields.status.optional(),
  hasWaitlist: eventFields.hasWaitlist.optional(),
  waitlistEnabled: eventFields.waitlistEnabled.optional(),
  ...offerSettings,
  shards: eventFields.shards.optional().meta({
    description: "The event's own value (accepted, changes nothing); any other is a 409.",
  }),
})
  .refine(sameWaitlistFlag, waitlistAliasMismatch)
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: 'give at least one field to change',
    path: [],
  })
  .meta({ id: 'UpdateEvent' });

export const EventSchema = z
  .object({
    eventId: z.string(),
    title: z.string(),
    description: z.string(),
    date: z.string(),
    location: z.string(),
    capacity: z.number().int(),
    organizer: z.string(),
    status: EventStatusSchema,
    hasWaitlist: z.boolean(),
    promotion: eventFields.promotion,
    offerWindowSeconds: z.number().int(),
    offersCloseBefore: z.number().int(),
    offerBatch: z.number().int(),
    registeredCount: z.number().int().meta({ description: 'Confirmed registrations.' }),
    waitlistCount: z.number().int().meta({ description: 'Waitlisted registrations.' }),
    offeredCount: z.number().int().meta({
      description: 'Offers out, each holding a seat: `registeredCount + offeredCount ≤ capacity`.',
    }),
    shards: z.number().int().meta({
      description:
        "Counters the seats are spread over (1: one, as every event created without `shards`); a sharded event's counts are sums read from its shards.",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Event' });
export type EventResponse = z.infer<typeof EventSchema>;

export const CreateUserSchema = strictBody({
  userId: IdSchema.optional().meta({
    description: 'Generated (UUIDv7) when absent.',
    example: 'user-123',
  }),
  name: text(200).meta({ example: 'John Doe' }),
}).meta({ id: 'CreateUser' });

export const UserSchema = z
  .object({ userId: z.string(), name: z.string(), createdAt: z.string() })
  .meta({ id: 'User' });
export type UserResponse = z.infer<typeof UserSchema>;

export const RegistrationStatusSchema = z.enum(registrationStatuses).meta({
  id: 'RegistrationStatus',
  description:
    '`offered`: a seat is held until `offerExpiresAt`; `expired`, `declined`: an offer that ended without a seat (the registration is over; registering again replaces it).',
});

export const RegistrationSchema = z
  .object({
    registrationId: z.string(),
    userId: z.string(),
    eventId: z.string(),
    status: RegistrationStatusSchema,
    registeredAt: z.string(),
    waitlistPosition: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: '1-based place in the waitlist; waitlisted registrations only.' }),
    promotedAt: z
      .string()
      .optional()
      .meta({ description: 'When a waitlisted registration was confirmed.' }),
    offeredAt: z.string().optional().meta({ description: 'When a seat was offered.' }),
    offerExpiresAt: z
      .string()
      .optional()
      .meta({ description: 'Until when the offer holds its seat (an accept at or after: 410).' }),
    offerToken: z.string().optional().meta({
      description:
        'While offered: the capability the attendee accepts or declines with (`POST /offers/{token}/accept`), no API key needed. Send it as a link; treat it as a secret.',
    }),
    declinedAt: z.string().optional().meta({ description: 'When the offer was declined.' }),
  })
  .meta({ id: 'Registration' });
export type RegistrationResponse = z.infer<typeof RegistrationSchema>;

export const UserRegistrationSchema = RegistrationSchema.extend({
  event: EventSchema,
}).meta({ id: 'UserRegistration' });
export type UserRegistrationResponse = z.infer<typeof UserRegistrationSchema>;

export const RegisterBodySchema = strictBody({ userId: IdSchema, eventId: IdSchema }).meta({
  id: 'RegisterRequest',
});
export const RegisterForEventBodySchema = strictBody({ userId: IdSchema }).meta({
  id: 'RegisterForEventRequest',
});

export const UnregisterResultSchema = z
  .object({
    message: z.string(),
    eventId: z.string(),
    userId: z.string(),
    promoted: z
      .array(RegistrationSchema)
      .meta({ description: 'Waitlisted registrations confirmed by this change.' }),
    offered: z.array(RegistrationSchema).meta({
      description:
        'Waitlisted registrations offered the freed seat (offer mode), with their tokens.',
    }),
  })
  .meta({ id: 'UnregisterResult' });

export const DeleteEventResultSchema = z
  .object({ message: z.string(), eventId: z.string(), deletedRegistrations: z.number().int() })
  .meta({ id: 'DeleteEventResult' });

export const EventIdParam = z.object({
  eventId: IdSchema.meta({ param: { name: 'eventId', in: 'path' }, example: 'tech-conf-2024' }),
});
export const UserIdParam = z.object({
  userId: IdSchema.meta({ param: { name: 'userId', in: 'path' }, example: 'user-123' }),
});
export const EventUserParams = EventIdParam.merge(UserIdParam);

export const placedBody = ({ registration, position }: PlacedRegistration) =>
  registrationBody(registration, position);

export { eventBody, registrationBody };
