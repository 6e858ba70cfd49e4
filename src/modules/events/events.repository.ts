import type { DomainEvent } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type {
  Created,
  Event,
  EventChanges,
  EventListFilter,
  Registration,
  RequestKey,
  ShardedView,
  Written,
} from './events.model.js';

/**
 * The events port: reads, and commits guarded by the conditions that keep the registration rules
 * (docs/spec.md#registration-rules) whatever runs concurrently. A commit whose condition failed changes nothing
 * and says what failed, with the current state where it helps the caller decide again; the
 * decisions themselves are made by the services with events.rules.ts. This port holds the
 * events themselves; users and registrations (with the waitlist) have theirs beside it.
 *
 * A change announced as a domain event takes it as an argument and commits it in its own
 * transaction: the event exists exactly when the change was committed.
 */
export interface EventRepository {
  /** Creates `event` (version 1) with `created`, unless its id is taken. */
  createEvent(event: Event, requestKey: RequestKey, created: DomainEvent): Promise<Created<Event>>;
  /**
   * The event, or undefined when absent or being deleted. A sharded event is summed from its
   * shards (each exact when read; together not a snapshot).
   */
  getEvent(eventId: string): Promise<Event | undefined>;
  /** The event with the shard counters it was summed from (none for an unsharded event). */
  shardedView(eventId: string): Promise<ShardedView | undefined>;
  /** Events by creation time (oldest first unless `order` is newest), of one status if given. */
  listEvents(filter: EventListFilter, page: PageRequest): Promise<Page<Event>>;
  /** Every event, a page at a time (for the sweeps; the API pages with listEvents). */
  allEvents(): AsyncIterable<Event[]>;
  /** Every event, newest created first, `pageSize` at a time (the calendar feed reads a few). */
  newestEvents(pageSize: number): AsyncIterable<Event[]>;
  /**
   * Applies `changes` (moving the version one on) with `announced`, provided the event is still
   * `current` — its version, counters and capacity; returns the event as committed, or the event
   * as it is now (undefined: gone) to decide again on.
   */
  changeEvent(
    current: Event,
    changes: EventChanges,
    now: string,
    announced: DomainEvent,
  ): Promise<Written<Event> & { current?: Event | undefined }>;
  /**
   * Applies `changes` to a sharded event (moving its version one on) with `announced`, and to
   * every shard: the mirrors of its settings, and `deltas[i]` seats added to shard i's slice and
   * free seats (in `view.shards`' order) — provided the event's version and capacity are still
   * those of `view` and every shard that loses seats still has them free. Returns the event as
   * committed; a failure says only that something changed (read again).
   */
  changeShardedEvent(
    view: ShardedView,
    changes: EventChanges,
    deltas: readonly number[],
    now: string,
    announced: DomainEvent,
  ): Promise<Written<Event>>;
  /**
   * Applies `changes` and promotes `heads` in one transaction with what they announce, provided
   * the counters, capacity and version are still those of `current`.
   */
  changeEventAndPromote(
    current: Event,
    changes: EventChanges,
    heads: readonly Registration[],
    now: string,
    announced: PromotionAnnouncements,
  ): Promise<Written<Event>>;
  /** The event, whether it is being deleted (by a DELETE that has not finished), or absent. */
  findForDeletion(eventId: string): Promise<DeletionTarget>;
  /**
   * Marks the event as being deleted (it disappears from reads and refuses every write), with
   * `deleted`, provided it is still `current` (version and counters; a sharded event's version,
   * its shards all marked with it); otherwise answers what it is now. A marked event stays
   * marked until `finishDeletion`.
   */
  markDeleted(
    current: Event,
    now: string,
    deleted: DomainEvent,
  ): Promise<{ ok: true } | { ok: false; current: DeletionTarget }>;
  /**
   * Removes a marked event's registrations (and a sharded event's shard and waitlist
   * partitions), then the event; returns how many registrations.
   */
  finishDeletion(eventId: string): Promise<number>;
  /** Events marked for deletion whose removal has not finished (left by a crash). */
  eventsBeingDeleted(): AsyncIterable<string>;
}

/** An event as a deletion finds it: live, marked by an earlier DELETE, or absent. */
export type DeletionTarget = Event | 'being-deleted' | 'absent';

/** What a promotion commits besides the promotions: each head's, and the event's own change. */
export interface PromotionAnnouncements {
  /** `registration.promoted`, one per head. */
  readonly promoted: readonly DomainEvent[];
  /** The change of the event's own fields the promotion comes with (an update), if any. */
  readonly event?: DomainEvent | undefined;
}
