import * as z from 'zod/mini';
import { ClientIdSchema as IdSchema } from '../../platform/ids.js';
import { strictBody, text, withMeta } from '../../platform/input.js';
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

export const EventStatusSchema = withMeta(z.enum(eventStatuses), { id: 'EventStatus' });
export const EventOrderSchema = withMeta(z.enum(eventOrders), {
  description: 'By creation time: `oldest` first (the default) or `newest` first.',
});

const EventDateSchema = withMeta(
  z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
    error: (issue) =>
      issue.input === undefined
        ? 'Invalid input: expected a date (YYYY-MM-DD) or an ISO 8601 date-time, received undefined'
        : 'Invalid date: expected YYYY-MM-DD or an ISO 8601 date-time with an offset (2024-12-15, 2024-12-15T18:00:00Z)',
  }),
  { description: 'YYYY-MM-DD or an ISO 8601 date-time', example: '2024-12-15' },
);

const eventFields = {
  title: withMeta(text(200), { example: 'Tech Conference 2024' }),
  description: withMeta(text(2000, { multiline: true }), {
    example: 'Annual technology conference',
  }),
  date: EventDateSchema,
  location: withMeta(text(200), { example: 'San Francisco, CA' }),
  capacity: withMeta(z.int().check(z.minimum(1), z.maximum(100_000)), { example: 100 }),
  organizer: withMeta(text(200), { example: 'Tech Corp' }),
  status: EventStatusSchema,
  hasWaitlist: withMeta(z.boolean(), { description: 'Whether a full event takes a waitlist.' }),
  waitlistEnabled: withMeta(z.boolean(), {
    description: 'Alias of `hasWaitlist`; give one or the other.',
  }),
  promotion: withMeta(z.enum(promotionModes), {
    id: 'PromotionMode',
    description:
      'How a freed or added seat reaches the waitlist: `instant` confirms the next person at once; `offer` holds the seat for them as an offer they accept or decline through a signed link before `offerWindowSeconds` pass (then it goes to the next).',
  }),
  offerWindowSeconds: withMeta(z.int().check(z.minimum(60), z.maximum(604_800)), {
    description: 'How long an offer holds its seat: 60 s to 7 days.',
    example: 86_400,
  }),
  offersCloseBefore: withMeta(z.int().check(z.minimum(0), z.maximum(8_760)), {
    description:
      "No offers are made in the last this many hours before the event's date (an offer made earlier lapses by then at the latest); seats freed after that are confirmed at once, as in `instant` mode.",
    example: 24,
  }),
  offerBatch: withMeta(z.int().check(z.minimum(1), z.maximum(100)), {
    description:
      'Offers out at once, at most; further free seats wait (still reserved for the waitlist) until one is taken or passed on.',
    example: 1,
  }),
  shards: withMeta(z.int().check(z.minimum(1), z.maximum(MAX_SHARDS)), {
    description:
      'Counters the seats are spread over, for an event whose registrations come in a rush (1 to 32; more than 1 unless the deployment turns sharding off). Fixed when the event is created: a PUT may repeat it, not change it (409).',
    example: 1,
  }),
};

export const ADMISSION_TOKEN_SECONDS = 120;

const admissionFields = {
  enabled: withMeta(z.boolean(), {
    description:
      'While on, registering needs the Admission-Token the queue gives each user in turn.',
  }),
  ratePerSecond: withMeta(z.int().check(z.minimum(1), z.maximum(10_000)), {
    description:
      'Queue positions admitted each second (1 to 10,000): set it to what the event takes without heavy conflict.',
    example: 200,
  }),
  tokenSeconds: withMeta(z.int().check(z.minimum(30), z.maximum(600)), {
    description: 'How long an admission token is good for, 30 to 600 s.',
    example: ADMISSION_TOKEN_SECONDS,
  }),
};

/** A waiting room's settings, as a request gives them (the whole object, each time). */
const AdmissionInputSchema = withMeta(
  strictBody({
    enabled: admissionFields.enabled,
    ratePerSecond: admissionFields.ratePerSecond,
    tokenSeconds: withMeta(
      z._default(z.optional(admissionFields.tokenSeconds), ADMISSION_TOKEN_SECONDS),
      { description: `Defaults to ${ADMISSION_TOKEN_SECONDS}.` },
    ),
  }),
  {
    id: 'AdmissionSettings',
    description:
      'A waiting room in front of the registrations (`POST /events/{eventId}/queue`): positions are admitted at `ratePerSecond`, each with a token the registration must carry while `enabled`. Switching it off (or on) takes effect within 5 s.',
  },
);

const offerSettings = {
  promotion: withMeta(z.optional(eventFields.promotion), {
    description: `Defaults to \`${OFFER_DEFAULTS.promotion}\`.`,
  }),
  offerWindowSeconds: withMeta(z.optional(eventFields.offerWindowSeconds), {
    description: `Defaults to ${OFFER_DEFAULTS.offerWindowSeconds} (a day).`,
  }),
  offersCloseBefore: withMeta(z.optional(eventFields.offersCloseBefore), {
    description: `Defaults to ${OFFER_DEFAULTS.offersCloseBefore}.`,
  }),
  offerBatch: withMeta(z.optional(eventFields.offerBatch), {
    description: `Defaults to ${OFFER_DEFAULTS.offerBatch}.`,
  }),
};

const sameWaitlistFlag = (body: { hasWaitlist?: boolean; waitlistEnabled?: boolean }) =>
  body.hasWaitlist === undefined ||
  body.waitlistEnabled === undefined ||
  body.hasWaitlist === body.waitlistEnabled;

const waitlistAliasMismatch = {
  message: 'hasWaitlist and waitlistEnabled disagree; send one of them',
  path: ['waitlistEnabled'],
};

export const CreateEventSchema = withMeta(
  strictBody({
    eventId: withMeta(
      z.optional(
        IdSchema.check(
          z.refine(
            (id) => !id.toLowerCase().endsWith('.ics'),
            'must not end in ".ics" (GET /events/{id}.ics is the event\'s calendar)',
          ),
        ),
      ),
      { description: 'Generated (UUIDv7) when absent.', example: 'tech-conf-2024' },
    ),
    ...eventFields,
    status: withMeta(z.optional(eventFields.status), { description: 'Defaults to `active`.' }),
    hasWaitlist: z.optional(eventFields.hasWaitlist),
    waitlistEnabled: z.optional(eventFields.waitlistEnabled),
    ...offerSettings,
    shards: withMeta(z.optional(eventFields.shards), { description: 'Defaults to 1.' }),
    admission: withMeta(z.optional(AdmissionInputSchema), {
      description: 'Absent: no waiting room.',
    }),
  }).check(z.refine(sameWaitlistFlag, waitlistAliasMismatch)),
  { id: 'CreateEvent' },
);

export const UpdateEventSchema = withMeta(
  strictBody({
    title: z.optional(eventFields.title),
    description: z.optional(eventFields.description),
    date: z.optional(eventFields.date),
    location: z.optional(eventFields.location),
    capacity: withMeta(z.optional(eventFields.capacity), {
      description:
        'Below the number of confirmed registrations is a 409; raising it promotes waitlisted users in join order.',
    }),
    organizer: z.optional(eventFields.organizer),
    status: z.optional(eventFields.status),
    hasWaitlist: z.optional(eventFields.hasWaitlist),
    waitlistEnabled: z.optional(eventFields.waitlistEnabled),
    ...offerSettings,
    shards: withMeta(z.optional(eventFields.shards), {
      description: "The event's own value (accepted, changes nothing); any other is a 409.",
    }),
    admission: withMeta(z.optional(AdmissionInputSchema), {
      description:
        'The whole settings again; `enabled: false` switches the queue off (an event keeps its settings once given).',
    }),
  }).check(
    z.refine(sameWaitlistFlag, waitlistAliasMismatch),
    z.refine((body) => Object.values(body).some((value) => value !== undefined), {
      message: 'give at least one field to change',
      path: [],
    }),
  ),
  { id: 'UpdateEvent' },
);

export const EventSchema = withMeta(
  z.object({
    eventId: z.string(),
    title: z.string(),
    description: z.string(),
    date: z.string(),
    location: z.string(),
    capacity: z.int(),
    organizer: z.string(),
    status: EventStatusSchema,
    hasWaitlist: z.boolean(),
    promotion: eventFields.promotion,
    offerWindowSeconds: z.int(),
    offersCloseBefore: z.int(),
    offerBatch: z.int(),
    registeredCount: withMeta(z.int(), { description: 'Confirmed registrations.' }),
    waitlistCount: withMeta(z.int(), { description: 'Waitlisted registrations.' }),
    offeredCount: withMeta(z.int(), {
      description: 'Offers out, each holding a seat: `registeredCount + offeredCount ≤ capacity`.',
    }),
    shards: withMeta(z.int(), {
      description:
        "Counters the seats are spread over (1: one, as every event created without `shards`); a sharded event's counts are sums read from its shards.",
    }),
    admission: withMeta(
      z.optional(
        z.object({
          enabled: z.boolean(),
          ratePerSecond: z.int(),
          tokenSeconds: z.int(),
        }),
      ),
      { description: 'Its waiting room, when it was given one.' },
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
  { id: 'Event' },
);
export type EventResponse = z.infer<typeof EventSchema>;

export const CreateUserSchema = withMeta(
  strictBody({
    userId: withMeta(z.optional(IdSchema), {
      description: 'Generated (UUIDv7) when absent.',
      example: 'user-123',
    }),
    name: withMeta(text(200), { example: 'John Doe' }),
  }),
  { id: 'CreateUser' },
);

export const UserSchema = withMeta(
  z.object({ userId: z.string(), name: z.string(), createdAt: z.string() }),
  { id: 'User' },
);
export type UserResponse = z.infer<typeof UserSchema>;

export const RegistrationStatusSchema = withMeta(z.enum(registrationStatuses), {
  id: 'RegistrationStatus',
  description:
    '`offered`: a seat is held until `offerExpiresAt`; `expired`, `declined`: an offer that ended without a seat (the registration is over; registering again replaces it).',
});

export const RegistrationSchema = withMeta(
  z.object({
    registrationId: z.string(),
    userId: z.string(),
    eventId: z.string(),
    status: RegistrationStatusSchema,
    registeredAt: z.string(),
    waitlistPosition: withMeta(z.optional(z.int().check(z.minimum(1))), {
      description: '1-based place in the waitlist; waitlisted registrations only.',
    }),
    promotedAt: withMeta(z.optional(z.string()), {
      description: 'When a waitlisted registration was confirmed.',
    }),
    offeredAt: withMeta(z.optional(z.string()), { description: 'When a seat was offered.' }),
    offerExpiresAt: withMeta(z.optional(z.string()), {
      description: 'Until when the offer holds its seat (an accept at or after: 410).',
    }),
    offerToken: withMeta(z.optional(z.string()), {
      description:
        'While offered: the capability the attendee accepts or declines with (`POST /offers/{token}/accept`), no API key needed. Send it as a link; treat it as a secret.',
    }),
    declinedAt: withMeta(z.optional(z.string()), { description: 'When the offer was declined.' }),
  }),
  { id: 'Registration' },
);
export type RegistrationResponse = z.infer<typeof RegistrationSchema>;

export const UserRegistrationSchema = withMeta(
  z.extend(RegistrationSchema, { event: EventSchema }),
  { id: 'UserRegistration' },
);
export type UserRegistrationResponse = z.infer<typeof UserRegistrationSchema>;

export const RegisterBodySchema = withMeta(strictBody({ userId: IdSchema, eventId: IdSchema }), {
  id: 'RegisterRequest',
});
export const RegisterForEventBodySchema = withMeta(strictBody({ userId: IdSchema }), {
  id: 'RegisterForEventRequest',
});

export const UnregisterResultSchema = withMeta(
  z.object({
    message: z.string(),
    eventId: z.string(),
    userId: z.string(),
    promoted: withMeta(z.array(RegistrationSchema), {
      description: 'Waitlisted registrations confirmed by this change.',
    }),
    offered: withMeta(z.array(RegistrationSchema), {
      description:
        'Waitlisted registrations offered the freed seat (offer mode), with their tokens.',
    }),
  }),
  { id: 'UnregisterResult' },
);

export const DeleteEventResultSchema = withMeta(
  z.object({ message: z.string(), eventId: z.string(), deletedRegistrations: z.int() }),
  { id: 'DeleteEventResult' },
);

export const EventIdParam = z.object({
  eventId: withMeta(IdSchema, {
    param: { name: 'eventId', in: 'path' },
    example: 'tech-conf-2024',
  }),
});
export const UserIdParam = z.object({
  userId: withMeta(IdSchema, { param: { name: 'userId', in: 'path' }, example: 'user-123' }),
});
export const EventUserParams = z.extend(EventIdParam, UserIdParam.shape);

export const placedBody = ({ registration, position }: PlacedRegistration) =>
  registrationBody(registration, position);

export { eventBody, registrationBody };
