/**
 * The events domain as the service and the rules see it: plain types, no HTTP, no DynamoDB.
 * What a response shows (a waitlist position, the joined event) is shaped by the routes.
 */

import type { RequestKey } from '../../platform/request-key.js';

export const eventStatuses = ['active', 'scheduled', 'ongoing', 'completed', 'cancelled'] as const;
export type EventStatus = (typeof eventStatuses)[number];

/** Statuses that accept registrations (rule 6: completed and cancelled events don't). */
export const openStatuses: readonly EventStatus[] = ['active', 'scheduled', 'ongoing'];

/** A calendar feed link's id: 12 random bytes, base64url (what revokes the link). */
export const FEED_LINK_ID = /^[A-Za-z0-9_-]{16}$/;

/** The orders events list in: by creation time. */
export const eventOrders = ['oldest', 'newest'] as const;

/** Which events a list holds, and in which order. */
export interface EventListFilter {
  readonly status?: EventStatus | undefined;
  readonly order?: (typeof eventOrders)[number] | undefined;
}

/** Consecutive tickets that have all left the waitlist: `[first, last]`, first ≤ last. */
export type TicketRun = readonly [first: number, last: number];

/**
 * Waitlist bookkeeping, kept on the event. Joining the waitlist takes a ticket (1, 2, 3, … per
 * event, issued atomically by DynamoDB, never shared): the waitlist is ordered by ticket and that
 * order is the promotion order. Every ticket at or below `frontier` has left the waitlist
 * (promotions take the lowest tickets), and the tickets above it that left too (a waitlisted
 * user who unregistered, a join that failed after taking its ticket) are recorded as `holes`, one
 * by one as each leaves, then folded into `runs`. So a ticket's place is
 * `ticket − frontier − (tickets between that left)`: see `waitlistPosition` in
 * events.waitlist.rules.ts.
 */
export interface Waitlist {
  /** Tickets issued so far (the last ticket). */
  readonly issued: number;
  readonly frontier: number;
  /** Tickets that left, one each, not folded into `runs` yet. */
  readonly holes: readonly number[];
  /**
   * Tickets that left, as runs (sorted, apart): what `compactWaitlist` folds `holes` into, so
   * that the bookkeeping grows with the tickets still held, not with every ticket that ever left.
   */
  readonly runs?: readonly TicketRun[] | undefined;
}

/**
 * How a freed or added seat reaches the waitlist: `instant` confirms the head at once; `offer`
 * holds the seat for the head as an offer until a deadline (docs/decisions/waitlist-offers.md).
 */
export const promotionModes = ['instant', 'offer'] as const;
export type PromotionMode = (typeof promotionModes)[number];

/** The offer settings an event has when created without them (and an event of a release before). */
export const OFFER_DEFAULTS = {
  promotion: 'instant',
  offerWindowSeconds: 86_400,
  offersCloseBefore: 0,
  offerBatch: 1,
} as const satisfies Pick<
  Event,
  'promotion' | 'offerWindowSeconds' | 'offersCloseBefore' | 'offerBatch'
>;

export interface Event {
  readonly eventId: string;
  readonly title: string;
  readonly description: string;
  /** YYYY-MM-DD or an ISO 8601 date-time. */
  readonly date: string;
  readonly location: string;
  readonly capacity: number;
  readonly organizer: string;
  readonly status: EventStatus;
  readonly hasWaitlist: boolean;
  readonly promotion: PromotionMode;
  /** How long an offer holds its seat (offer mode). */
  readonly offerWindowSeconds: number;
  /** No offers are made in the last this many hours before `date`: seats are then promoted at once. */
  readonly offersCloseBefore: number;
  /** Offers out at once, at most (offer mode). */
  readonly offerBatch: number;
  /** Confirmed registrations. */
  readonly registeredCount: number;
  /** Waitlisted registrations. */
  readonly waitlistCount: number;
  /** Offers out: each holds a seat, so `registeredCount + offeredCount ≤ capacity`. */
  readonly offeredCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly waitlist: Waitlist;
  /**
   * 1 when created, one more with each change of its own fields (an update, the deletion): the
   * `sequence` of the domain event that announces the change. Registrations move the counters
   * without moving it — they are announced as changes of the registrations.
   */
  readonly version: number;
  /**
   * Shard counters its seats are kept on (docs/decisions/sharded-capacity.md), fixed when it is
   * created; absent: 1, an event as every release before stored it.
   */
  readonly shards?: number | undefined;
  /** Its waiting room, if it was ever given one (docs/decisions/sharded-capacity.md). */
  readonly admission?: Admission | undefined;
}

/**
 * An event's waiting room as clients set it: while `enabled`, registering needs an admission
 * token, handed out to the queue's positions in order at `ratePerSecond`, each good for
 * `tokenSeconds`.
 */
export interface AdmissionSettings {
  readonly enabled: boolean;
  readonly ratePerSecond: number;
  readonly tokenSeconds: number;
}

/**
 * The settings with the anchor of the admission rate: positions up to `anchorAdmitted` were
 * admitted at `anchorAt` (ms since the epoch), and `ratePerSecond` more each second since, while
 * enabled. Set again at each change of the settings, so that a new rate starts from where the
 * old one had got to.
 */
export interface Admission extends AdmissionSettings {
  readonly anchorAt: number;
  readonly anchorAdmitted: number;
}

/** An update as a client asks for it: the waiting room's settings without their anchor. */
export type EventUpdate = Omit<EventChanges, 'admission'> & {
  readonly admission?: AdmissionSettings | undefined;
};

/** Shards an event may have: a shard's number fits the 5 low bits of a registration id. */
export const MAX_SHARDS = 32;

/**
 * A shard counter as the rules see it. Per shard, always `slice = registeredCount + freeSeats`
 * and `freeSeats ≥ 0`; `freeSeats` is stored because a condition can compare an attribute with a
 * value but cannot add two.
 */
export interface ShardCounter {
  /** 0 to N − 1. */
  readonly shard: number;
  /** The seats this shard owns: the slices of an event's shards sum to its capacity. */
  readonly slice: number;
  /** Seats taken: confirmed and held by offers (as the event item stores it today). */
  readonly registeredCount: number;
  readonly freeSeats: number;
  /** Offers out on this shard (each holds one of its taken seats). */
  readonly offeredCount: number;
  readonly waitlistCount: number;
  /** The sold-out latch: the same on every shard, but for a read made across its flip. */
  readonly soldOut: boolean;
  readonly updatedAt: string;
}

/** Seats moved from one shard to another: both slices and free seats, in one transaction. */
export interface SeatMove {
  readonly from: number;
  readonly to: number;
  readonly seats: number;
}

/** A shard's block item (`blockNext`, `blockEnd`, `blockAt`, `blockSize`). */
export interface TicketBlock {
  /** The next ticket to hand out; past `end` when the block is spent. */
  readonly next: number;
  /** The block's last ticket. */
  readonly end: number;
  /** When it was allocated, in ms since the epoch (the condition compares it with now − 1 s). */
  readonly at: number;
  /** Tickets it was allocated with: its first is `end − size + 1`. */
  readonly size: number;
}

/** A sharded event as a process sees it: summed from its items, with the shards it summed. */
export interface ShardedView {
  readonly event: Event;
  /** The latch as read: on if any shard showed it on. */
  readonly soldOut: boolean;
  readonly shards: readonly ShardCounter[];
}

/** What a client gives to create an event; the rest starts empty. */
export type NewEvent = Pick<
  Event,
  'title' | 'description' | 'date' | 'location' | 'capacity' | 'organizer'
> &
  Partial<
    Pick<
      Event,
      | 'eventId'
      | 'status'
      | 'hasWaitlist'
      | 'promotion'
      | 'offerWindowSeconds'
      | 'offersCloseBefore'
      | 'offerBatch'
      | 'shards'
    >
  > & { readonly admission?: AdmissionSettings | undefined };

export type EventChanges = Partial<
  Pick<
    Event,
    | 'title'
    | 'description'
    | 'date'
    | 'location'
    | 'capacity'
    | 'organizer'
    | 'status'
    | 'hasWaitlist'
    | 'promotion'
    | 'offerWindowSeconds'
    | 'offersCloseBefore'
    | 'offerBatch'
    | 'admission'
  >
>;

export interface User {
  readonly userId: string;
  readonly name: string;
  readonly createdAt: string;
}

/**
 * `offered`: holds a seat until `offerExpiresAt`; `expired` and `declined` are offers that ended
 * without a seat — the registration is over, and stays listed as such until the user registers
 * again (which replaces it).
 */
export const registrationStatuses = [
  'confirmed',
  'waitlisted',
  'offered',
  'expired',
  'declined',
] as const;
export type RegistrationStatus = (typeof registrationStatuses)[number];

/** Statuses of a registration that is over: it holds nothing and does not stop a new one. */
export const endedStatuses: readonly RegistrationStatus[] = ['expired', 'declined'];

export interface Registration {
  readonly registrationId: string;
  readonly userId: string;
  readonly eventId: string;
  readonly status: RegistrationStatus;
  readonly registeredAt: string;
  /** When a waitlisted registration was confirmed. */
  readonly promotedAt?: string | undefined;
  /** Its waitlist ticket, while waitlisted (and kept while offered: its place in the list). */
  readonly ticket?: number | undefined;
  /** The offer, since one was made: its id (what its token signs), when, and its deadline. */
  readonly offerId?: string | undefined;
  readonly offeredAt?: string | undefined;
  readonly offerExpiresAt?: string | undefined;
  /** When the offer was declined. */
  readonly declinedAt?: string | undefined;
  /** The offer's capability token, while offered (derived from `offerId`, never stored). */
  readonly offerToken?: string | undefined;
  /** 1 when registered, one more when promoted (and when cancelled): its domain events' sequence. */
  readonly version: number;
}

/** A registration with its place in the waitlist (waitlisted only) and, if asked, its event. */
export interface PlacedRegistration {
  readonly registration: Registration;
  readonly position: number | undefined;
}

/** The outcome of a conditional write that found something else than expected. */
export type Written<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

/** A create: done, or its key was taken. */
export type Created<T> =
  | { readonly created: true }
  /** The key was taken: by `existing` (with the request key that created it), or by a tombstone. */
  | {
      readonly created: false;
      readonly existing: T | undefined;
      readonly requestKey: RequestKey;
      readonly beingDeleted: boolean;
    };

export type { RequestKey };

/** The event as clients see it (the waitlist bookkeeping and the version stay inside). */
export function eventBody(event: Event): Omit<
  Event,
  'waitlist' | 'version' | 'shards' | 'admission'
> & {
  shards: number;
  admission?: AdmissionSettings;
} {
  const { waitlist: _, version: __, admission, ...body } = event;
  return {
    ...body,
    shards: event.shards ?? 1,
    // The settings only: the anchor is the queue's bookkeeping.
    ...(admission
      ? {
          admission: {
            enabled: admission.enabled,
            ratePerSecond: admission.ratePerSecond,
            tokenSeconds: admission.tokenSeconds,
          },
        }
      : {}),
  };
}

/** A registration as clients see it, with its waitlist position when it waits. */
export function registrationBody(
  registration: Registration,
  position?: number,
): Omit<Registration, 'ticket' | 'version' | 'offerId'> & { waitlistPosition?: number } {
  const { ticket: _, version: __, offerId: ___, ...body } = registration;
  return position === undefined ? body : { ...body, waitlistPosition: position };
}

/** What a check-in scan answers (`exited`, `not_inside`: an exit scan). */
export const checkinResults = [
  'admitted',
  'already_admitted',
  'revoked',
  'unknown',
  'wrong_event',
  'exited',
  'not_inside',
] as const;
export type CheckinResult = (typeof checkinResults)[number];

export type CheckinType = 'entry' | 'exit';
