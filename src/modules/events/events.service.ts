import type { Page, PageRequest } from '../../platform/page.js';
import { EventsErrors } from './events.errors.js';
import type {
  Event,
  EventChanges,
  EventStatus,
  NewEvent,
  Registration,
  RequestKey,
  Waitlist,
} from './events.model.js';
import type { EventRepository } from './events.repository.js';
import { createdOrRetried, decideUpdate, promotable } from './events.rules.js';

/**
 * What a change of capacity needs of the waitlist, to promote the people a change leaves room
 * for (RegistrationsService provides it: the waitlist's promotions and folds are its own).
 */
export interface WaitlistPromotions {
  /** The first `count` waiting registrations, at most what one transaction promotes. */
  nextToPromote(eventId: string, count: number): Promise<Registration[]>;
  /** `count` were promoted, leaving the bookkeeping `waitlist`: counted, then folded. */
  promoted(eventId: string, count: number, waitlist: Waitlist): Promise<void>;
  /** Promotes waiting registrations while seats are free. */
  fillFreeSeats(eventId: string): Promise<void>;
}

export interface EventsServiceDeps {
  readonly repository: EventRepository;
  readonly waitlist: WaitlistPromotions;
  /** Time-ordered unique ids (UUIDv7). */
  readonly newId: () => string;
  readonly clock: () => Date;
}

/**
 * A commit's condition failed this many times in a row: each failure means another request
 * changed the event in between, so someone made progress; past this, answer 503 and let the
 * client retry rather than spin.
 */
const MAX_ATTEMPTS = 25;

/** A change of the event as one attempt left it: committed, or to decide again on `event`. */
interface ChangeOutcome {
  readonly done: boolean;
  readonly event: Event;
}

/**
 * Events. Every write runs read → decide (events.rules.ts) → commit (the repository's conditions
 * guard the decision); a failed condition means the data changed, so it reads and decides again.
 */
export class EventsService {
  constructor(private readonly deps: EventsServiceDeps) {}

  private now(): string {
    return this.deps.clock().toISOString();
  }

  /** Creates an event; a retry of the same request (same request key) gets the event back. */
  async createEvent(input: NewEvent, requestKey?: RequestKey): Promise<Event> {
    const now = this.now();
    const event: Event = {
      eventId: input.eventId ?? this.deps.newId(),
      title: input.title,
      description: input.description,
      date: input.date,
      location: input.location,
      capacity: input.capacity,
      organizer: input.organizer,
      status: input.status ?? 'active',
      hasWaitlist: input.hasWaitlist ?? false,
      registeredCount: 0,
      waitlistCount: 0,
      createdAt: now,
      updatedAt: now,
      waitlist: { issued: 0, frontier: 0, holes: [] },
    };
    const created = await this.deps.repository.createEvent(event, requestKey);
    return createdOrRetried(created, event, requestKey, () =>
      created.created === false && created.beingDeleted
        ? EventsErrors.eventBeingDeleted(event.eventId)
        : EventsErrors.eventExists(event.eventId),
    );
  }

  async getEvent(eventId: string): Promise<Event> {
    const event = await this.deps.repository.getEvent(eventId);
    if (!event) throw EventsErrors.eventNotFound(eventId);
    return event;
  }

  listEvents(status: EventStatus | undefined, page: PageRequest): Promise<Page<Event>> {
    return this.deps.repository.listEvents({ status }, page);
  }

  /**
   * A partial update. Lowering capacity below the confirmed count is a conflict; a change that
   * leaves free seats while people wait promotes them in the same transaction. Answers the event
   * as committed.
   */
  async updateEvent(eventId: string, changes: EventChanges): Promise<Event> {
    let current = await this.getEvent(eventId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = this.now();
      const decision = decideUpdate(current, changes, now);
      if (!decision.ok) throw decision.error;
      const outcome =
        decision.promote === 0
          ? await this.change(eventId, changes, now)
          : await this.changeAndPromote(current, changes, decision.promote, now);
      if (outcome.done) return outcome.event;
      current = outcome.event;
    }
    throw EventsErrors.busy();
  }

  /**
   * Deletes an event and its registrations. The event is marked first, so it disappears and
   * refuses every write (a registration, an unregister, a re-create of its id) while its
   * registrations are removed; a crash in between leaves it marked, and `finishDeletions`
   * (at start-up, and on a schedule) completes it.
   */
  async deleteEvent(eventId: string): Promise<number> {
    const marked = await this.deps.repository.markDeleted(eventId, this.now());
    if (marked === 'absent') throw EventsErrors.eventNotFound(eventId);
    const removed = await this.deps.repository.finishDeletion(eventId);
    // Marked by an earlier DELETE that did not finish: completed now, but it was already gone.
    if (marked === 'already-marked') throw EventsErrors.eventNotFound(eventId);
    return removed;
  }

  /** Completes deletions a crash interrupted; returns how many events it finished. */
  async finishDeletions(): Promise<number> {
    let finished = 0;
    for await (const eventId of this.deps.repository.eventsBeingDeleted()) {
      await this.deps.repository.finishDeletion(eventId);
      finished++;
    }
    return finished;
  }

  /** No promotion: one conditional UpdateItem, whose answer is the committed event. */
  private async change(
    eventId: string,
    changes: EventChanges,
    now: string,
  ): Promise<ChangeOutcome> {
    const written = await this.deps.repository.changeEvent(eventId, changes, now);
    if (written.ok) return { done: true, event: written.value };
    if (!written.current) throw EventsErrors.eventNotFound(eventId);
    // Counts changed in between: decide again on the event the failed write returned.
    return { done: false, event: written.current };
  }

  /** The change and the promotion of `promote` heads, in one transaction. */
  private async changeAndPromote(
    current: Event,
    changes: EventChanges,
    promote: number,
    now: string,
  ): Promise<ChangeOutcome> {
    const { eventId } = current;
    const heads = await this.deps.waitlist.nextToPromote(eventId, promote);
    const written = await this.deps.repository.changeEventAndPromote(current, changes, heads, now);
    // The transaction does not say what changed.
    if (!written.ok) return { done: false, event: await this.getEvent(eventId) };
    await this.deps.waitlist.promoted(eventId, heads.length, written.value.waitlist);
    if (promotable(written.value) === 0) return { done: true, event: written.value };
    // More to promote than one transaction holds.
    await this.deps.waitlist.fillFreeSeats(eventId);
    return { done: true, event: await this.getEvent(eventId) };
  }
}
