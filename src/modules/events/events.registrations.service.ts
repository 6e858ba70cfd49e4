import { AppError } from '../../platform/errors.js';
import { randomId } from '../../platform/ids.js';
import { keyedLimiter } from '../../platform/limiter.js';
import type { ModuleMetrics } from '../../platform/metrics/metrics.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type { Timers } from '../../platform/timers/timers.js';
import {
  type Announcement,
  cancellation,
  registrationAnnouncement,
} from './events.announcements.rules.js';
import { EventsErrors } from './events.errors.js';
import type {
  Event,
  PlacedRegistration,
  Registration,
  RequestKey,
  ShardCounter,
  ShardedView,
  Waitlist,
} from './events.model.js';
import type { OfferRepository } from './events.offers.repository.js';
import {
  MAX_OFFERS_PER_TRANSACTION,
  MAX_SHARD_OFFERS_PER_TRANSACTION,
  OFFER_ID_LENGTH,
  offerDeadline,
  offeredRegistration,
  seatsToPass,
} from './events.offers.rules.js';
import type {
  EventShards,
  NewRegistration,
  RegistrationCommit,
  RegistrationFacts,
  RegistrationRepository,
  ShardCommit,
  ShardPromotion,
  UnregisterPlan,
} from './events.registrations.repository.js';
import type { EventRepository } from './events.repository.js';
import {
  decideRegistration,
  decideUnregister,
  eventRefusal,
  promotedRegistration,
  refusal,
} from './events.rules.js';
import {
  blockTail,
  blockUsable,
  decideSharded,
  type EventSettings,
  isSharded,
  mintRegistrationId,
  type SeatMove,
  summedEvent,
} from './events.shards.rules.js';
import type { UserRepository } from './events.users.repository.js';
import {
  afterPromotion,
  compactWaitlist,
  countsUnusedTickets,
  unusedTickets,
  waitlistAfter,
  waitlistPosition,
} from './events.waitlist.rules.js';

export interface RegistrationsServiceDeps {
  readonly repository: RegistrationRepository;
  /** The events registrations are for (read only: their counters move with registrations). */
  readonly events: EventRepository;
  readonly users: UserRepository;
  /** Time-ordered unique ids (UUIDv7). */
  readonly newId: () => string;
  readonly clock: () => Date;
  /**
   * RegistrationConfirmed, RegistrationWaitlisted, RegistrationCancelled, WaitlistPromoted,
   * OfferMade, OfferTimerNotSet, SeatPassDeferred, SeatsRebalanced (a sharded event's seats moved
   * into a dry shard).
   */
  readonly metrics: ModuleMetrics;
  /** Domain events: each change's is committed with it, and announced once it has been. */
  readonly outbox: Outbox;
  /** Offers of free seats (offer mode): made here, acted on by OffersService. */
  readonly offers: OfferRepository;
  /** An offer's capability token (events.offers.rules.ts `offerToken` under the module's key). */
  readonly tokenOf: (offerId: string) => string;
  /** Each offer's deadline: a message on the offer-expiries queue, consumed by `expire-offers`. */
  readonly timers: Timers;
  /** How long a sharded event's ticket block is used (the `ticketBlockMs` setting; 1 s if absent). */
  readonly ticketBlockMs?: number;
}

/** A registration as an export lists it: with its place and its user's name. */
export type ExportedRegistration = PlacedRegistration & { readonly userName: string | undefined };

export interface UnregisterResult {
  /** Registrations confirmed in the same atomic step as the removal (or right after it). */
  readonly promoted: Registration[];
  /** Registrations offered the freed seat right after the removal (offer mode). */
  readonly offered: Registration[];
}

/** What passing free seats to the waitlist did: who was promoted, who was offered a seat. */
export interface SeatsPassed {
  readonly promoted: readonly Registration[];
  readonly offered: readonly Registration[];
}

/**
 * A commit's condition failed this many times in a row: each failure means another request
 * changed the event in between, so someone made progress; past this, answer 503 and let the
 * client retry rather than spin.
 */
const MAX_ATTEMPTS = 25;

/**
 * DynamoDB allows 100 items per transaction: the event update, each promotion with its
 * announcement, and the announcement of the event's own change when a promotion comes with one
 * (1 + 2 × 49 + 1).
 */
const MAX_PROMOTIONS_PER_TRANSACTION = 49;

const REGISTRATIONS_IN_FLIGHT = 16;
/**
 * The same per shard of a sharded event: each shard counter is a hot item of its own. Fewer than
 * an unsharded event's, since a process has N of them: in the hot-event bench (16 shards, 200
 * clients) 16 per shard met 8 times the transaction conflicts of 4, for no more registrations;
 * and with 4, the requests throttled at the end of the confirms retried side by side on each
 * key, some for ~10 s (five runs at 4: 29–42 registrations/s, the last 201 up to 12 s after the
 * 99th percentile; at 2: 37–40/s, within 3 s).
 */
const SHARD_REGISTRATIONS_IN_FLIGHT = 2;

/**
 * A sharded registration tries this many shards that stay busy (EVENTS.BUSY) before a 503: half
 * of them, at least 3 — a 503 says the event is busy, not one shard.
 */
const busyShardsLimit = (shards: number) => Math.max(3, Math.ceil(shards / 2));

/**
 * Registrations read per page of an export (one query and one batch read of their users). Larger
 * pages made a 50,000-row export's RSS grow more than twice as much in the bench (npm run bench --
 * --only=csv): each page's responses outlive the young generation and wait for a full collection.
 */
const EXPORT_PAGE_SIZE = 200;

/** How long a full event is remembered as full, and for how many events at most. */
const SEEN_FULL_MS = 2000;
const SEEN_FULL_MAX = 1000;
/** A join holds its ticket for milliseconds; one issued this long ago and unused is abandoned. */
const UNUSED_TICKET_AFTER_MS = 5 * 60_000;
/**
 * Heads promoted per transaction on a sharded event: each touches its row, its shard and its
 * announcement, and the seats may come from every shard (20 + 20 + 32 + 1 items at most).
 */
const MAX_SHARD_PROMOTIONS = 20;
/** A request that finds another flipping a sharded event's latch waits this long, then reads. */
const LATCH_WAIT_MS = 20;
/** A fold that lost a race tries again on what it found this many times, then leaves it. */
const FOLD_ATTEMPTS = 3;

/** One attempt of a registration: the answer, or the event to decide again on. */
type Attempt =
  | { readonly placed: PlacedRegistration }
  | { readonly placed?: undefined; readonly event: Event | undefined | 'unknown' };

type FailedCommit = Extract<RegistrationCommit, { ok: false }>;

/** One attempt on a sharded event: the answer, or the shard its commit found dry. */
type ShardAttempt =
  | { readonly placed: PlacedRegistration }
  | {
      readonly placed?: undefined;
      readonly dry?: number | undefined;
      /** The shard this user's ended registration is in: theirs to register in. */
      readonly pinned?: number | undefined;
    };

/** What a registration asks, as the sharded attempts pass it on. */
type RegistrationRequest = Pick<NewRegistration, 'eventId' | 'userId' | 'requestKey'>;

/**
 * Registrations and the waitlist. Every write runs read → decide (events.rules.ts) → commit (the
 * repository's conditions guard the decision); a failed condition means the data changed, so it
 * reads and decides again.
 */
export class RegistrationsService {
  /**
   * Events this process recently found full (their time), so that during a rush a registration
   * goes straight to the waitlist instead of first trying a seat it won't get. Only a guess: the
   * commit's conditions decide, and a wrong guess costs one more attempt.
   */
  private readonly seenFull = new Map<string, number>();

  /**
   * Registrations for one event run at most REGISTRATIONS_IN_FLIGHT at a time in this process,
   * in arrival order. In a rush every attempt costs a write on the event item, failed or not; a
   * registration that starts once earlier ones have told this process the event is full goes
   * straight to the waitlist instead of first failing to take a seat.
   */
  private readonly registering = keyedLimiter(REGISTRATIONS_IN_FLIGHT);
  /** A sharded event's registrations, the same way per shard (`<eventId>#<shard>`). */
  private readonly registeringInShards = keyedLimiter(SHARD_REGISTRATIONS_IN_FLIGHT);
  /**
   * A sharded event's latch flip under way in this process: the requests that find every shard
   * dry at once wait for it instead of each writing the lease item, one key every process shares.
   */
  private readonly latchFlips = new Map<string, Promise<void>>();

  /** The sharded events this process registers users for, as last seen. */
  private readonly views: ShardViews;

  constructor(private readonly deps: RegistrationsServiceDeps) {
    this.views = new ShardViews(
      {
        event: (eventId) => deps.events.shardedView(eventId),
        counters: (eventId, shards) => deps.repository.shardCounters(eventId, shards),
      },
      () => deps.clock(),
    );
  }

  private now(): string {
    return this.deps.clock().toISOString();
  }

  private domainEvent({ type, aggregate, data }: Announcement, now: string): DomainEvent {
    return this.deps.outbox.event(type, aggregate, data, now);
  }

  /** `registration.promoted` for each head, confirmed at `now`. */
  private promotions(heads: readonly Registration[], now: string): DomainEvent[] {
    return heads.map((head) =>
      this.domainEvent(
        registrationAnnouncement('registration.promoted', promotedRegistration(head, now)),
        now,
      ),
    );
  }

  /**
   * Registers a user: confirmed while a seat is free and nobody waits, waitlisted when the event
   * is full and takes a waitlist, refused otherwise — and a refusal changes nothing. A seat is
   * tried without reading first (its transaction checks everything, and a failed condition brings
   * the event back for the rules to decide again); a waitlist join first reads what could refuse
   * it, since its first write, the ticket, changes the event whatever follows. A retry of a
   * request that already committed (same request key) gets that registration back instead of a
   * conflict.
   */
  async register(
    eventId: string,
    userId: string,
    requestKey?: RequestKey,
  ): Promise<PlacedRegistration> {
    if (this.views.known(eventId)) return this.registerSharded({ eventId, userId, requestKey });
    // Headed for the waitlist: the read comes before queueing for a place among the event's
    // writers — it writes nothing — and a refusal is answered without taking one, so a flood of
    // refused joins doesn't slow the joins behind it.
    const read = this.recentlyFull(eventId)
      ? await this.deps.repository.registrationFacts(eventId, userId)
      : undefined;
    const answered = read && this.answerFromFacts(eventId, userId, requestKey, read);
    if (answered) return answered;
    let placed: PlacedRegistration | 'sharded';
    try {
      placed = await this.registering.run(eventId, () =>
        this.registerNow(eventId, userId, requestKey, read),
      );
    } catch (error) {
      // Tried as unsharded (this process had not seen the event), and the event item stayed
      // busy: the first requests of an on-sale arrive at once and conflict with each other there.
      // A sharded event's registrations never write that item, so read the event first.
      if (!isBusy(error) || !(await this.isShardedEvent(eventId))) throw error;
      placed = 'sharded';
    }
    // Found sharded: its registrations queue per shard, not behind this event's writers.
    return placed === 'sharded' ? this.registerSharded({ eventId, userId, requestKey }) : placed;
  }

  /** `read`: the facts that can refuse the registration, if read already. */
  private async registerNow(
    eventId: string,
    userId: string,
    requestKey: RequestKey,
    read: RegistrationFacts | undefined,
  ): Promise<PlacedRegistration | 'sharded'> {
    const registration: NewRegistration = {
      eventId,
      userId,
      registrationId: this.deps.newId(),
      registeredAt: this.now(),
      requestKey,
    };
    let event: Event | undefined | 'unknown' = 'unknown';
    // Taking a waitlist ticket changes the event, and a ticket its join never uses stays on it as
    // a hole: only a join that nothing but the event's state can refuse takes one, so the user,
    // their registration and the event are read first (once), and a refusal changes nothing. (A
    // user removed or registered in between still gets past this: that ticket is given back.)
    let vetted = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // Another request found it sharded meanwhile: no more tries on the event item.
      if (this.views.known(eventId)) return 'sharded';
      const decision = decideRegistration(event, this.recentlyFull(eventId), this.deps.clock());
      let outcome: Attempt;
      if (decision.kind === 'sharded') {
        return 'sharded';
      } else if (decision.kind === 'refuse') {
        throw await this.refuse(eventId, userId, event === 'unknown' ? undefined : event);
      } else if (decision.kind === 'fill-seats') {
        await this.fillFreeSeats(eventId);
        outcome = { event: 'unknown' };
      } else if (decision.kind === 'waitlist' && !vetted) {
        vetted = true;
        outcome = await this.vet(registration, read);
      } else if (decision.kind === 'confirm') {
        outcome = await this.takeSeat(registration);
      } else {
        outcome = await this.joinWaitlist(registration);
      }
      if (outcome.placed) return outcome.placed;
      event = outcome.event;
    }
    throw EventsErrors.busy();
  }

  /** Before a waitlist join takes a ticket: what the facts alone answer, or the event as read. */
  private async vet(
    { eventId, userId, requestKey }: NewRegistration,
    read: RegistrationFacts | undefined,
  ): Promise<Attempt> {
    const facts = read ?? (await this.deps.repository.registrationFacts(eventId, userId));
    const answered = this.answerFromFacts(eventId, userId, requestKey, facts);
    if (answered) return { placed: await answered };
    // Decide again on the event as read (a seat may have freed since it was seen full).
    this.remember(facts.event);
    return { event: facts.event };
  }

  /** A confirmed seat, if one is free and nobody waits (the commit's condition says). */
  private async takeSeat(registration: NewRegistration): Promise<Attempt> {
    const announced = this.domainEvent(
      registrationAnnouncement('registration.confirmed', registered(registration)),
      this.now(),
    );
    const commit = await this.deps.repository.confirm(registration, announced);
    if (!commit.ok) return this.afterFailedCommit(registration, commit);
    this.deps.metrics.count('RegistrationConfirmed');
    await this.deps.outbox.announce([announced]);
    return { placed: { registration: commit.registration, position: undefined } };
  }

  /** A waitlisted registration under a new ticket; a ticket left unused is given back. */
  private async joinWaitlist(registration: NewRegistration): Promise<Attempt> {
    const { eventId } = registration;
    const taken = await this.deps.repository.takeTicket(eventId, this.now());
    if (!taken) return { event: undefined };
    const { ticket } = taken;
    this.remember(taken.event);
    if (decideRegistration(taken.event, false, this.deps.clock()).kind !== 'waitlist') {
      // A seat is free after all (or the event closed): this ticket won't be used.
      await this.giveBack({ eventId }, ticket, taken.event.waitlist);
      return { event: taken.event };
    }
    // The place it is told: announced with it.
    const position = waitlistPosition(ticket, taken.event.waitlist);
    const announced = this.domainEvent(
      registrationAnnouncement('registration.waitlisted', registered(registration, ticket), {
        position,
      }),
      this.now(),
    );
    const commit = await this.commitTicket(registration, ticket, taken.event.waitlist, announced);
    if (commit.ok) {
      this.deps.metrics.count('RegistrationWaitlisted');
      await this.deps.outbox.announce([announced]);
      return { placed: { registration: commit.registration, position } };
    }
    // Never used (the event changed, or the user went or registered in between since they
    // were read): let later positions stop counting it (a passed ticket already isn't).
    if (!commit.ticketPassed) {
      const seen = commit.event === 'unchanged' ? undefined : commit.event;
      await this.giveBack({ eventId }, ticket, (seen ?? taken.event).waitlist);
    }
    return this.afterFailedCommit(registration, commit);
  }

  /** The waitlist commit under `ticket`; `seen`: the bookkeeping when the ticket was taken. */
  private async commitTicket(
    registration: NewRegistration,
    ticket: number,
    seen: Waitlist,
    announced: DomainEvent,
  ): Promise<RegistrationCommit> {
    try {
      return await this.deps.repository.waitlist(registration, ticket, announced);
    } catch (error) {
      // EVENTS.BUSY: the transaction was cancelled, so the ticket is certainly unused; give
      // it back or every place behind it counts it. (After any other failure the commit may
      // have landed: the ticket stays, and the start-up sweep gives it back if it is unused.)
      if (error instanceof AppError && error.code === EventsErrors.busy().code) {
        await this.giveBack({ eventId: registration.eventId }, ticket, seen).catch(() => undefined);
      }
      throw error;
    }
  }

  /**
   * A commit whose conditions failed: this request's own registration (a retry), a refusal
   * (thrown), or the event as it is now, to decide again on.
   */
  private async afterFailedCommit(
    { eventId, userId, requestKey }: NewRegistration,
    commit: FailedCommit,
  ): Promise<Attempt> {
    // The event item holds no counters when its seats are on shards: its shards decide.
    if (commit.event !== 'unchanged' && commit.event && isSharded(commit.event)) {
      return { event: commit.event };
    }
    if (commit.existing) {
      if (requestKey !== undefined && commit.existing.requestKey === requestKey) {
        return { placed: await this.placed(commit.existing.registration) };
      }
    }
    if (commit.userMissing || commit.existing) {
      const current =
        commit.event === 'unchanged' ? await this.deps.events.getEvent(eventId) : commit.event;
      // Still worth knowing the event is full: the next join goes straight to the waitlist
      // path, where a refusal costs a read instead of a failed transaction.
      this.remember(current);
      throw (
        refusal({
          eventId,
          userId,
          event: current,
          userExists: !commit.userMissing,
          alreadyRegistered: commit.existing !== undefined,
        }) ?? EventsErrors.busy()
      );
    }
    // The event changed between our last look and the commit: decide again on what it is now.
    const event = commit.event === 'unchanged' ? 'unknown' : commit.event;
    if (event !== 'unknown') this.remember(event);
    return { event };
  }

  /** Whether `eventId` is a sharded event, on the view this process keeps (read if need be). */
  private async isShardedEvent(eventId: string): Promise<boolean> {
    const view = await this.views.current(eventId).catch(() => undefined);
    return view !== undefined && isSharded(view.event);
  }

  /**
   * Registers a user for a sharded event (docs/decisions/sharded-capacity.md): while its
   * sold-out latch is off, a seat in a random shard that this process's view shows with seats,
   * under a registration id that carries the shard. A shard its commit finds dry is refilled from
   * the fullest when the view still has seats to move (rebalance); otherwise another shard is
   * tried. When every shard is dry the latch is set on all of them (by the holder of its lease);
   * with the latch on, the user joins the waitlist from a random shard, or is told full — only on
   * a read made now, never on the view's guess. A seat free while nobody waits clears the latch
   * again. Registrations queue per shard in this process.
   */
  private async registerSharded(request: RegistrationRequest): Promise<PlacedRegistration> {
    const { eventId, userId, requestKey } = request;
    let dry: number | undefined;
    // Whether the last step read the settings afresh: a refusal is never made on a guess.
    let settingsRead = false;
    // A read of every counter made after the last step, to decide on next.
    let fresh: ShardedView | undefined;
    let vetted = false;
    // Shards that stayed busy through every try of a commit: avoided while others have seats.
    const busy = new Set<number>();
    // The shard of the user's ended registration, once a commit elsewhere showed it.
    let pinned: number | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const view = fresh ?? (await this.views.current(eventId));
      const isFresh = fresh !== undefined;
      fresh = undefined;
      if (!view) throw await this.refuse(eventId, userId, undefined);
      // Its id was taken again by an unsharded event.
      if (!isSharded(view.event)) return this.register(eventId, userId, requestKey);
      const choice = { random: Math.random, now: this.deps.clock(), dry, pinned, busy };
      let decision = decideSharded(avoiding(view, busy), choice);
      if (decision.kind === 'sell-out' && busy.size > 0) decision = decideSharded(view, choice);
      dry = undefined;
      let outcome: ShardAttempt = {};
      switch (decision.kind) {
        case 'refuse':
          if (decision.reason === 'event-full') {
            // Full only on a read of every counter made now: the latch on, no waitlist.
            if (isFresh) return this.shardedFull(request, view);
            fresh = await this.views.fresh(eventId);
            continue;
          }
          if (!settingsRead) {
            this.views.forget(eventId);
            settingsRead = true;
            continue;
          }
          throw await this.refuse(eventId, userId, view.event);
        case 'sell-out':
        case 'reopen':
          // The N-item transaction conflicts with every registration in flight: only on a read
          // made now, and only by the holder of the lease (the others wait, then read).
          if (isFresh) await this.flipLatch(eventId, decision.kind, view.shards.length);
          fresh = await this.views.fresh(eventId);
          continue;
        case 'fill-seats':
          // Seats free while people wait (a commit that would pass them on was interrupted).
          await this.passFreedSeats(eventId);
          this.views.forget(eventId);
          continue;
        case 'waitlist': {
          // A ticket is a write whatever follows: what can refuse the join is read first.
          if (!vetted) {
            vetted = true;
            const facts = await this.deps.repository.shardedRegistrationFacts(view.event, userId);
            const answered = this.answerFromFacts(eventId, userId, requestKey, facts);
            if (answered) return answered;
          }
          const { shard } = decision;
          try {
            outcome = await this.inShard(eventId, shard, () =>
              this.joinShard(request, shard, view),
            );
          } catch (error) {
            if (!isBusy(error) || busy.add(shard).size >= busyShardsLimit(view.shards.length)) {
              throw error;
            }
          }
          break;
        }
        case 'confirm':
        case 'rebalance': {
          const shard = decision.kind === 'confirm' ? decision.shard : decision.to;
          try {
            outcome = await this.inShard(eventId, shard, () =>
              decision.kind === 'confirm'
                ? this.takeShardSeat(request, shard, view)
                : this.rebalanceAndTake(request, decision, view),
            );
          } catch (error) {
            // Contention (conflicts, throughput) is per shard: another shard may take the seat
            // where this one stayed too busy through all its tries.
            if (!isBusy(error) || busy.add(shard).size >= busyShardsLimit(view.shards.length)) {
              throw error;
            }
          }
          break;
        }
      }
      if (outcome.placed) return outcome.placed;
      [dry, settingsRead] = [outcome.dry, false];
      pinned = outcome.pinned ?? pinned;
    }
    throw EventsErrors.busy();
  }

  /**
   * A waitlisted registration from `shard` (the latch on): a ticket from the shard's block, the
   * place it is told, then the commit; a ticket left unused is given back.
   */
  private async joinShard(
    request: RegistrationRequest,
    shard: number,
    view: ShardedView,
  ): Promise<ShardAttempt> {
    const { eventId } = request;
    const { repository } = this.deps;
    const ticket = await repository.takeShardTicket(eventId, shard, this.deps.clock());
    if (ticket === undefined) {
      this.views.forget(eventId);
      return {};
    }
    // The place is told against the bookkeeping as it is now (counting the untaken tickets of
    // other shards' open blocks as ahead: at most a quarter of a block's lifetime of joins).
    const waitlist = (await repository.shardWaitlist(eventId)) ?? view.event.waitlist;
    const position = waitlistPosition(ticket, waitlist);
    const now = this.now();
    const registration = this.shardRegistration(request, shard, now);
    const announced = this.domainEvent(
      registrationAnnouncement('registration.waitlisted', registered(registration, ticket), {
        position,
      }),
      now,
    );
    let commit: ShardCommit;
    try {
      commit = await repository.joinInShard(
        registration,
        ticket,
        { shard, eventCreatedAt: view.event.createdAt },
        announced,
      );
    } catch (error) {
      // Cancelled (busy): the ticket is certainly unused.
      if (isBusy(error)) await this.giveBack(view.event, ticket, waitlist).catch(() => undefined);
      throw error;
    }
    if (commit.ok) {
      this.views.adjust(eventId, shard, { waiting: 1 });
      this.deps.metrics.count('RegistrationWaitlisted');
      await this.deps.outbox.announce([announced]);
      return { placed: { registration: commit.registration, position } };
    }
    await this.giveBack(view.event, ticket, waitlist);
    // The latch was cleared since the view (a seat free, nobody waiting): read it again.
    if (commit.counter !== 'unchanged' && commit.counter !== 'gone' && !commit.counter.soldOut) {
      this.views.forget(eventId);
    }
    const after = await this.afterShardCommit(request, shard, view, commit);
    return after.placed ? after : { pinned: after.pinned };
  }

  /** At most SHARD_REGISTRATIONS_IN_FLIGHT at a time per shard of an event, in this process. */
  private inShard<T>(eventId: string, shard: number, task: () => Promise<T>): Promise<T> {
    return this.registeringInShards.run(`${eventId}#${shard}`, task);
  }

  /** A new registration in `shard`: its id minted with the shard's bits, for each attempt. */
  private shardRegistration(
    request: RegistrationRequest,
    shard: number,
    now: string,
  ): NewRegistration {
    return {
      ...request,
      registrationId: mintRegistrationId(shard, this.deps.newId()),
      registeredAt: now,
    };
  }

  /** A confirmed seat in `shard`, if it has one (its commit's condition says). */
  private async takeShardSeat(
    request: RegistrationRequest,
    shard: number,
    view: ShardedView,
  ): Promise<ShardAttempt> {
    // Its turn in the shard's lane can come long after it decided: a shard this process has
    // learned since is dry (another request's commit found it so, or a read did) is not worth a
    // write that will fail. At a sell-out those doomed writes kept every shard's key throttled,
    // and the latch's transaction, which needs all of them, waited seconds for a gap.
    if (this.views.knownDry(request.eventId, shard)) return { dry: shard };
    const now = this.now();
    const registration = this.shardRegistration(request, shard, now);
    const announced = this.domainEvent(
      registrationAnnouncement('registration.confirmed', registered(registration)),
      now,
    );
    const commit = await this.deps.repository.confirmInShard(
      registration,
      { shard, eventCreatedAt: view.event.createdAt },
      announced,
    );
    if (!commit.ok) return this.afterShardCommit(request, shard, view, commit);
    this.views.adjust(request.eventId, shard, { seats: -1 });
    this.deps.metrics.count('RegistrationConfirmed');
    await this.deps.outbox.announce([announced]);
    return { placed: { registration: commit.registration, position: undefined } };
  }

  /** Seats moved into a dry shard, then a seat taken there. */
  private async rebalanceAndTake(
    request: RegistrationRequest,
    move: SeatMove,
    view: ShardedView,
  ): Promise<ShardAttempt> {
    const { eventId } = request;
    const moved = await this.deps.repository.rebalance(eventId, move);
    if (!moved.ok) {
      for (const counter of moved.counters) this.views.learn(eventId, counter);
      if (moved.gone) this.views.forget(eventId);
      // The shard is still dry: decide again on what the failure showed.
      return { dry: move.to };
    }
    this.deps.metrics.count('SeatsRebalanced');
    this.views.adjust(eventId, move.from, { slice: -move.seats });
    this.views.adjust(eventId, move.to, { slice: move.seats });
    return this.takeShardSeat(request, move.to, view);
  }

  /**
   * A sharded commit whose conditions failed: this request's own registration (a retry), a
   * refusal (thrown), or the shard it found dry.
   */
  private async afterShardCommit(
    { eventId, userId, requestKey }: RegistrationRequest,
    shard: number,
    view: ShardedView,
    commit: Extract<ShardCommit, { ok: false }>,
  ): Promise<ShardAttempt> {
    const { existing, counter } = commit;
    if (existing && requestKey !== undefined && existing.requestKey === requestKey) {
      return { placed: await this.placed(existing.registration) };
    }
    // Their ended registration is in another shard: they register there.
    if (commit.pinned !== undefined && !commit.userMissing) return { pinned: commit.pinned };
    let dry: number | undefined;
    if (counter === 'gone') this.views.forget(eventId);
    else if (counter !== 'unchanged') {
      this.views.learn(eventId, counter);
      // Seats left but refused: its status changed (the shards mirror it). Read it again.
      if (counter.freeSeats > 0 && !counter.soldOut) this.views.forget(eventId);
      else dry = shard;
    }
    if (commit.userMissing || existing) {
      // The event's own refusals win: read it again unless the shard's condition held.
      if (counter !== 'unchanged') this.views.forget(eventId);
      const event =
        counter === 'unchanged' ? view.event : (await this.views.current(eventId))?.event;
      throw (
        refusal({
          eventId,
          userId,
          event,
          userExists: !commit.userMissing,
          alreadyRegistered: existing !== undefined,
        }) ?? EventsErrors.busy()
      );
    }
    return { dry };
  }

  /**
   * The latch read on just now with no waitlist (`view`, its settings read with it): this
   * request's own registration (a retry), a refusal that wins over full (an unknown user, a
   * second registration), or full.
   */
  private async shardedFull(
    { eventId, userId, requestKey }: RegistrationRequest,
    view: ShardedView,
  ): Promise<PlacedRegistration> {
    const facts = await this.deps.repository.shardedRegistrationFacts(view.event, userId);
    const answered = this.answerFromFacts(eventId, userId, requestKey, facts);
    if (answered) return answered;
    throw EventsErrors.eventFull(eventId);
  }

  /**
   * Removes a registration. A confirmed user's seat passes to the head of the waitlist in the
   * same transaction; a waitlisted user's ticket stops counting for everyone behind them.
   * Announces `registration.cancelled` (the registration as it was) and, when the seat passes,
   * `registration.promoted`.
   */
  async unregister(eventId: string, userId: string): Promise<UnregisterResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = this.now();
      const [found, event] = await Promise.all([
        this.deps.repository.getRegistration(eventId, userId),
        this.deps.events.getEvent(eventId),
      ]);
      // A registration whose event is gone or being deleted is going too: it is not there.
      if (!found || !event) throw EventsErrors.registrationNotFound(eventId, userId);
      if (found.shard !== undefined) {
        const done = await this.unregisterSharded(found.registration, found.shard);
        if (done) return done;
        continue;
      }
      // The bookkeeping is folded in the removal's own transaction the first time. That adds a
      // condition on it, so a retry (the event changed in between, maybe by another fold) records
      // its change without one instead — it can't conflict — and a later fold takes it.
      const planned = await this.planUnregister(found.registration, event, attempt === 0);
      if (!planned) continue; // the count said someone waits; the head left in between
      const plan = planned;
      const heads = plan.kind === 'pass-seat' ? [plan.head] : [];
      const announced = [
        this.domainEvent(
          cancellation(found.registration, placed(found.registration, event).position),
          now,
        ),
        ...this.promotions(heads, now),
      ];
      if (await this.deps.repository.unregister(plan, now, announced)) {
        this.deps.metrics.count('RegistrationCancelled');
        this.deps.metrics.count('WaitlistPromoted', heads.length);
        await this.deps.outbox.announce(announced);
        const promoted = heads.map((head) => promotedRegistration(head, now));
        // A seat freed in offer mode (or an offer's seat) is offered on by a commit of its own.
        if (plan.kind === 'end-offer' || (plan.kind === 'free-seat' && event.waitlistCount > 0)) {
          const passed = await this.passFreedSeats(eventId);
          return {
            promoted: [...promoted, ...passed.promoted],
            offered: [...passed.offered],
          };
        }
        return { promoted, offered: [] };
      }
    }
    throw EventsErrors.busy();
  }

  /**
   * Removes a sharded event's registration from its shard (`shard`), deciding on the event and
   * every counter read now; undefined when the data changed in between (read and plan again).
   * Latch off: nobody waits, the seat is free. Latch on (instant mode): the seat passes to the
   * head of the waitlist over every shard in the same transaction, or, nobody waiting, it is
   * freed and the latch cleared after. A waiting user's ticket becomes a hole, then folded.
   */
  private async unregisterSharded(
    registration: Registration,
    shard: number,
  ): Promise<UnregisterResult | undefined> {
    const { eventId } = registration;
    const view = await this.deps.events.shardedView(eventId);
    if (!view) throw EventsErrors.registrationNotFound(eventId, registration.userId);
    const { event, soldOut } = view;
    let plan: UnregisterPlan;
    if (registration.status === 'offered') {
      // The held seat is free in its shard; passed on by the fill that follows.
      plan = { kind: 'end-offer', registration, shard };
    } else if (registration.status === 'waitlisted') {
      plan = { kind: 'leave-waitlist', registration, shard };
    } else {
      const [head] =
        soldOut && event.promotion === 'instant' && event.waitlistCount > 0
          ? await this.deps.repository.waitlistHeads(event, 1)
          : [];
      plan = head
        ? {
            kind: 'pass-seat',
            registration,
            head,
            shard,
            ...afterPromotion(event.waitlist, [head]),
          }
        : { kind: 'free-seat', registration, shard, soldOut };
    }
    const now = this.now();
    const heads = plan.kind === 'pass-seat' ? [plan.head] : [];
    const announced = [
      this.domainEvent(cancellation(registration, placed(registration, event).position), now),
      ...this.promotions(heads, now),
    ];
    if (!(await this.deps.repository.unregister(plan, now, announced))) return undefined;
    if (plan.kind === 'free-seat' && !soldOut) this.views.adjust(eventId, shard, { seats: 1 });
    else this.views.forget(eventId);
    this.deps.metrics.count('RegistrationCancelled');
    this.deps.metrics.count('WaitlistPromoted', heads.length);
    await this.deps.outbox.announce(announced);
    if (plan.kind === 'leave-waitlist') {
      await this.fold(event, waitlistAfter(event.waitlist, { left: [registration.ticket ?? 0] }));
    } else if (plan.kind === 'pass-seat') {
      await this.fold(event, waitlistAfter(event.waitlist, { promoted: heads }));
    }
    const promoted = heads.map((h) => promotedRegistration(h, now));
    // Latch on and the seat freed (or an offer's seat): passed on to anyone who joined
    // meanwhile, else the latch is cleared (fillFreeSeats does both).
    if ((plan.kind === 'free-seat' && soldOut) || plan.kind === 'end-offer') {
      const passed = await this.passFreedSeats(eventId);
      return { promoted: [...promoted, ...passed.promoted], offered: [...passed.offered] };
    }
    return { promoted, offered: [] };
  }

  /**
   * How to remove `registration` from `event` as read, its bookkeeping folded in the same
   * transaction when `foldNow`; undefined when the head that would take the seat has left.
   */
  private async planUnregister(
    registration: Registration,
    event: Event,
    foldNow: boolean,
  ): Promise<UnregisterPlan | undefined> {
    const decision = decideUnregister(registration, event, this.deps.clock());
    const fold = (after: Waitlist) => {
      const folded = foldNow ? compactWaitlist(after) : undefined;
      return folded ? { seen: event.waitlist, folded } : undefined;
    };
    if (decision.kind === 'pass-seat') {
      const [head] = await this.deps.repository.waitlistHeads(event, 1);
      if (!head) return undefined;
      return {
        kind: 'pass-seat',
        registration,
        head,
        ...afterPromotion(event.waitlist, [head]),
        fold: fold(waitlistAfter(event.waitlist, { promoted: [head] })),
      };
    }
    if (decision.kind === 'end-offer') return { kind: 'end-offer', registration };
    const left = decision.kind === 'leave-waitlist' ? [registration.ticket ?? 0] : [];
    return {
      kind: decision.kind,
      registration,
      fold: left.length > 0 ? fold(waitlistAfter(event.waitlist, { left })) : undefined,
    };
  }

  /** Confirmed in join order, then waitlisted in ticket order, each with its place. */
  async eventRegistrations(eventId: string, page: PageRequest): Promise<Page<PlacedRegistration>> {
    const event = await this.deps.events.getEvent(eventId);
    if (!event) throw EventsErrors.eventNotFound(eventId);
    const result = await this.deps.repository.listEventRegistrations(event, page);
    return {
      items: result.items.map((registration) => placed(registration, event)),
      nextCursor: result.nextCursor,
    };
  }

  /**
   * Every registration of an event, for an export: confirmed in join order, then waitlisted in
   * ticket order, each with its place and its user's name, page by page. The event is read once,
   * before any page (unknown: a 404 before anything is sent), so every place is told against the
   * same state of the waitlist and none repeats from one page to the next.
   */
  async exportEventRegistrations(eventId: string): Promise<AsyncIterable<ExportedRegistration[]>> {
    const event = await this.deps.events.getEvent(eventId);
    if (!event) throw EventsErrors.eventNotFound(eventId);
    const pages = this.deps.repository.eventRegistrationPages(event, EXPORT_PAGE_SIZE);
    return (async function* () {
      for await (const page of pages) {
        yield page.map(({ registration, userName }) => ({
          ...placed(registration, event),
          userName,
        }));
      }
    })();
  }

  /** Newest first, each with its event and place. */
  async userRegistrations(
    userId: string,
    page: PageRequest,
  ): Promise<Page<PlacedRegistration & { event: Event }>> {
    if (!(await this.deps.users.getUser(userId))) throw EventsErrors.userNotFound(userId);
    const result = await this.deps.repository.listUserRegistrations(userId, page);
    return {
      items: result.items.map(({ registration, event }) => ({
        ...placed(registration, event),
        event,
      })),
      nextCursor: result.nextCursor,
    };
  }

  /**
   * Gives back waitlist tickets that joins took and never used (the process died between taking
   * one and committing with it), so that the places behind them are right again. A join in
   * flight holds such a ticket for a moment, so only events that issued no ticket in the last
   * five minutes are touched — unless `all` (local start-up: nothing is in flight yet). Returns
   * how many tickets it gave back.
   */
  async releaseUnusedTickets(options: { all: boolean }): Promise<number> {
    const { repository } = this.deps;
    const issuedBefore = options.all
      ? undefined
      : new Date(this.deps.clock().getTime() - UNUSED_TICKET_AFTER_MS).toISOString();
    let released = 0;
    for await (const events of this.deps.events.allEvents()) {
      for (const event of events) {
        if (!countsUnusedTickets(event)) continue;
        if (isSharded(event)) {
          released += await this.releaseUnusedShardTickets(event, issuedBefore);
          continue;
        }
        // Every waiting ticket, not a first page: one left out would be taken for unused.
        const unused = unusedTickets(event.waitlist, await repository.waitingTickets(event));
        if (unused.length === 0) continue;
        const { issued } = event.waitlist;
        if (await repository.releaseUnusedTickets(event.eventId, unused, issued, issuedBefore)) {
          released += unused.length;
          await this.fold(event, waitlistAfter(event.waitlist, { left: unused }));
        }
      }
    }
    return released;
  }

  /**
   * The same for a sharded event: its tickets come in blocks, so a block's untaken tickets are
   * unused only once it can no longer hand them out (a second after it was allocated); a block
   * still open keeps its tail, and the release requires every block still as read.
   */
  private async releaseUnusedShardTickets(
    event: Event,
    issuedBefore: string | undefined,
  ): Promise<number> {
    const { repository } = this.deps;
    const shards = event.shards ?? 1;
    // The blocks first: a ticket taken from one after this read fails the release's check.
    const blocks = await repository.ticketBlocks(event.eventId, shards);
    const waitlist = (await repository.shardWaitlist(event.eventId)) ?? event.waitlist;
    const now = this.deps.clock().getTime();
    const open = new Set(
      blocks.flatMap((block) =>
        block && blockUsable(block, now, this.deps.ticketBlockMs) ? blockTail(block) : [],
      ),
    );
    const unused = unusedTickets(waitlist, await repository.waitingTickets(event)).filter(
      (ticket) => !open.has(ticket),
    );
    if (unused.length === 0) return 0;
    const released = await repository.releaseUnusedShardTickets(
      event.eventId,
      unused,
      waitlist.issued,
      issuedBefore,
      blocks,
    );
    if (!released) return 0;
    await this.fold(event, waitlistAfter(waitlist, { left: unused }));
    return unused.length;
  }

  /** The first `count` waiting registrations, at most one transaction's worth. */
  nextToPromote(eventId: string, count: number): Promise<Registration[]> {
    return this.deps.repository.waitlistHeads(
      { eventId },
      Math.min(count, MAX_PROMOTIONS_PER_TRANSACTION),
    );
  }

  /** `count` were promoted, leaving the bookkeeping `waitlist`: counted, then folded. */
  async promoted(eventId: string, count: number, waitlist: Waitlist): Promise<void> {
    this.deps.metrics.count('WaitlistPromoted', count);
    await this.fold({ eventId }, waitlist);
  }

  /**
   * Promotes waitlisted registrations while seats are free, in batches of at most 49 (what one
   * transaction holds with their announcements), each announced as `registration.promoted`.
   * Registration refuses newcomers a free seat while anyone waits, so the queue keeps its order
   * between batches.
   */
  async fillFreeSeats(eventId: string): Promise<SeatsPassed> {
    const passed: { promoted: Registration[]; offered: Registration[] } = {
      promoted: [],
      offered: [],
    };
    for (let failures = 0; failures < MAX_ATTEMPTS; ) {
      const event = await this.deps.events.getEvent(eventId);
      if (!event) return passed;
      if (isSharded(event)) return this.fillShards(eventId, passed);
      const clock = this.deps.clock();
      const pass = seatsToPass(event, clock);
      const count = Math.min(
        pass.count,
        pass.kind === 'offer' ? MAX_OFFERS_PER_TRANSACTION : MAX_PROMOTIONS_PER_TRANSACTION,
      );
      if (count === 0) return passed;
      const heads = await this.deps.repository.waitlistHeads(event, count);
      if (heads.length === 0) return passed;
      if (pass.kind === 'offer') {
        const offered = await this.offer(event, heads, clock);
        if (offered) passed.offered.push(...offered);
        else failures++;
        continue;
      }
      const now = clock.toISOString();
      const promotions = this.promotions(heads, now);
      if (await this.deps.repository.promote(event, heads, now, promotions)) {
        await this.deps.outbox.announce(promotions);
        await this.promoted(
          eventId,
          heads.length,
          waitlistAfter(event.waitlist, { promoted: heads }),
        );
        passed.promoted.push(...heads.map((head) => promotedRegistration(head, now)));
      } else failures++;
    }
    throw EventsErrors.busy();
  }

  /**
   * `fillFreeSeats` for a sharded event: the k lowest tickets over every shard into free seats of
   * any shard, one transaction per batch — promoted (k ≤ 20), or in offer mode offered (k ≤ 16,
   * and no more than the batch leaves room for); then, when nobody waits and a seat is free with
   * the latch on, the latch is cleared (`reopen`).
   */
  private async fillShards(
    eventId: string,
    passed: { promoted: Registration[]; offered: Registration[] },
  ): Promise<SeatsPassed> {
    for (let failures = 0; failures < MAX_ATTEMPTS; ) {
      const view = await this.deps.events.shardedView(eventId);
      if (!view || !isSharded(view.event)) return passed;
      const clock = this.deps.clock();
      const slices = view.shards.reduce((sum, s) => sum + s.slice, 0);
      const pass = seatsToPass({ ...view.event, capacity: slices }, clock);
      const count = Math.min(
        pass.count,
        pass.kind === 'offer' ? MAX_SHARD_OFFERS_PER_TRANSACTION : MAX_SHARD_PROMOTIONS,
      );
      const heads = count > 0 ? await this.deps.repository.waitlistHeads(view.event, count) : [];
      if (heads.length === 0) {
        await this.reopenIfIdle(view);
        return passed;
      }
      const promotion = { view, heads, ...afterPromotion(view.event.waitlist, heads) };
      if (pass.kind === 'offer') {
        const offered = await this.offer(view.event, heads, clock, promotion);
        if (offered) {
          this.views.forget(eventId);
          passed.offered.push(...offered);
        } else failures++;
        continue;
      }
      const now = clock.toISOString();
      const promotions = this.promotions(heads, now);
      if (await this.deps.repository.promoteInShards(promotion, now, promotions)) {
        this.views.forget(eventId);
        await this.deps.outbox.announce(promotions);
        this.deps.metrics.count('WaitlistPromoted', heads.length);
        await this.fold(view.event, waitlistAfter(view.event.waitlist, { promoted: heads }));
        passed.promoted.push(...heads.map((head) => promotedRegistration(head, now)));
      } else failures++;
    }
    throw EventsErrors.busy();
  }

  /** Clears the latch of a sharded event whose seats are free while nobody waits. */
  private async reopenIfIdle(view: ShardedView): Promise<void> {
    const free = view.shards.reduce((sum, s) => sum + s.freeSeats, 0);
    if (!view.soldOut || free === 0 || view.event.waitlistCount > 0) return;
    await this.flipLatch(view.event.eventId, 'reopen', view.shards.length);
  }

  /**
   * Sets (`sell-out`) or clears (`reopen`) a sharded event's latch on every shard, if this
   * request gets the lease on it; otherwise waits a moment for the holder. Either way the caller
   * decides again on a fresh read: the transaction's conditions, not this, say what holds.
   */
  private async flipLatch(
    eventId: string,
    kind: 'sell-out' | 'reopen',
    shards: number,
  ): Promise<void> {
    const underWay = this.latchFlips.get(eventId);
    if (underWay) return underWay;
    const flip = this.flipLatchOnce(eventId, kind, shards).finally(() => {
      this.latchFlips.delete(eventId);
    });
    this.latchFlips.set(eventId, flip);
    return flip;
  }

  private async flipLatchOnce(
    eventId: string,
    kind: 'sell-out' | 'reopen',
    shards: number,
  ): Promise<void> {
    const { repository } = this.deps;
    const at = this.deps.clock();
    if (!(await repository.takeLatchLease(eventId, at))) {
      await sleep(LATCH_WAIT_MS);
      return;
    }
    try {
      const flipped = await repository.flipLatch(eventId, shards, kind === 'sell-out', this.now());
      if (flipped) this.deps.metrics.count(kind === 'sell-out' ? 'SoldOut' : 'Reopened');
    } catch (error) {
      // Busy through every try (it meets every registration in flight): decided again on the
      // read that follows, like a failed condition.
      if (!isBusy(error)) throw error;
    } finally {
      this.views.forget(eventId);
      await repository.releaseLatchLease(eventId, at).catch(() => undefined);
    }
  }

  /**
   * Offers free seats to `heads` (the first waiting, as read from `event`) until the event's
   * deadline for them; false when the event changed since it was read. Each offer's timer is set
   * after the commit: a timer that can't be set leaves the lapse to the sweep.
   */
  private async offer(
    event: Event,
    heads: readonly Registration[],
    now: Date,
    sharded?: ShardPromotion,
  ): Promise<Registration[] | undefined> {
    const offeredAt = now.toISOString();
    const offerExpiresAt = offerDeadline(event, now).toISOString();
    const offered = heads.map((head) => {
      const offerId = randomId(OFFER_ID_LENGTH);
      return {
        ...offeredRegistration(head, { offerId, offeredAt, offerExpiresAt }),
        offerToken: this.deps.tokenOf(offerId),
      };
    });
    const announced = offered.map((registration) =>
      this.domainEvent(registrationAnnouncement('registration.offered', registration), offeredAt),
    );
    const made = sharded
      ? await this.deps.offers.makeShardOffers(sharded, offered, announced)
      : await this.deps.offers.makeOffers(event, heads, offered, announced);
    if (!made) return undefined;
    this.deps.metrics.count('OfferMade', offered.length);
    await this.deps.outbox.announce(announced);
    await Promise.all(
      offered.map(({ eventId, userId, offerId }) =>
        this.deps.timers
          .set(
            offerId as string,
            new Date(offerExpiresAt),
            JSON.stringify({ eventId, userId, offerId }),
          )
          // The sweep lapses it instead (within its schedule); counted, so an operator sees it.
          .catch(() => this.deps.metrics.count('OfferTimerNotSet')),
      ),
    );
    await this.fold(event, waitlistAfter(event.waitlist, { promoted: heads }));
    return offered;
  }

  /**
   * Passes on seats a committed change freed (an offer that ended, a seat freed in offer mode).
   * The change stands whatever happens here: a failure (busy) leaves the seats to the next
   * registration, accept or sweep, which pass them on the same way.
   */
  async passFreedSeats(eventId: string): Promise<SeatsPassed> {
    try {
      return await this.fillFreeSeats(eventId);
    } catch {
      this.deps.metrics.count('SeatPassDeferred');
      return { promoted: [], offered: [] };
    }
  }

  private recentlyFull(eventId: string): boolean {
    const at = this.seenFull.get(eventId);
    return at !== undefined && this.deps.clock().getTime() - at < SEEN_FULL_MS;
  }

  private remember(event: Event | undefined): void {
    // A sharded event's registrations never take the waitlist path on a guess.
    if (!event || isSharded(event)) return;
    // Only a full event with a waitlist: a refusal is never made on a guess.
    if (event.registeredCount + event.offeredCount < event.capacity || !event.hasWaitlist) {
      this.seenFull.delete(event.eventId);
      return;
    }
    if (this.seenFull.size >= SEEN_FULL_MAX) {
      const oldest = this.seenFull.keys().next().value;
      if (oldest !== undefined) this.seenFull.delete(oldest);
    }
    this.seenFull.delete(event.eventId);
    this.seenFull.set(event.eventId, this.deps.clock().getTime());
  }

  /** Why a registration is refused, reading what the rules need to pick the error that wins. */
  private async refuse(eventId: string, userId: string, event: Event | undefined) {
    const byEvent = eventRefusal(eventId, event);
    if (byEvent) return byEvent;
    const facts = await this.deps.repository.registrationFacts(eventId, userId);
    return (
      refusal({
        eventId,
        userId,
        event,
        userExists: facts.userExists,
        alreadyRegistered: facts.existing !== undefined,
      }) ?? EventsErrors.busy()
    );
  }

  /**
   * The answer the facts alone give: the registration this request already made (a retry), or a
   * refusal (thrown); undefined when nothing but the event's counters can refuse it.
   */
  private answerFromFacts(
    eventId: string,
    userId: string,
    requestKey: RequestKey,
    facts: RegistrationFacts,
  ): Promise<PlacedRegistration> | undefined {
    if (facts.existing && requestKey !== undefined && facts.existing.requestKey === requestKey) {
      const { registration } = facts.existing;
      return facts.event
        ? Promise.resolve(placed(registration, facts.event))
        : this.placed(registration);
    }
    const refused = refusal({
      eventId,
      userId,
      event: facts.event,
      userExists: facts.userExists,
      alreadyRegistered: facts.existing !== undefined,
    });
    if (refused) throw refused;
    return undefined;
  }

  /**
   * Gives back a ticket its join will never use: a hole, then folded. `seen`: the bookkeeping as
   * last read (the hole is added to it for the fold).
   */
  private async giveBack(event: EventShards, ticket: number, seen: Waitlist): Promise<void> {
    await this.deps.repository.releaseTicket(event, ticket);
    await this.fold(event, waitlistAfter(seen, { left: [ticket] }));
  }

  /**
   * Folds the waitlist's holes into runs (compactWaitlist) after a change that made holes or moved
   * the frontier, so the event item grows with the tickets still held, not with every ticket that
   * left. `seen`: the bookkeeping as this request knows it, its own change included. A fold that
   * loses a race tries again on the event the failure returned, a few times, then leaves the
   * holes to the next change's fold (each fold takes every hole it sees). It never fails the
   * request, whose change has committed: a fold that can't be written (DynamoDB busy) is left too.
   */
  private async fold(event: EventShards, seen: Waitlist): Promise<void> {
    let waitlist: Waitlist | undefined = seen;
    try {
      for (let attempt = 0; waitlist && attempt < FOLD_ATTEMPTS; attempt++) {
        const folded = compactWaitlist(waitlist);
        if (!folded) return;
        const written = await this.deps.repository.foldWaitlist(event, waitlist, folded);
        if (written.ok) return;
        waitlist = written.current;
      }
    } catch {
      // The holes stay recorded one by one, counted by every position, folded by the next fold.
    }
  }

  /** A registration with its current place (one read of its event when it is waitlisted). */
  private async placed(registration: Registration): Promise<PlacedRegistration> {
    if (registration.status !== 'waitlisted') return { registration, position: undefined };
    const event = await this.deps.events.getEvent(registration.eventId);
    return event ? placed(registration, event) : { registration, position: undefined };
  }
}

/** The view with `shards`' free seats hidden, so that a decision passes them over. */
function avoiding(view: ShardedView, shards: ReadonlySet<number>): ShardedView {
  if (shards.size === 0) return view;
  return {
    ...view,
    shards: view.shards.map((s) => (shards.has(s.shard) ? { ...s, freeSeats: 0 } : s)),
  };
}

const isBusy = (error: unknown) =>
  error instanceof AppError && error.code === EventsErrors.busy().code;

function placed(registration: Registration, event: Event): PlacedRegistration {
  return {
    registration,
    position:
      registration.status === 'waitlisted' && registration.ticket !== undefined
        ? waitlistPosition(registration.ticket, event.waitlist)
        : undefined,
  };
}

/** The registration `r` makes: confirmed, or waitlisted under `ticket`; its first version. */
function registered(r: NewRegistration, ticket?: number): Registration {
  return {
    registrationId: r.registrationId,
    userId: r.userId,
    eventId: r.eventId,
    status: ticket === undefined ? 'confirmed' : 'waitlisted',
    registeredAt: r.registeredAt,
    ...(ticket === undefined ? {} : { ticket }),
    version: 1,
  };
}

/** Where a process reads the sharded events it registers users for. */
interface ShardViewSource {
  /** The event with its counters, read now; undefined when absent or being deleted. */
  readonly event: (eventId: string) => Promise<ShardedView | undefined>;
  /**
   * Every counter of the event, strongly consistent, in one batch read; undefined when one is
   * missing or marked for deletion (the event is going).
   */
  readonly counters: (eventId: string, shards: number) => Promise<ShardCounter[] | undefined>;
}

/** The settings (the event item) are used this long, the counters a second. */
const SETTINGS_MAX_AGE_MS = 5000;
const COUNTERS_MAX_AGE_MS = 1000;
/** Sharded events one process keeps a view of at most (the oldest read is dropped first). */
const MAX_EVENTS = 1000;
/** Reads of every counter for a refusal as full begin at least this far apart, per event. */
const CHECK_SPACING_MS = 100;

const sleep = (ms: number) => new Promise<void>((done) => (ms > 0 ? setTimeout(done, ms) : done()));

interface Entry {
  settings: EventSettings;
  waitlist: Waitlist;
  settingsAt: number;
  counters: ShardCounter[];
  countersAt: number;
  /** A read in flight: requests that find the view too old wait for it instead of reading too. */
  reading?: Promise<void> | undefined;
}

/**
 * Each process's guess of its sharded events (docs/decisions/sharded-capacity.md, *Where a
 * registration goes*): the settings, at most 5 s old, and the N counters, at most 1 s old or as
 * the last commit found them. A guess only: every decision made on it is checked by a condition
 * at commit, and a commit that fails returns the counter that failed it, which the view learns.
 * Requests for one event share it, so that what one learns (a shard dry, a seat taken) the
 * others decide on.
 */
/** A sharded event's reads of every counter: the one in flight, and the one to start after it. */
interface Check {
  running?: Promise<ShardedView | undefined> | undefined;
  queued?: Promise<ShardedView | undefined> | undefined;
  /** When the last one began (ms since the epoch, this machine's time: a spacing, not a fact). */
  startedAt: number;
}

class ShardViews {
  private readonly entries = new Map<string, Entry>();
  private readonly checks = new Map<string, Check>();
  /** Reads of an event not kept yet, shared by the requests that arrive meanwhile. */
  private readonly firstReads = new Map<string, Promise<ShardedView | undefined>>();

  constructor(
    private readonly source: ShardViewSource,
    private readonly clock: () => Date,
  ) {}

  /**
   * Whether this process has seen `eventId` sharded (a shard count is fixed at creation: an id
   * taken again by an unsharded event is found when the view is next read).
   */
  known(eventId: string): boolean {
    return this.entries.has(eventId);
  }

  /**
   * The event to decide on, reading what is too old. Undefined when it is absent or being
   * deleted; an unsharded event (its id taken again by one) is answered but not kept.
   */
  async current(eventId: string): Promise<ShardedView | undefined> {
    for (;;) {
      const entry = this.entries.get(eventId);
      if (!entry) return this.readEvent(eventId);
      if (entry.reading) {
        await entry.reading;
        continue;
      }
      const now = this.now();
      // A read that fails (DynamoDB throttling the counters' keys, say) leaves the old guess in
      // use a while longer: every decision is checked at commit anyway, and reading again at
      // once would add to what is being throttled.
      if (now - entry.settingsAt >= SETTINGS_MAX_AGE_MS) {
        try {
          return await this.readEvent(eventId);
        } catch {
          [entry.settingsAt, entry.countersAt] = [now, now];
          return viewOf(entry);
        }
      }
      if (now - entry.countersAt < COUNTERS_MAX_AGE_MS) return viewOf(entry);
      const reading = this.readCounters(eventId, entry).then(
        () => undefined,
        () => {
          entry.countersAt = now;
        },
      );
      entry.reading = reading;
      try {
        await reading;
      } finally {
        entry.reading = undefined;
      }
    }
  }

  /**
   * The event and every counter read from now on (strongly consistent): what a refusal as full
   * rests on, never on a guess — the settings with them, so that a closed event is told so. A read that began before this call is not used;
   * one that begins after it is shared — so when every shard is dry, the requests that find it
   * so at once are answered by one read, not one each (a sold-out rush would otherwise read each
   * counter once per refused request).
   */
  fresh(eventId: string): Promise<ShardedView | undefined> {
    let check = this.checks.get(eventId);
    if (!check) {
      check = { startedAt: 0 };
      this.checks.set(eventId, check);
    }
    if (check.queued) return check.queued;
    const spacing = check.startedAt + CHECK_SPACING_MS - Date.now();
    if (!check.running && spacing <= 0) return this.startCheck(eventId, check);
    // The next read starts once the one in flight is done, and not sooner than CHECK_SPACING_MS
    // after it began: requests that keep finding every shard dry are answered by a few reads a
    // second, whatever their number.
    const started = check;
    const queued = Promise.all([check.running?.catch(() => undefined), sleep(spacing)]).then(() => {
      started.queued = undefined;
      return this.startCheck(eventId, started);
    });
    check.queued = queued;
    return queued;
  }

  private startCheck(eventId: string, check: Check): Promise<ShardedView | undefined> {
    // What this read found, whatever other requests learn meanwhile.
    const running = this.keep(eventId).finally(() => {
      if (check.running === running) check.running = undefined;
    });
    check.running = running;
    check.startedAt = Date.now();
    return running;
  }

  /** Whether the counter as last seen (read, or found by a failed commit) has no free seat. */
  knownDry(eventId: string, shard: number): boolean {
    const counter = this.entries.get(eventId)?.counters.find((c) => c.shard === shard);
    return counter !== undefined && counter.freeSeats <= 0;
  }

  /** A counter as a failed commit found it. */
  learn(eventId: string, counter: ShardCounter): void {
    const entry = this.entries.get(eventId);
    if (!entry) return;
    entry.counters = entry.counters.map((c) => (c.shard === counter.shard ? counter : c));
  }

  /**
   * This process's own committed change of a shard: `seats` taken (negative) or freed,
   * `slice` moved with them by a rebalance, people `waiting` who joined.
   */
  adjust(
    eventId: string,
    shard: number,
    change: { seats?: number; slice?: number; waiting?: number },
  ): void {
    const entry = this.entries.get(eventId);
    if (!entry) return;
    const { seats = 0, slice = 0, waiting = 0 } = change;
    entry.counters = entry.counters.map((c) =>
      c.shard === shard
        ? {
            ...c,
            slice: c.slice + slice,
            freeSeats: Math.max(0, c.freeSeats + seats + slice),
            registeredCount: Math.max(0, c.registeredCount - seats),
            waitlistCount: Math.max(0, c.waitlistCount + waiting),
          }
        : c,
    );
  }

  /** The settings changed or the event went: read it again before the next decision. */
  forget(eventId: string): void {
    this.entries.delete(eventId);
    this.checks.delete(eventId);
  }

  private readEvent(eventId: string): Promise<ShardedView | undefined> {
    let reading = this.firstReads.get(eventId);
    if (!reading) {
      reading = this.keep(eventId).finally(() => this.firstReads.delete(eventId));
      this.firstReads.set(eventId, reading);
    }
    return reading;
  }

  private async keep(eventId: string): Promise<ShardedView | undefined> {
    const view = await this.source.event(eventId);
    if (!view || !isSharded(view.event)) {
      this.forget(eventId);
      return view;
    }
    const now = this.now();
    const {
      registeredCount: _,
      waitlistCount: __,
      offeredCount: ___,
      waitlist,
      ...settings
    } = view.event;
    if (!this.entries.has(eventId) && this.entries.size >= MAX_EVENTS) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) {
        this.entries.delete(oldest);
        this.checks.delete(oldest);
      }
    }
    const entry: Entry = {
      settings,
      waitlist,
      settingsAt: now,
      counters: [...view.shards],
      countersAt: now,
    };
    this.entries.delete(eventId);
    this.entries.set(eventId, entry);
    return viewOf(entry);
  }

  private async readCounters(eventId: string, entry: Entry): Promise<ShardCounter[] | undefined> {
    const counters = await this.source.counters(eventId, entry.settings.shards ?? 1);
    if (!counters) {
      // Being deleted: the next decision reads the event (and finds it gone).
      this.entries.delete(eventId);
      return undefined;
    }
    entry.counters = counters;
    entry.countersAt = this.now();
    return counters;
  }

  private now(): number {
    return this.clock().getTime();
  }
}

function viewOf(entry: Entry): ShardedView {
  return summedEvent(entry.settings, entry.counters, entry.waitlist);
}
