import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import {
  type Announcement,
  type EventChange,
  eventAnnouncement,
  registrationAnnouncement,
  updateAnnounced,
} from './events.announcements.rules.js';
import { EventsErrors } from './events.errors.js';
import {
  type Event,
  type EventChanges,
  type EventListFilter,
  type EventUpdate,
  type NewEvent,
  OFFER_DEFAULTS,
  type Registration,
  type RequestKey,
  type Waitlist,
} from './events.model.js';
import type { QueueRepository } from './events.queue.repository.js';
import { anchoredChanges, highestPosition } from './events.queue.rules.js';
import type { EventRepository } from './events.repository.js';
import {
  createdOrRetried,
  decideUpdate,
  promotable,
  promotedRegistration,
} from './events.rules.js';
import { capacityDeltas } from './events.shards.rules.js';

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
  fillFreeSeats(eventId: string): Promise<unknown>;
  /** The same after a committed change: never throws (the seat sweep picks up a failure). */
  passFreedSeats(eventId: string): Promise<unknown>;
}

export interface EventsServiceDeps {
  readonly repository: EventRepository;
  readonly waitlist: WaitlistPromotions;
  /** Time-ordered unique ids (UUIDv7). */
  readonly newId: () => string;
  readonly clock: () => Date;
  /** Domain events: each change's is committed with it, and announced once it has been. */
  readonly outbox: Outbox;
  /** Whether events may be created with more than one shard (`EVENTS_SHARDING`; on unless set off). */
  readonly sharding?: boolean | undefined;
  /** The waiting rooms' position counters (read when an update gives an event's `admission`). */
  readonly queue?: Pick<QueueRepository, 'counters'> | undefined;
}

/**
 * A commit's condition failed this many times in a row: each failure means another request
 * changed the event in between, so someone made progress; past this, answer 503 and let the
 * client retry rather than spin.
 */
const MAX_ATTEMPTS = 25;

/** One attempt at an update: the event as read, the change, and the event once changed. */
interface Change {
  readonly current: Event;
  readonly changes: EventChanges;
  readonly next: Event;
  readonly type: EventChange;
  readonly now: string;
}

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

  private domainEvent({ type, aggregate, data }: Announcement, now: string): DomainEvent {
    return this.deps.outbox.event(type, aggregate, data, now);
  }

  /**
   * Creates an event (announced as `event.created`); a retry of the same request (same request
   * key) gets the event back, and announces nothing.
   */
  async createEvent(input: NewEvent, requestKey?: RequestKey): Promise<Event> {
    const shards = input.shards ?? 1;
    if (shards > 1 && !this.deps.sharding) throw EventsErrors.shardingOff(shards);
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
      promotion: input.promotion ?? OFFER_DEFAULTS.promotion,
      offerWindowSeconds: input.offerWindowSeconds ?? OFFER_DEFAULTS.offerWindowSeconds,
      offersCloseBefore: input.offersCloseBefore ?? OFFER_DEFAULTS.offersCloseBefore,
      offerBatch: input.offerBatch ?? OFFER_DEFAULTS.offerBatch,
      registeredCount: 0,
      waitlistCount: 0,
      offeredCount: 0,
      createdAt: now,
      updatedAt: now,
      waitlist: { issued: 0, frontier: 0, holes: [] },
      version: 1,
      // One shard is the event as it always was: no attribute, nothing more stored.
      ...(shards > 1 ? { shards } : {}),
      // The same for the waiting room: only an event given one has it (and its queue config).
      ...(input.admission
        ? { admission: { ...input.admission, anchorAt: Date.parse(now), anchorAdmitted: 0 } }
        : {}),
    };
    const announced = this.domainEvent(eventAnnouncement('event.created', event), now);
    const created = await this.deps.repository.createEvent(event, requestKey, announced);
    if (created.created) await this.deps.outbox.announce([announced]);
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

  listEvents(filter: EventListFilter, page: PageRequest): Promise<Page<Event>> {
    return this.deps.repository.listEvents(filter, page);
  }

  /**
   * A partial update. Lowering capacity below the confirmed count is a conflict; a change that
   * leaves free seats while people wait promotes them in the same transaction. Answers the event
   * as committed, and announces it (`event.cancelled` when its status becomes cancelled, else
   * `event.updated`) with each promotion (`registration.promoted`).
   */
  async updateEvent(
    eventId: string,
    { shards, ...asked }: EventUpdate & { readonly shards?: number | undefined },
  ): Promise<Event> {
    let current = await this.getEvent(eventId);
    // Fixed at creation; the same value is accepted, so that a whole-object PUT still works.
    const fixed = current.shards ?? 1;
    if (shards !== undefined && shards !== fixed) {
      throw EventsErrors.shardsFixed(eventId, fixed, shards);
    }
    if (Object.values(asked).every((value) => value === undefined)) return current;
    const issued = await this.positionsIssued(current, asked);
    if (fixed > 1) return this.updateSharded(eventId, asked, issued);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const clock = this.deps.clock();
      const now = clock.toISOString();
      // The waiting room's rate re-anchored on the event as read (its version guards the anchor).
      const changes = anchoredChanges(current, asked, clock, issued);
      const decision = decideUpdate(current, changes, clock);
      if (!decision.ok) throw decision.error;
      const change: Change = {
        current,
        changes,
        next: decision.next,
        type: updateAnnounced(current, changes),
        now,
      };
      const { pass } = decision;
      if (pass.count > 0 && pass.kind === 'promote') {
        const outcome = await this.changeAndPromote(change, pass.count);
        if (outcome.done) return outcome.event;
        current = outcome.event;
        continue;
      }
      const outcome = await this.change(change);
      if (!outcome.done) {
        current = outcome.event;
        continue;
      }
      if (pass.count === 0) return outcome.event;
      // Offer mode: the change first, then the seats it frees are offered (a commit of their
      // own; a crash in between leaves them to the seat sweep).
      await this.deps.waitlist.passFreedSeats(eventId);
      return this.getEvent(eventId);
    }
    throw EventsErrors.busy();
  }

  /**
   * A change of a sharded event: its item and every shard in one transaction, a capacity change
   * re-split over the shards (capacityDeltas) as their free seats were read. A failure (seats
   * taken meanwhile, another change) reads and decides again. Seats a raise adds while people
   * wait are passed on right after, by `fillFreeSeats` (a second commit).
   */
  /** The highest position the event's queue has handed out, when the update gives `admission`. */
  private async positionsIssued(current: Event, asked: EventUpdate): Promise<number> {
    const queued = current.admission !== undefined && asked.admission !== undefined;
    if (!queued || !this.deps.queue) return Number.POSITIVE_INFINITY;
    return highestPosition(await this.deps.queue.counters(current.eventId));
  }

  private async updateSharded(eventId: string, asked: EventUpdate, issued: number): Promise<Event> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const view = await this.deps.repository.shardedView(eventId);
      if (!view) throw EventsErrors.eventNotFound(eventId);
      const current = view.event;
      const clock = this.deps.clock();
      const changes = anchoredChanges(current, asked, clock, issued);
      const decision = decideUpdate(current, changes, clock);
      if (!decision.ok) throw decision.error;
      const change = (changes.capacity ?? current.capacity) - current.capacity;
      const deltas = capacityDeltas(view.shards, change);
      if (!deltas) {
        // The shards' free seats read are fewer than the cut: their counts moved since the sums.
        throw EventsErrors.capacityBelowRegistered(
          eventId,
          current.capacity + change,
          current.registeredCount,
          current.offeredCount,
        );
      }
      const now = clock.toISOString();
      const announced = this.domainEvent(
        eventAnnouncement(updateAnnounced(current, changes), decision.next),
        now,
      );
      const written = await this.deps.repository.changeShardedEvent(
        view,
        changes,
        deltas,
        now,
        announced,
      );
      if (written.ok) {
        await this.deps.outbox.announce([announced]);
        if (change <= 0 || current.waitlistCount === 0) return written.value;
        // Seats a raise added pass to the people waiting by a second commit; one that fails
        // leaves them to the next registration or the seat sweep (the change stands).
        await this.deps.waitlist.fillFreeSeats(eventId).catch(() => undefined);
        return (await this.deps.repository.getEvent(eventId)) ?? written.value;
      }
    }
    throw EventsErrors.busy();
  }

  /**
   * Deletes an event and its registrations, announcing `event.deleted` with the event as it was.
   * The event is marked first, so it disappears and refuses every write (a registration, an
   * unregister, a re-create of its id) while its registrations are removed; a crash in between
   * leaves it marked, and `finishDeletions` (at start-up, and on a schedule) completes it. Its
   * registrations are not announced one by one: `event.deleted` says they went with it.
   */
  async deleteEvent(eventId: string): Promise<number> {
    let target = await this.deps.repository.findForDeletion(eventId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (target === 'absent') throw EventsErrors.eventNotFound(eventId);
      if (target === 'being-deleted') {
        // Marked by an earlier DELETE that did not finish: completed now, but it was already gone.
        await this.deps.repository.finishDeletion(eventId);
        throw EventsErrors.eventNotFound(eventId);
      }
      const now = this.now();
      const deleted = this.domainEvent(
        eventAnnouncement('event.deleted', target, target.version + 1),
        now,
      );
      const marked = await this.deps.repository.markDeleted(target, now, deleted);
      if (marked.ok) {
        await this.deps.outbox.announce([deleted]);
        return this.deps.repository.finishDeletion(eventId);
      }
      // Changed in between (a registration moved its counters): decide on it as it is now.
      target = marked.current;
    }
    throw EventsErrors.busy();
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

  /** No promotion: the change alone, provided the event is still as read. */
  private async change({ current, changes, next, type, now }: Change): Promise<ChangeOutcome> {
    const announced = this.domainEvent(eventAnnouncement(type, next), now);
    const written = await this.deps.repository.changeEvent(current, changes, now, announced);
    if (written.ok) {
      await this.deps.outbox.announce([announced]);
      return { done: true, event: written.value };
    }
    if (!written.current) throw EventsErrors.eventNotFound(current.eventId);
    // Changed in between: decide again on the event the failed write returned.
    return { done: false, event: written.current };
  }

  /** The change and the promotion of `promote` heads, in one transaction. */
  private async changeAndPromote(change: Change, promote: number): Promise<ChangeOutcome> {
    const { current, changes, next, type, now } = change;
    const { eventId } = current;
    const heads = await this.deps.waitlist.nextToPromote(eventId, promote);
    const promoted = heads.map((head) =>
      this.domainEvent(
        registrationAnnouncement('registration.promoted', promotedRegistration(head, now)),
        now,
      ),
    );
    const after = {
      ...next,
      registeredCount: next.registeredCount + heads.length,
      waitlistCount: next.waitlistCount - heads.length,
    };
    const event = this.domainEvent(eventAnnouncement(type, after), now);
    const written = await this.deps.repository.changeEventAndPromote(current, changes, heads, now, {
      promoted,
      event,
    });
    // The transaction does not say what changed.
    if (!written.ok) return { done: false, event: await this.getEvent(eventId) };
    await this.deps.outbox.announce([...promoted, event]);
    await this.deps.waitlist.promoted(eventId, heads.length, written.value.waitlist);
    if (promotable(written.value) === 0) return { done: true, event: written.value };
    // More to promote than one transaction holds.
    await this.deps.waitlist.fillFreeSeats(eventId);
    return { done: true, event: await this.getEvent(eventId) };
  }
}
