import { Coalescer } from '../../platform/coalesce.js';
import type { ModuleMetrics } from '../../platform/metrics/metrics.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Timers } from '../../platform/timers/timers.js';
import { registrationAnnouncement } from './events.announcements.rules.js';
import { EventsErrors } from './events.errors.js';
import type { Event, Registration } from './events.model.js';
import type {
  DueOffer,
  OfferCommit,
  OfferRepository,
  OfferRow,
} from './events.offers.repository.js';
import {
  acceptedRegistration,
  endedOffer,
  offerIdOf,
  seatsToPass,
  shown,
} from './events.offers.rules.js';
import type { EventRepository } from './events.repository.js';

export interface OffersServiceDeps {
  readonly offers: OfferRepository;
  readonly events: EventRepository;
  /**
   * Passes on the seats an ended offer frees, and makes the offers an accept leaves room for
   * (RegistrationsService: seats pass to the waitlist there, whatever freed them).
   */
  readonly registrations: SeatPassing;
  /** The module's offer key: what a token's MAC is checked against. */
  readonly offerKey: Buffer;
  readonly clock: () => Date;
  readonly outbox: Outbox;
  /** OfferAccepted, OfferDeclined, OfferExpired, OfferSweepDeferred (an event the sweep left for its next run). */
  readonly metrics: ModuleMetrics;
  /** Offer deadlines (set again at start-up for the offers out). */
  readonly timers: Timers;
}

export interface SeatPassing {
  /** Passes on seats a committed change freed; never throws (the sweeps pick up a failure). */
  passFreedSeats(eventId: string): Promise<unknown>;
  /** Passes free seats to the waitlist while any are free and people wait. */
  fillFreeSeats(eventId: string): Promise<unknown>;
}

/** An offer as the attendee's link shows it. */
export interface OfferView {
  readonly status: 'offered' | 'accepted' | 'declined' | 'expired';
  readonly event: Event;
  readonly registration: Registration;
  /** When it was accepted, declined or lapsed. */
  readonly decidedAt: string | undefined;
}

/** What a timer's message carries (the body `RegistrationsService` sets). */
export interface OfferTimer {
  readonly eventId: string;
  readonly userId: string;
  readonly offerId: string;
}

/** Due offers read per page of the expiry index by the sweep. */
const SWEEP_PAGE = 100;
const MAX_ATTEMPTS = 25;
/** Offers lapsed in one transaction: the event and 2 items per offer (row, announcement). */
const LAPSES_PER_TRANSACTION = 32;
/**
 * The same on a sharded event: 3 items per offer (row, guard, announcement), a counter per shard
 * touched and the waitlist item.
 */
const SHARD_LAPSES_PER_TRANSACTION = 16;

/**
 * Offers, once made: accepted or declined by the attendee (through the token) or the organiser
 * (through the API), or lapsed at their deadline (a timer, and a sweep over the expiry index as
 * the backstop). Every end passes the freed seat on. Each commit's conditions hold the decision:
 * an accept before the deadline only, a lapse at or after it only.
 */
export class OffersService {
  /** One lapse pass per event at a time in this process; calls meanwhile share the next. */
  private readonly lapsing = new Coalescer((eventId) => this.lapseDue(eventId));

  constructor(private readonly deps: OffersServiceDeps) {}

  /** The offer a token names, as it is now; 404 for a forged, altered or orphaned token. */
  async view(token: string): Promise<OfferView> {
    const { registration, offerId } = await this.byToken(token);
    return this.viewOf(shown(registration), offerId);
  }

  /** Accepts through the attendee's link. */
  async accept(token: string): Promise<OfferView> {
    const { registration, offerId } = await this.byToken(token);
    return this.viewOf(await this.acceptOffer(registration, offerId), offerId);
  }

  /** Declines through the attendee's link: the seat goes to the next. */
  async decline(token: string): Promise<OfferView> {
    const { registration, offerId } = await this.byToken(token);
    return this.viewOf(await this.declineOffer(registration, offerId), offerId);
  }

  /** The organiser accepts for the user (their current offer). */
  async acceptFor(eventId: string, userId: string): Promise<Registration> {
    const registration = await this.current(eventId, userId);
    return this.acceptOffer(registration, registration.offerId);
  }

  /** The organiser declines for the user (their current offer). */
  async declineFor(eventId: string, userId: string): Promise<Registration> {
    const registration = await this.current(eventId, userId);
    return this.declineOffer(registration, registration.offerId);
  }

  /**
   * Lapses an offer whose deadline has passed, passing its seat on. Idempotent: an offer already
   * settled (or whose event is gone or being deleted), or not due yet (a timer that fired early by
   * another clock), is left as it is. The event's other due offers lapse with it, in one pass per
   * event at a time (`lapseDue`).
   */
  async lapse({ eventId, userId, offerId }: OfferTimer): Promise<'lapsed' | 'settled' | 'not-due'> {
    // Timers fire at deadlines: the pass is what nearly every one needs, so it goes first — the
    // one under way, which may have lapsed this offer already, else the next.
    const underWay = this.lapsing.current(eventId);
    if (underWay && (await underWay.catch(() => undefined))?.has(offerId)) return 'lapsed';
    if ((await this.lapsing.run(eventId)).has(offerId)) return 'lapsed';
    const registration = await this.deps.offers.registration(eventId, userId);
    if (registration?.status !== 'offered' || registration.offerId !== offerId) return 'settled';
    const due = this.deps.clock().toISOString() >= (registration.offerExpiresAt as string);
    // Due, yet still out: the event is gone or being deleted (settled), or it changed under the
    // pass at every try (busy: the message is tried again).
    if (due && (await this.deps.events.getEvent(eventId))) throw EventsErrors.busy();
    return due ? 'settled' : 'not-due';
  }

  /**
   * Lapses every offer past its deadline (the timers' backstop), one pass per event; with `rearm`
   * (local start-up: timers died with the process) sets a timer again for every offer still out.
   * An event that fails is left to the next run, not allowed to stop this one.
   */
  async sweep(options: { rearm: boolean }): Promise<{ lapsed: number; rearmed: number }> {
    let lapsed = 0;
    const visited = new Set<string>();
    for await (const page of this.deps.offers.dueOffers(
      this.deps.clock().toISOString(),
      SWEEP_PAGE,
    )) {
      for (const { eventId } of page) {
        if (visited.has(eventId)) continue;
        visited.add(eventId);
        try {
          lapsed += (await this.lapsing.run(eventId)).size;
        } catch {
          this.deps.metrics.count('OfferSweepDeferred');
        }
      }
    }
    let rearmed = 0;
    if (options.rearm) {
      for await (const page of this.deps.offers.pendingOffers()) {
        await Promise.all(page.map((offer) => this.setTimer(offer)));
        rearmed += page.length;
      }
    }
    return { lapsed, rearmed };
  }

  /**
   * One pass over an event's offers out: those past their deadline lapse together, a transaction
   * per LAPSES_PER_TRANSACTION, and their seats pass on in one fill. Lapsing each offer by itself
   * would have each pass race the others' counter changes (the fill's condition): offers of one
   * event lapse together whenever a batch of them was made together. Returns the offers lapsed.
   */
  private async lapseDue(eventId: string): Promise<Set<string>> {
    const lapsed = new Set<string>();
    for (let failures = 0; failures < MAX_ATTEMPTS; ) {
      const now = this.deps.clock().toISOString();
      const out = await this.deps.offers.offersOut(eventId);
      const perTransaction =
        out[0]?.shard === undefined ? LAPSES_PER_TRANSACTION : SHARD_LAPSES_PER_TRANSACTION;
      const due = out
        .filter((offered) => (offered.offerExpiresAt as string) <= now)
        .slice(0, perTransaction);
      if (due.length === 0) break;
      const announced = due.map((offered) =>
        this.announce('registration.offer_expired', endedOffer(offered, 'expired', now), now),
      );
      const outcome = await this.deps.offers.lapseAll(due, now, announced);
      // Gone, or being deleted: nothing of it is passed on any more.
      if (outcome === 'absent') return lapsed;
      if (outcome === 'changed') {
        failures++;
        continue;
      }
      this.deps.metrics.count('OfferExpired', due.length);
      await this.deps.outbox.announce(announced);
      for (const offered of due) lapsed.add(offered.offerId as string);
    }
    if (lapsed.size > 0) await this.deps.registrations.passFreedSeats(eventId);
    return lapsed;
  }

  /** Passes on seats left free while people wait (a crash between a change and its pass). */
  async fillStrandedSeats(events: AsyncIterable<Event[]>): Promise<number> {
    let filled = 0;
    for await (const page of events) {
      for (const event of page) {
        // A sharded event with seats free and nobody waiting may hold its sold-out latch after
        // a crash between a seat freed and its reopening: fillFreeSeats clears it.
        const reopen = (event.shards ?? 1) > 1 && event.waitlistCount === 0 && hasFreeSeat(event);
        if (seatsToPass(event, this.deps.clock()).count === 0 && !reopen) continue;
        await this.deps.registrations.fillFreeSeats(event.eventId);
        filled++;
      }
    }
    return filled;
  }

  private setTimer(offer: DueOffer): Promise<void> {
    const { eventId, userId, offerId, offerExpiresAt } = offer;
    return this.deps.timers
      .set(offerId, new Date(offerExpiresAt), JSON.stringify({ eventId, userId, offerId }))
      .catch(() => undefined);
  }

  private async acceptOffer(found: OfferRow, offerId: string | undefined): Promise<Registration> {
    let registration: OfferRow | undefined = found;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!registration || registration.offerId !== offerId) throw EventsErrors.offerNotFound();
      const { eventId, userId } = registration;
      // The same accept again (a retry, a double click): its answer again.
      if (registration.status === 'confirmed') return shown(registration);
      if (registration.status === 'declined') throw EventsErrors.offerDeclined();
      const deadline = registration.offerExpiresAt as string;
      if (registration.status === 'expired') throw EventsErrors.offerExpired(deadline);
      if (registration.status !== 'offered') throw EventsErrors.offerNotFound();
      const now = this.deps.clock().toISOString();
      if (now >= deadline) {
        // Late: refused — and the seat passes on now rather than when the timer fires.
        await this.lapse({ eventId, userId, offerId: registration.offerId as string }).catch(
          () => undefined,
        );
        throw EventsErrors.offerExpired(deadline);
      }
      const accepted = acceptedRegistration(registration, now);
      const announced = this.announce('registration.promoted', accepted, now);
      const outcome = await this.deps.offers.accept(registration, now, announced);
      if (outcome.ok) {
        this.deps.metrics.count('OfferAccepted');
        await this.deps.outbox.announce([announced]);
        // Its slot in the batch is free: the next seat waiting for one is offered.
        await this.deps.registrations.passFreedSeats(eventId);
        return accepted;
      }
      if (outcome.event !== 'unchanged') {
        if (outcome.event === 'absent') throw EventsErrors.offerNotFound();
        throw EventsErrors.eventClosed(eventId, outcome.event.status);
      }
      registration = outcome.registration;
    }
    throw EventsErrors.busy();
  }

  private async declineOffer(found: OfferRow, offerId: string | undefined): Promise<Registration> {
    let registration: OfferRow | undefined = found;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!registration || registration.offerId !== offerId) throw EventsErrors.offerNotFound();
      if (registration.status === 'declined') return shown(registration);
      if (registration.status === 'confirmed') throw EventsErrors.offerAccepted();
      const deadline = registration.offerExpiresAt as string;
      if (registration.status === 'expired') throw EventsErrors.offerExpired(deadline);
      if (registration.status !== 'offered') throw EventsErrors.offerNotFound();
      const now = this.deps.clock().toISOString();
      if (now >= deadline) throw EventsErrors.offerExpired(deadline);
      const outcome = await this.end(registration, 'declined', now);
      if (outcome.ok) return endedOffer(registration, 'declined', now);
      if (outcome.event === 'absent') throw EventsErrors.offerNotFound();
      registration = outcome.registration;
    }
    throw EventsErrors.busy();
  }

  /** Ends an offer (declined or lapsed), announces it, and passes its seat on. */
  private async end(
    offered: OfferRow,
    outcome: 'declined' | 'expired',
    now: string,
  ): Promise<OfferCommit> {
    const ended = endedOffer(offered, outcome, now);
    const type =
      outcome === 'declined' ? 'registration.offer_declined' : 'registration.offer_expired';
    const announced = this.announce(type, ended, now);
    const result = await this.deps.offers.end(offered, outcome, now, announced);
    if (result.ok) {
      this.deps.metrics.count(outcome === 'declined' ? 'OfferDeclined' : 'OfferExpired');
      await this.deps.outbox.announce([announced]);
      await this.deps.registrations.passFreedSeats(offered.eventId);
    }
    return result;
  }

  private announce(
    type: 'registration.promoted' | 'registration.offer_declined' | 'registration.offer_expired',
    registration: Registration,
    now: string,
  ): DomainEvent {
    const { aggregate, data } = registrationAnnouncement(type, registration);
    return this.deps.outbox.event(type, aggregate, data, now);
  }

  /** The registration holding the offer a genuine token names, and the offer's id. */
  private async byToken(token: string): Promise<{ registration: OfferRow; offerId: string }> {
    const offerId = offerIdOf(this.deps.offerKey, token);
    if (!offerId) throw EventsErrors.offerNotFound();
    const registration = await this.deps.offers.findOffer(offerId);
    // Gone with its event, or replaced by a later registration of the same user.
    if (!registration || registration.offerId !== offerId) throw EventsErrors.offerNotFound();
    return { registration, offerId };
  }

  /** The user's registration for the event, which must hold an offer (organiser's actions). */
  private async current(eventId: string, userId: string): Promise<OfferRow> {
    const registration = await this.deps.offers.registration(eventId, userId);
    if (!registration) throw EventsErrors.registrationNotFound(eventId, userId);
    if (registration.offerId === undefined) {
      throw EventsErrors.notOffered(eventId, userId, registration.status);
    }
    return registration;
  }

  private async viewOf(registration: Registration, offerId: string): Promise<OfferView> {
    const event = await this.deps.events.getEvent(registration.eventId);
    if (!event || registration.offerId !== offerId) throw EventsErrors.offerNotFound();
    const now = this.deps.clock().toISOString();
    const deadline = registration.offerExpiresAt as string;
    switch (registration.status) {
      case 'confirmed':
        return { status: 'accepted', event, registration, decidedAt: registration.promotedAt };
      case 'declined':
        return { status: 'declined', event, registration, decidedAt: registration.declinedAt };
      case 'offered':
        return now < deadline
          ? { status: 'offered', event, registration, decidedAt: undefined }
          : { status: 'expired', event, registration, decidedAt: deadline };
      default:
        return { status: 'expired', event, registration, decidedAt: deadline };
    }
  }
}

const hasFreeSeat = (event: Event) => event.registeredCount + event.offeredCount < event.capacity;
