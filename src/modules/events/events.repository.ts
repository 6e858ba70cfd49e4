import type { Page, PageRequest } from '../../platform/page.js';
import type {
  Event,
  EventChanges,
  EventStatus,
  Registration,
  RequestKey,
  User,
  Waitlist,
} from './events.model.js';

/** The outcome of a conditional write that found something else than expected. */
export type Written<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

export type Created<T> =
  | { readonly created: true }
  /** The key was taken: by `existing` (with the request key that created it), or by a tombstone. */
  | {
      readonly created: false;
      readonly existing: T | undefined;
      readonly requestKey: RequestKey;
      readonly beingDeleted: boolean;
    };

export interface NewRegistration {
  readonly eventId: string;
  readonly userId: string;
  /** Time-ordered (UUIDv7). */
  readonly registrationId: string;
  readonly registeredAt: string;
  readonly requestKey: RequestKey;
}

export type RegistrationCommit =
  | { readonly ok: true; readonly registration: Registration }
  | {
      readonly ok: false;
      /**
       * The event as it is now, when its condition failed (undefined: gone or being deleted);
       * `unchanged` when the event's condition held.
       */
      readonly event: Event | undefined | 'unchanged';
      readonly userMissing: boolean;
      /** The user's existing registration for this event, and the request key that made it. */
      readonly existing: { registration: Registration; requestKey: RequestKey } | undefined;
      /** Waitlist only: the frontier passed the ticket before it could commit. */
      readonly ticketPassed: boolean;
    };

/** What can refuse a registration besides the event's counters, read together. */
export interface RegistrationFacts {
  /** Undefined when absent or being deleted. */
  readonly event: Event | undefined;
  readonly userExists: boolean;
  /** The user's existing registration for this event, and the request key that made it. */
  readonly existing: { registration: Registration; requestKey: RequestKey } | undefined;
}

/** The waitlist bookkeeping `folded` from `seen`, written if the stored one is still `seen`. */
export interface WaitlistFold {
  readonly seen: Waitlist;
  readonly folded: Waitlist;
}

export type UnregisterPlan = (
  | { readonly kind: 'leave-waitlist'; readonly registration: Registration }
  | { readonly kind: 'free-seat'; readonly registration: Registration }
  | {
      readonly kind: 'pass-seat';
      readonly registration: Registration;
      readonly head: Registration;
      /** The frontier once the head is promoted, and holes it passed. */
      readonly frontier: number;
      readonly passedHoles: readonly number[];
    }
) & {
  /**
   * Leaving the waitlist or passing the seat: write the bookkeeping folded in the same
   * transaction, which then also requires it unchanged since `seen`. Without it the ticket that
   * left is recorded as a hole (no condition on the bookkeeping) and the frontier only moves up.
   */
  readonly fold?: WaitlistFold | undefined;
};

/**
 * The events port: reads, and commits guarded by the conditions that keep the registration rules
 * (SPEC, events 1–6) whatever runs concurrently. A commit whose condition failed changes nothing
 * and says what failed, with the current state where it helps the caller decide again; the
 * decisions themselves are made by the service with events.rules.ts.
 */
export interface EventRepository {
  createEvent(event: Event, requestKey: RequestKey): Promise<Created<Event>>;
  /** The event, or undefined when absent or being deleted. */
  getEvent(eventId: string): Promise<Event | undefined>;
  listEvents(filter: { status?: EventStatus | undefined }, page: PageRequest): Promise<Page<Event>>;
  /** Every event, a page at a time (for the sweeps; the API pages with listEvents). */
  allEvents(): AsyncIterable<Event[]>;
  /**
   * Applies `changes` unless the event is gone or (when capacity changes) the new capacity is
   * below its confirmed count; returns the event as committed.
   */
  changeEvent(
    eventId: string,
    changes: EventChanges,
    now: string,
  ): Promise<Written<Event> & { current?: Event | undefined }>;
  /**
   * Applies `changes` and promotes `heads` in one transaction, provided the counters and
   * capacity are still those of `current`.
   */
  changeEventAndPromote(
    current: Event,
    changes: EventChanges,
    heads: readonly Registration[],
    now: string,
  ): Promise<Written<Event>>;
  /**
   * Marks the event as being deleted (it disappears from reads and refuses every write) and
   * returns true; false when it is absent. A marked event stays marked until `finishDeletion`.
   */
  markDeleted(eventId: string, now: string): Promise<'marked' | 'absent' | 'already-marked'>;
  /** Removes a marked event's registrations, then the event; returns how many registrations. */
  finishDeletion(eventId: string): Promise<number>;
  /** Events marked for deletion whose removal has not finished (left by a crash). */
  eventsBeingDeleted(): AsyncIterable<string>;

  createUser(user: User, requestKey: RequestKey): Promise<Created<User>>;
  getUser(userId: string): Promise<User | undefined>;
  listUsers(page: PageRequest): Promise<Page<User>>;

  getRegistration(
    eventId: string,
    userId: string,
  ): Promise<{ registration: Registration; requestKey: RequestKey } | undefined>;
  /** The event, the user and the user's registration for it, in one strongly consistent read. */
  registrationFacts(eventId: string, userId: string): Promise<RegistrationFacts>;
  /** A confirmed registration, if a seat is free, nobody waits and the event is open. */
  confirm(registration: NewRegistration): Promise<RegistrationCommit>;
  /**
   * Takes the next waitlist ticket of an event, returning it with the event as it was right after
   * (undefined when the event is absent or being deleted).
   */
  takeTicket(eventId: string, now: string): Promise<{ ticket: number; event: Event } | undefined>;
  /** A waitlisted registration under `ticket`, if the event is open, full or has people waiting. */
  waitlist(registration: NewRegistration, ticket: number): Promise<RegistrationCommit>;
  /** Records that a ticket will never be used (a join that failed after taking it): a hole. */
  releaseTicket(eventId: string, ticket: number): Promise<void>;
  /**
   * Writes the bookkeeping `folded` from `seen` (see `compactWaitlist`), provided the event's
   * frontier and runs are still those of `seen`; otherwise answers the event as it is now.
   */
  foldWaitlist(
    eventId: string,
    seen: Waitlist,
    folded: Waitlist,
  ): Promise<{ ok: true } | { ok: false; current: Event | undefined }>;
  /**
   * Records that tickets were never used (their joins died between taking and using them), if
   * the event has issued no ticket since `issued` and, with `issuedBefore`, none since then
   * either; false when it has (a join may be in flight: leave it for a later sweep).
   */
  releaseUnusedTickets(
    eventId: string,
    tickets: readonly number[],
    issued: number,
    issuedBefore: string | undefined,
  ): Promise<boolean>;
  /** The first `count` waiting registrations, lowest ticket first (strongly consistent). */
  waitlistHeads(eventId: string, count: number): Promise<Registration[]>;
  /** The tickets of everyone waiting, the whole waitlist (a consistent read, every page). */
  waitingTickets(eventId: string): Promise<number[]>;
  /**
   * Promotes `heads` into free seats, provided the counters and capacity are still those of
   * `current`.
   */
  promote(current: Event, heads: readonly Registration[], now: string): Promise<boolean>;
  /** Removes a registration as planned; false when the data changed (read and plan again). */
  unregister(plan: UnregisterPlan, now: string): Promise<boolean>;
  /** An event's registrations: confirmed by registration id, then waitlisted by ticket. */
  listEventRegistrations(eventId: string, page: PageRequest): Promise<Page<Registration>>;
  /** A user's registrations, newest first, each with its event (left out when it is gone). */
  listUserRegistrations(
    userId: string,
    page: PageRequest,
  ): Promise<Page<{ registration: Registration; event: Event }>>;
}
