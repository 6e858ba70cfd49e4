import type { DomainEvent } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type {
  Event,
  Registration,
  RequestKey,
  SeatMove,
  ShardCounter,
  ShardedView,
  TicketBlock,
  Waitlist,
} from './events.model.js';

/** What a reader of a whole event needs to know of it: where its rows are. */
export type EventShards = Pick<Event, 'eventId' | 'shards'>;

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

/** A registration as read, with the request key that made it and, when sharded, its shard. */
export interface FoundRegistration {
  readonly registration: Registration;
  readonly requestKey: RequestKey;
  /** The shard whose partition holds its row (a sharded event's registration only). */
  readonly shard?: number | undefined;
}

/** Where a sharded registration goes: its shard, and the event's incarnation for its guard. */
export interface ShardTarget {
  readonly shard: number;
  readonly eventCreatedAt: string;
}

export type ShardCommit =
  | { readonly ok: true; readonly registration: Registration }
  | {
      readonly ok: false;
      /**
       * The shard's counter as it is, when its condition failed (`gone`: absent or marked for
       * deletion); `unchanged` when it held.
       */
      readonly counter: ShardCounter | 'gone' | 'unchanged';
      readonly userMissing: boolean;
      /**
       * The user's registration for this event, in whichever shard (found through the guard),
       * and the request key that made it; undefined when none, or gone by the time it was read.
       */
      readonly existing: { registration: Registration; requestKey: RequestKey } | undefined;
      /**
       * The shard of the user's ended registration (an offer that lapsed or was declined), when
       * it refused a row in another: they register again there, replacing the ended row.
       */
      readonly pinned?: number | undefined;
    };

export type Rebalanced =
  | { readonly ok: true }
  | { readonly ok: false; readonly counters: readonly ShardCounter[]; readonly gone: boolean };

/** A registration with its user's name, as an export lists it. */
export interface RegistrationWithName {
  readonly registration: Registration;
  readonly userName: string | undefined;
}

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
  | { readonly kind: 'end-offer'; readonly registration: Registration }
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
  /**
   * A sharded event's registration: the shard its row is in (whose counter gets the seat back,
   * loses a waiting person, or gives its slice to the head's shard).
   */
  readonly shard?: number | undefined;
  /**
   * A sharded `free-seat`: the sold-out latch as read, which the shard's condition requires
   * unchanged — off: nobody waits, the seat is simply free; on: the seat is free and passed on
   * (or the latch cleared) by the commits that follow.
   */
  readonly soldOut?: boolean | undefined;
};

/** Heads promoted into a sharded event's free seats, with the bookkeeping after them. */
export interface ShardPromotion {
  /** The event as read: its shards' free seats are where the seats come from. */
  readonly view: ShardedView;
  readonly heads: readonly Registration[];
  /** The frontier once the heads are promoted, and holes it passed. */
  readonly frontier: number;
  readonly passedHoles: readonly number[];
}

/**
 * The registrations port, with the waitlist's tickets, frontier and holes: commits guarded by the
 * conditions that keep the registration rules whatever runs concurrently (see EventRepository).
 * What a commit announces (domain events) it takes as arguments and commits in its transaction.
 */
export interface RegistrationRepository {
  /**
   * The user's live registration for the event (strongly consistent): its row, or a sharded
   * event's row found through the user's guard.
   */
  getRegistration(eventId: string, userId: string): Promise<FoundRegistration | undefined>;
  /**
   * The event (its item: a sharded event's counters are not on it), the user and the user's
   * registration for it (a sharded event's through the guard), strongly consistent.
   */
  registrationFacts(eventId: string, userId: string): Promise<RegistrationFacts>;
  /**
   * The facts for a sharded `event` as just read (its settings): the user, and the user's
   * registration for it through the guard — one partition, the user's, so that refusals in a
   * rush don't all read the event's.
   */
  shardedRegistrationFacts(event: Event, userId: string): Promise<RegistrationFacts>;
  /** A confirmed registration (version 1), if a seat is free, nobody waits and the event is open. */
  confirm(registration: NewRegistration, announced: DomainEvent): Promise<RegistrationCommit>;
  /**
   * A sharded event's counters, strongly consistent, in one batch read; undefined when one is
   * absent or marked for deletion.
   */
  shardCounters(eventId: string, shards: number): Promise<ShardCounter[] | undefined>;
  /**
   * A confirmed registration (version 1) on a sharded event, its row in `target.shard`: if that
   * shard is open with a seat free and the latch off, and the user holds no registration for the
   * event in any shard (the guard). `registration.registrationId` carries the shard.
   */
  confirmInShard(
    registration: NewRegistration,
    target: ShardTarget,
    announced: DomainEvent,
  ): Promise<ShardCommit>;
  /**
   * Moves `move.seats` free seats, with their slice, between two shards of a live event, if the
   * source still has them free; otherwise answers the counters whose condition failed, as they
   * are (`gone`: one was absent or marked for deletion).
   */
  rebalance(eventId: string, move: SeatMove): Promise<Rebalanced>;
  /**
   * The next ticket for a join in `shard` of a sharded event, from the shard's block (a new block
   * from the waitlist item when it is spent or a second old; a replaced block's untaken tail given
   * back as holes); undefined when the event is gone.
   */
  takeShardTicket(eventId: string, shard: number, now: Date): Promise<number | undefined>;
  /** A sharded event's waitlist bookkeeping (the waitlist item); undefined when absent. */
  shardWaitlist(eventId: string): Promise<Waitlist | undefined>;
  /** Every shard's block (undefined: none yet), in shard order. */
  ticketBlocks(eventId: string, shards: number): Promise<(TicketBlock | undefined)[]>;
  /**
   * A waitlisted registration (version 1) on a sharded event under `ticket`, its row in
   * `target.shard`: if that shard is open, takes a waitlist and shows the latch on, and the user
   * holds no registration for the event in any shard (the guard).
   */
  joinInShard(
    registration: NewRegistration,
    ticket: number,
    target: ShardTarget,
    announced: DomainEvent,
  ): Promise<ShardCommit>;
  /**
   * The one-second lease on flipping a sharded event's latch (`latchLeaseAt` on the waitlist
   * item): true when this caller holds it now, `at` its time.
   */
  takeLatchLease(eventId: string, at: Date): Promise<boolean>;
  /** Gives the lease taken at `at` back (if it is still that one). */
  releaseLatchLease(eventId: string, at: Date): Promise<void>;
  /**
   * Sets the sold-out latch on every shard (`on`: each dry with the latch off) or clears it
   * (each with the latch on and nobody waiting): one transaction; false when a condition failed.
   */
  flipLatch(eventId: string, shards: number, on: boolean, now: string): Promise<boolean>;
  /**
   * Promotes `promotion.heads` (the lowest waiting tickets over every shard) into free seats of a
   * sharded event, with their announcements: the seats come from the shards with free seats, the
   * slices move to the heads' shards, one update per shard touched. False when the data changed.
   */
  promoteInShards(
    promotion: ShardPromotion,
    now: string,
    promoted: readonly DomainEvent[],
  ): Promise<boolean>;
  /**
   * Records unused tickets of a sharded event as holes, if no ticket was issued since `issued`
   * (nor, with `issuedBefore`, lately) and every block is still as read (`blocks`).
   */
  releaseUnusedShardTickets(
    eventId: string,
    tickets: readonly number[],
    issued: number,
    issuedBefore: string | undefined,
    blocks: readonly (TicketBlock | undefined)[],
  ): Promise<boolean>;
  /**
   * Takes the next waitlist ticket of an event, returning it with the event as it was right after
   * (undefined when the event is absent or being deleted).
   */
  takeTicket(eventId: string, now: string): Promise<{ ticket: number; event: Event } | undefined>;
  /** A waitlisted registration under `ticket`, if the event is open, full or has people waiting. */
  waitlist(
    registration: NewRegistration,
    ticket: number,
    announced: DomainEvent,
  ): Promise<RegistrationCommit>;
  /** Records that a ticket will never be used (a join that failed after taking it): a hole. */
  releaseTicket(event: EventShards, ticket: number): Promise<void>;
  /**
   * Writes the bookkeeping `folded` from `seen` (see `compactWaitlist`), provided the event's
   * frontier and runs are still those of `seen`; otherwise answers the event as it is now.
   */
  foldWaitlist(
    event: EventShards,
    seen: Waitlist,
    folded: Waitlist,
  ): Promise<{ ok: true } | { ok: false; current: Waitlist | undefined }>;
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
  waitlistHeads(event: EventShards, count: number): Promise<Registration[]>;
  /** The tickets of everyone waiting, the whole waitlist (a consistent read, every page). */
  waitingTickets(event: EventShards): Promise<number[]>;
  /**
   * Promotes `heads` into free seats with their `promoted` announcements, provided the counters
   * and capacity are still those of `current` and each head still waits as read.
   */
  promote(
    current: Event,
    heads: readonly Registration[],
    now: string,
    promoted: readonly DomainEvent[],
  ): Promise<boolean>;
  /**
   * Removes a registration as planned, with `announced` (its cancellation, and the promotion of
   * the head that takes its seat); false when the data changed (read and plan again).
   */
  unregister(
    plan: UnregisterPlan,
    now: string,
    announced: readonly DomainEvent[],
  ): Promise<boolean>;
  /**
   * An event's registrations: confirmed by registration id, then waitlisted by ticket (a sharded
   * event's shards merged; the event as read says which).
   */
  listEventRegistrations(event: EventShards, page: PageRequest): Promise<Page<Registration>>;
  /**
   * Every registration of an event in the list's order, `pageSize` at a time, each with its
   * user's name (undefined if the user is gone): one query (one per shard) and one batch read per
   * page, each page read only when the previous one has been taken.
   */
  eventRegistrationPages(
    event: EventShards,
    pageSize: number,
  ): AsyncIterable<RegistrationWithName[]>;
  /** A user's registrations, newest first, each with its event (left out when it is gone). */
  listUserRegistrations(
    userId: string,
    page: PageRequest,
  ): Promise<Page<{ registration: Registration; event: Event }>>;
}
