/**
 * The events domain as the service and the rules see it: plain types, no HTTP, no DynamoDB.
 * What a response shows (a waitlist position, the joined event) is shaped by the routes.
 */

import type { RequestKey } from '../../platform/request-key.js';

export const eventStatuses = ['active', 'scheduled', 'ongoing', 'completed', 'cancelled'] as const;
export type EventStatus = (typeof eventStatuses)[number];

/** Statuses that accept registrations (rule 6: completed and cancelled events don't). */
export const openStatuses: readonly EventStatus[] = ['active', 'scheduled', 'ongoing'];

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
  /** Confirmed registrations. */
  readonly registeredCount: number;
  /** Waitlisted registrations. */
  readonly waitlistCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly waitlist: Waitlist;
  /**
   * 1 when created, one more with each change of its own fields (an update, the deletion): the
   * `sequence` of the domain event that announces the change. Registrations move the counters
   * without moving it — they are announced as changes of the registrations.
   */
  readonly version: number;
}

/** What a client gives to create an event; the rest starts empty. */
export type NewEvent = Pick<
  Event,
  'title' | 'description' | 'date' | 'location' | 'capacity' | 'organizer'
> &
  Partial<Pick<Event, 'eventId' | 'status' | 'hasWaitlist'>>;

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
  >
>;

export interface User {
  readonly userId: string;
  readonly name: string;
  readonly createdAt: string;
}

export type RegistrationStatus = 'confirmed' | 'waitlisted';

export interface Registration {
  readonly registrationId: string;
  readonly userId: string;
  readonly eventId: string;
  readonly status: RegistrationStatus;
  readonly registeredAt: string;
  /** When a waitlisted registration was confirmed. */
  readonly promotedAt?: string | undefined;
  /** Its waitlist ticket, while waitlisted. */
  readonly ticket?: number | undefined;
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
export function eventBody(event: Event): Omit<Event, 'waitlist' | 'version'> {
  const { waitlist: _, version: __, ...body } = event;
  return body;
}

/** A registration as clients see it, with its waitlist position when it waits. */
export function registrationBody(
  registration: Registration,
  position?: number,
): Omit<Registration, 'ticket' | 'version'> & { waitlistPosition?: number } {
  const { ticket: _, version: __, ...body } = registration;
  return position === undefined ? body : { ...body, waitlistPosition: position };
}
