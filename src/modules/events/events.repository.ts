import type { Page, PageRequest } from '../../platform/page.js';
import type {
  Created,
  Event,
  EventChanges,
  EventStatus,
  Registration,
  RequestKey,
  Written,
} from './events.model.js';

/**
 * The events port: reads, and commits guarded by the conditions that keep the registration rules
 * (docs/spec.md#registration-rules) whatever runs concurrently. A commit whose condition failed changes nothing
 * and says what failed, with the current state where it helps the caller decide again; the
 * decisions themselves are made by the services with events.rules.ts. This port holds the
 * events themselves; users and registrations (with the waitlist) have theirs beside it.
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
   * Marks the event as being deleted (it disappears from reads and refuses every write):
   * `marked`; `absent` when there is no such event; `already-marked` when an earlier DELETE
   * marked it and has not finished. A marked event stays marked until `finishDeletion`.
   */
  markDeleted(eventId: string, now: string): Promise<'marked' | 'absent' | 'already-marked'>;
  /** Removes a marked event's registrations, then the event; returns how many registrations. */
  finishDeletion(eventId: string): Promise<number>;
  /** Events marked for deletion whose removal has not finished (left by a crash). */
  eventsBeingDeleted(): AsyncIterable<string>;
}
