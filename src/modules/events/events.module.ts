import * as z from 'zod/mini';
import { integerSetting } from '../../platform/input.js';
import { defineModule, isStartupRun } from '../../platform/module.js';
import type { DomainEventType } from '../../platform/outbox/outbox.js';
import { PoisonMessageError, type QueueMessage } from '../../platform/queue/queue.js';
import { scheduleSetting } from '../../platform/schedule.js';
import type { OfferTimer } from './events.offers.service.js';
import { eventsTable, offerExpiriesQueue } from './events.resources.js';

export { eventsTable, offerExpiriesQueue };

const settings = z.object({
  /** How often to finish event deletions a crash or a timeout interrupted (`off` to stop). */
  deletionSweep: scheduleSetting('rate(1 hour)'),
  /** How often to give back waitlist tickets interrupted joins never used (`off` to stop). */
  ticketSweep: scheduleSetting('rate(1 hour)'),
  /**
   * How often to lapse offers past their deadline that no timer lapsed (the timers' backstop;
   * `off` to stop).
   */
  offerSweep: scheduleSetting('rate(1 minute)'),
  /**
   * How often to pass on seats left free while people wait (a crash between a change and the
   * offer or promotion that follows it; `off` to stop).
   */
  seatSweep: scheduleSetting('rate(15 minutes)'),
  /** The ticket signing key's version: raise it to rotate (tickets signed before still verify). */
  ticketKeyVersion: integerSetting(1, { min: 1, max: 255 }),
  /** Tickets signed with a key version below this no longer verify (1: none retired). */
  ticketKeysRetiredBelow: integerSetting(1, { min: 1, max: 255 }),
  /**
   * How often to index the tickets of confirmed registrations the previous release wrote (a
   * migration; it also runs at start-up; `off` once it reports nothing left).
   */
  ticketBackfill: scheduleSetting('rate(1 day)'),
  /**
   * How long a sharded event's waitlist ticket block is used, in ms: no join waits behind one that
   * took its ticket more than this later (the bound on the waitlist's departure from join order),
   * and the longer it is, the fewer writes go to the event's one waitlist item.
   */
  ticketBlockMs: integerSetting(1000, { min: 50, max: 600_000 }),
  /**
   * Whether events may be created with `shards` > 1 (docs/decisions/sharded-capacity.md): `off`
   * keeps every new event on one counter (events already sharded keep working).
   */
  sharding: z.pipe(
    z._default(z.optional(z.enum(['on', 'off'])), 'on'),
    z.transform((value) => value === 'on'),
  ),
});

/** The offer a timer's message names, or a poison message. */
function offerTimer(message: QueueMessage): OfferTimer {
  try {
    const { eventId, userId, offerId } = JSON.parse(message.body) as Partial<OfferTimer>;
    if (typeof eventId === 'string' && typeof userId === 'string' && typeof offerId === 'string') {
      return { eventId, userId, offerId };
    }
  } catch {
    // Falls through: not an offer timer's body.
  }
  throw new PoisonMessageError('not an offer timer: expected {eventId, userId, offerId}');
}

/**
 * What the module announces, each with the resource as the API answers it (`aggregate.sequence`
 * is the resource's version after the change). Registrations removed with their event are not
 * announced one by one: `event.deleted` says they went.
 */
const domainEvents: DomainEventType[] = [
  {
    type: 'event.created',
    description: 'An event was created (the event as `GET /events/{eventId}` answers it).',
  },
  {
    type: 'event.updated',
    description:
      'Fields of an event changed, its capacity included (the event right after the change, counters included).',
  },
  {
    type: 'event.cancelled',
    description: "An event's status became `cancelled` (the event right after the change).",
  },
  {
    type: 'event.deleted',
    description:
      'An event was deleted, and its registrations with it (the event as it was when deleted).',
  },
  {
    type: 'registration.confirmed',
    description: 'A registration took a seat (as the registration answer shows it).',
  },
  {
    type: 'registration.waitlisted',
    description: 'A registration joined the waitlist (with the `waitlistPosition` it was told).',
  },
  {
    type: 'registration.promoted',
    description:
      'A waitlisted registration got a seat: one freed by a cancellation, or added by a capacity change (now `confirmed`, with `promotedAt`).',
  },
  {
    type: 'registration.cancelled',
    description:
      'A registration was cancelled, confirmed, waitlisted or offered (as it was, with its status then).',
  },
  {
    type: 'checkin.created',
    description:
      'A scan changed an admission: an `entry` admitted a confirmed registration, or an `exit` let it out (the log entry, with when it was scanned and by which device).',
  },
  {
    type: 'checkin.reverted',
    description: 'An admission was taken back at the door (the audit entry of the revert).',
  },
  {
    type: 'registration.offered',
    description:
      'A waitlisted registration was offered a seat until `offerExpiresAt` (offer mode), with the `offerToken` to send the attendee as a link.',
  },
  {
    type: 'registration.offer_expired',
    description: 'An offer lapsed at its deadline; its seat passed on (now `expired`).',
  },
  {
    type: 'registration.offer_declined',
    description: 'An offer was declined; its seat passed on (now `declined`).',
  },
];

/** Events, users and registrations with capacity, FIFO waitlist and promotion */
export const eventsModule = defineModule({
  name: 'events',
  tables: [eventsTable],
  settings,
  domainEvents,
  // Its code (services, routers, the schemas of its events) loads with `load`: in the API
  // Lambda, on the first request to one of these routes (docs/decisions/lazy-modules.md).
  load: () => import('./events.code.js'),
  routes: [
    // First: its `/events/{eventId}.ics` must be matched before `/events/{eventId}`.
    'GET /events/{eventId}.ics',
    'GET /calendar.ics public',
    'POST /calendar/feed-link',
    'DELETE /calendar/feed-links/{linkId}',
    'POST /events',
    'GET /events',
    'GET /events/{eventId}',
    'PUT /events/{eventId}',
    'DELETE /events/{eventId}',
    'POST /users',
    'GET /users',
    'GET /users/{userId}',
    'GET /users/{userId}/registrations',
    'POST /registrations',
    'POST /events/{eventId}/registrations',
    'POST /events/{eventId}/register',
    'GET /events/{eventId}/registrations',
    'GET /events/{eventId}/registrations.csv csv',
    'DELETE /registrations/{userId}/{eventId}',
    'DELETE /events/{eventId}/registrations/{userId}',
    'DELETE /events/{eventId}/register/{userId}',
    'POST /events/{eventId}/queue',
    'GET /events/{eventId}/queue/{userId}',
    'GET /offers/{token} public',
    'POST /offers/{token}/accept public',
    'POST /offers/{token}/decline public',
    'POST /events/{eventId}/registrations/{userId}/offer/accept',
    'POST /events/{eventId}/registrations/{userId}/offer/decline',
    'GET /events/{eventId}/registrations/{userId}/ticket',
    'POST /events/{eventId}/checkins',
    'GET /events/{eventId}/checkins',
    'GET /events/{eventId}/checkins/stats',
    'DELETE /events/{eventId}/checkins/{registrationId}',
    'GET /events/{eventId}/tickets/manifest',
    'GET /events/{eventId}/tickets/revocations',
    'GET /events/{eventId}/stats',
  ],
  tags: [
    {
      name: 'events',
      description: 'Events, users and registrations with capacity, FIFO waitlist and promotion',
    },
  ],
  tasks: [
    {
      name: 'finish-deletions',
      description: 'Completes event deletions that a crash or a timeout interrupted.',
      startup: true,
      schedule: (s) => s.deletionSweep,
      run: ({ events }) => events.finishDeletions(),
    },
    {
      name: 'release-unused-tickets',
      description:
        'Gives back waitlist tickets that joins interrupted by a crash took and never used.',
      // At local start-up nothing is in flight yet; run any other way (on its schedule, here or
      // on AWS), it leaves alone events that issued a ticket in the last five minutes.
      startup: true,
      schedule: (s) => s.ticketSweep,
      run: ({ registrations }, input) =>
        registrations.releaseUnusedTickets({
          all: isStartupRun(input),
        }),
    },
    {
      name: 'expire-offers',
      description: 'Lapses an offer when its timer fires, passing its seat on.',
      queue: offerExpiriesQueue,
      run: ({ offers }, input) => offers.lapse(offerTimer(input as QueueMessage)),
    },
    {
      name: 'sweep-offers',
      description:
        'Lapses offers past their deadline that no timer lapsed; at local start-up, sets the timers of the offers still out again.',
      startup: true,
      schedule: (s) => s.offerSweep,
      run: ({ offers }, input) => offers.sweep({ rearm: isStartupRun(input) }),
    },
    {
      name: 'backfill-ticket-index',
      description:
        'Indexes the tickets of confirmed registrations the previous release wrote, so door devices sync them.',
      startup: true,
      schedule: (s) => s.ticketBackfill,
      run: ({ checkins, allEvents }) => checkins.backfillTicketIndex(allEvents()),
    },
    {
      name: 'fill-free-seats',
      description:
        'Passes on seats left free while people wait, which a crash between a change and the offer or promotion after it left.',
      startup: true,
      schedule: (s) => s.seatSweep,
      run: ({ offers, allEvents }) => offers.fillStrandedSeats(allEvents()),
    },
  ],
});
