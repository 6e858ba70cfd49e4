import type { AppError } from '../../platform/errors.js';
import { EventsErrors } from './events.errors.js';
import {
  type Created,
  type Event,
  type EventChanges,
  openStatuses,
  type Registration,
  type RequestKey,
} from './events.model.js';
import { freeSeats, offersOpen, type SeatPass, seatsToPass } from './events.offers.rules.js';

/**
 * The registration rules (docs/spec.md#registration-rules) as pure decisions. The service reads, asks these,
 * then commits; the repository's conditions make the commit fail if the data changed between the
 * read and the write, and the service decides again on what it finds. No I/O here.
 */

/**
 * Seats that are free while people wait and can pass to them now: what a promotion must fill
 * (rule 4) — in offer mode, as offers, no more than the event's batch out at once.
 */
export function promotable(event: Event, now?: Date): number {
  return seatsToPass(event, now).count;
}

export type RegistrationDecision =
  | { readonly kind: 'confirm' }
  | { readonly kind: 'waitlist' }
  /** Seats are free while people wait (a crash between promotion batches): fill them first. */
  | { readonly kind: 'fill-seats' }
  /** Its seats are on shard counters: decided by `decideSharded` on its shards. */
  | { readonly kind: 'sharded' }
  | {
      readonly kind: 'refuse';
      readonly reason: 'event-not-found' | 'event-closed' | 'event-full';
    };

/**
 * What a registration should do given the event as last seen. `unknown` (nothing read yet) tries
 * a seat — or the waitlist, when this process recently saw the event full (`seenFull`): the
 * commit's conditions check the guess, and a failure returns the event to decide again.
 */
export function decideRegistration(
  event: Event | undefined | 'unknown',
  seenFull = false,
  now?: Date,
): RegistrationDecision {
  if (event === 'unknown') return seenFull ? { kind: 'waitlist' } : { kind: 'confirm' };
  if (!event) return { kind: 'refuse', reason: 'event-not-found' };
  if (!openStatuses.includes(event.status)) return { kind: 'refuse', reason: 'event-closed' };
  // Its item holds no counters: what its shards hold decides (events.shards.rules.ts).
  if ((event.shards ?? 1) > 1) return { kind: 'sharded' };
  if (promotable(event, now) > 0) return { kind: 'fill-seats' };
  const free = freeSeats(event);
  // Free seats while people wait, none of them passable now (offers out up to the batch): they
  // are the waiting people's, so a newcomer joins the waitlist behind them.
  if (free > 0 && event.waitlistCount > 0) return { kind: 'waitlist' };
  if (free > 0) return { kind: 'confirm' };
  if (event.hasWaitlist) return { kind: 'waitlist' };
  return { kind: 'refuse', reason: 'event-full' };
}

export interface RefusalFacts {
  readonly eventId: string;
  readonly userId: string;
  readonly event: Event | undefined;
  readonly userExists: boolean;
  readonly alreadyRegistered: boolean;
}

/**
 * Which error wins when a registration is refused for several reasons at once: an unknown event,
 * then a closed one, then an unknown user, then a second registration, then a full event.
 * Undefined when none applies (the commit should be tried again) — and for a sharded event once
 * the first four don't: its item holds no counters, its shards tell whether it is full.
 */
export function refusal(facts: RefusalFacts): AppError | undefined {
  const { event, eventId, userId } = facts;
  const byEvent = eventRefusal(eventId, event);
  if (byEvent || !event) return byEvent;
  if (!facts.userExists) return EventsErrors.userNotFound(userId);
  if (facts.alreadyRegistered) return EventsErrors.alreadyRegistered(eventId, userId);
  const decision = decideRegistration(event);
  if (decision.kind === 'refuse') return EventsErrors.eventFull(eventId);
  return undefined;
}

/**
 * The refusals the event alone decides — unknown, or closed — which win over every other (so
 * nothing else needs reading to answer them).
 */
export function eventRefusal(eventId: string, event: Event | undefined): AppError | undefined {
  if (!event) return EventsErrors.eventNotFound(eventId);
  if (!openStatuses.includes(event.status)) return EventsErrors.eventClosed(eventId, event.status);
  return undefined;
}

export type CapacityDecision =
  | { readonly ok: false; readonly error: AppError }
  /**
   * `next`: the event once changed (its version moved on), before any seat passes; `pass`: the
   * seats the change leaves free while people wait, and how they pass.
   */
  | { readonly ok: true; readonly next: Event; readonly pass: SeatPass };

/**
 * A partial update: a capacity below the seats taken (confirmed, and held by offers) is refused
 * (rule 1); raising it, or any change that leaves free seats while people wait, passes them on
 * (rule 4): promoted, or offered in offer mode.
 */
export function decideUpdate(current: Event, changes: EventChanges, now: Date): CapacityDecision {
  const capacity = changes.capacity ?? current.capacity;
  const taken = current.registeredCount + current.offeredCount;
  if (capacity < taken) {
    return {
      ok: false,
      error: EventsErrors.capacityBelowRegistered(
        current.eventId,
        capacity,
        current.registeredCount,
        current.offeredCount,
      ),
    };
  }
  const next: Event = {
    ...current,
    ...changes,
    updatedAt: now.toISOString(),
    version: current.version + 1,
  };
  return { ok: true, next, pass: seatsToPass(next, now) };
}

export type UnregisterDecision =
  /** A waitlisted user leaves: their ticket becomes a hole. */
  | { readonly kind: 'leave-waitlist' }
  /** A confirmed user leaves and someone waits: the seat passes to the head, atomically. */
  | { readonly kind: 'pass-seat' }
  /**
   * The seat is free: a confirmed user left and nobody waits — or, in offer mode, the seat is
   * offered to the next by a second transaction (see RegistrationsService.fillFreeSeats).
   */
  | { readonly kind: 'free-seat' }
  /** A user holding an offer leaves: the offer's seat is free, then passes on like any other. */
  | { readonly kind: 'end-offer' };

export function decideUnregister(
  registration: Registration,
  event: Event,
  now: Date,
): UnregisterDecision {
  if (registration.status === 'waitlisted') return { kind: 'leave-waitlist' };
  if (registration.status === 'offered') return { kind: 'end-offer' };
  if (offersOpen(event, now)) return { kind: 'free-seat' };
  return event.waitlistCount > 0 ? { kind: 'pass-seat' } : { kind: 'free-seat' };
}

/** A waiting registration once promoted at `now`: confirmed, off the waitlist, a version on. */
export function promotedRegistration(head: Registration, now: string): Registration {
  const { ticket: _, ...registration } = head;
  return { ...registration, status: 'confirmed', promotedAt: now, version: head.version + 1 };
}

/**
 * What a create answers: the item it made, or — the same request again, its answer lost (same
 * request key) — the item that request made; any other taker of the key is `conflict()`.
 */
export function createdOrRetried<T>(
  created: Created<T>,
  value: T,
  requestKey: RequestKey,
  conflict: () => Error,
): T {
  if (created.created) return value;
  if (requestKey !== undefined && created.requestKey === requestKey && created.existing) {
    return created.existing;
  }
  throw conflict();
}
