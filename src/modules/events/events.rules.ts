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

/**
 * The registration rules (docs/spec.md#registration-rules) as pure decisions. The service reads, asks these,
 * then commits; the repository's conditions make the commit fail if the data changed between the
 * read and the write, and the service decides again on what it finds. No I/O here.
 */

/** Seats that are free while people wait: what a promotion must fill (rule 4). */
export function promotable(event: Pick<Event, 'capacity' | 'registeredCount' | 'waitlistCount'>) {
  return Math.max(0, Math.min(event.capacity - event.registeredCount, event.waitlistCount));
}

export type RegistrationDecision =
  | { readonly kind: 'confirm' }
  | { readonly kind: 'waitlist' }
  /** Seats are free while people wait (a crash between promotion batches): fill them first. */
  | { readonly kind: 'fill-seats' }
  | { readonly kind: 'refuse'; readonly reason: 'event-not-found' | 'event-closed' | 'event-full' };

/**
 * What a registration should do given the event as last seen. `unknown` (nothing read yet) tries
 * a seat — or the waitlist, when this process recently saw the event full (`seenFull`): the
 * commit's conditions check the guess, and a failure returns the event to decide again.
 */
export function decideRegistration(
  event: Event | undefined | 'unknown',
  seenFull = false,
): RegistrationDecision {
  if (event === 'unknown') return seenFull ? { kind: 'waitlist' } : { kind: 'confirm' };
  if (!event) return { kind: 'refuse', reason: 'event-not-found' };
  if (!openStatuses.includes(event.status)) return { kind: 'refuse', reason: 'event-closed' };
  if (promotable(event) > 0) return { kind: 'fill-seats' };
  if (event.registeredCount < event.capacity) return { kind: 'confirm' };
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
 * Undefined when none applies (the commit should be tried again).
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
  /** `next`: the event once changed (its version moved on), before any promotion. */
  | { readonly ok: true; readonly next: Event; readonly promote: number };

/**
 * A partial update: a capacity below the confirmed count is refused (rule 1); raising it, or any
 * change that leaves free seats while people wait, promotes that many (rule 4).
 */
export function decideUpdate(current: Event, changes: EventChanges, now: string): CapacityDecision {
  const capacity = changes.capacity ?? current.capacity;
  if (capacity < current.registeredCount) {
    return {
      ok: false,
      error: EventsErrors.capacityBelowRegistered(
        current.eventId,
        capacity,
        current.registeredCount,
      ),
    };
  }
  const next: Event = { ...current, ...changes, updatedAt: now, version: current.version + 1 };
  return { ok: true, next, promote: promotable(next) };
}

export type UnregisterDecision =
  /** A waitlisted user leaves: their ticket becomes a hole. */
  | { readonly kind: 'leave-waitlist' }
  /** A confirmed user leaves and someone waits: the seat passes to the head, atomically. */
  | { readonly kind: 'pass-seat' }
  /** A confirmed user leaves and nobody waits: the seat is free. */
  | { readonly kind: 'free-seat' };

export function decideUnregister(registration: Registration, event: Event): UnregisterDecision {
  if (registration.status === 'waitlisted') return { kind: 'leave-waitlist' };
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
