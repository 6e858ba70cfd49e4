import type { AppError } from '../../platform/errors.js';
import { EventsErrors } from './events.errors.js';
import {
  type Created,
  type Event,
  type EventChanges,
  openStatuses,
  type Registration,
  type RequestKey,
  type TicketRun,
  type Waitlist,
} from './events.model.js';

/**
 * The registration rules (SPEC, events 1–6) as pure decisions. The service reads, asks these,
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

/**
 * A waitlisted ticket's 1-based place: one more than the tickets before it that still hold a
 * place. A ticket holds its place from the moment it is issued until it leaves the waitlist, so
 * a join that took an earlier ticket and is still committing counts as ahead — it will be ahead
 * once it lands, and told positions don't repeat. A ticket at or below the frontier can only be
 * a join that committed just as a promotion passed it: it is at the head.
 */
export function waitlistPosition(ticket: number, waitlist: Waitlist): number {
  if (ticket <= waitlist.frontier) return 1;
  return ticket - waitlist.frontier - leftBetween(waitlist, waitlist.frontier, ticket);
}

/**
 * Tickets issued and never used: above the frontier, held by no waiting registration and not
 * recorded as left. A join takes its ticket, then commits with it; a process that died in between
 * left its ticket counted by every place behind it. `held`: the tickets of the waiting
 * registrations.
 */
export function unusedTickets(waitlist: Waitlist, held: readonly number[]): number[] {
  const accounted = new Set([...held, ...waitlist.holes]);
  const runs = waitlist.runs ?? [];
  const unused: number[] = [];
  for (let ticket = waitlist.frontier + 1; ticket <= waitlist.issued; ticket++) {
    const run = runHolding(runs, ticket);
    if (run) ticket = run[1];
    else if (!accounted.has(ticket)) unused.push(ticket);
  }
  return unused;
}

/** Whether more tickets count as waiting than people wait: some may be unused (see above). */
export function countsUnusedTickets(event: Pick<Event, 'waitlist' | 'waitlistCount'>): boolean {
  const { issued, frontier } = event.waitlist;
  return (
    issued - frontier - leftBetween(event.waitlist, frontier, issued + 1) > event.waitlistCount
  );
}

/**
 * The bookkeeping after promoting `promoted` (the lowest waiting tickets): the frontier moves to
 * the highest of them — every ticket below it has now left or will find, when it tries to commit,
 * that the frontier passed it (and joins again) — and holes it passed are no longer needed.
 */
export function afterPromotion(
  waitlist: Waitlist,
  promoted: readonly Registration[],
): { readonly frontier: number; readonly passedHoles: readonly number[] } {
  const frontier = Math.max(waitlist.frontier, ...promoted.map((r) => r.ticket ?? 0));
  return { frontier, passedHoles: waitlist.holes.filter((h) => h <= frontier) };
}

/**
 * The bookkeeping as a change writes it, before it is folded: tickets that `left` (a waitlisted
 * user unregistered, a join gave back its ticket, the sweep found it unused) are recorded one by
 * one — a set addition, so concurrent changes never conflict over it — and `promoted` heads move
 * the frontier (see `afterPromotion`).
 */
export function waitlistAfter(
  waitlist: Waitlist,
  change: { readonly left?: readonly number[]; readonly promoted?: readonly Registration[] },
): Waitlist {
  const { frontier, passedHoles } = afterPromotion(waitlist, change.promoted ?? []);
  const passed = new Set(passedHoles);
  return {
    ...waitlist,
    frontier,
    holes: [...waitlist.holes.filter((hole) => !passed.has(hole)), ...(change.left ?? [])],
  };
}

/**
 * The bookkeeping folded, or undefined when it is already: the holes join the runs, what the
 * frontier passed is dropped, and the frontier moves over a run right above it (its tickets have
 * all left, which is what the frontier says). Runs are separated by tickets still held — waiting,
 * or taken by a join still committing, or unused until the sweep finds them — so after a fold
 * the bookkeeping is bounded by those, not by how many tickets ever left: when nobody waits and
 * nothing is in flight, it is the frontier alone, equal to the last ticket issued.
 */
export function compactWaitlist(waitlist: Waitlist): Waitlist | undefined {
  const { frontier, holes } = waitlist;
  const runs = waitlist.runs ?? [];
  const first = runs[0];
  if (holes.length === 0 && (!first || first[0] > frontier + 1)) return undefined;
  const pieces = [...runs, ...holes.map((hole): TicketRun => [hole, hole])]
    .map(([from, to]): TicketRun => [Math.max(from, frontier + 1), to])
    .filter(([from, to]) => from <= to)
    .sort((a, b) => a[0] - b[0]);
  const folded: [number, number][] = [];
  for (const [from, to] of pieces) {
    const last = folded.at(-1);
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else folded.push([from, to]);
  }
  const absorbed = folded[0]?.[0] === frontier + 1 ? folded.shift() : undefined;
  return {
    issued: waitlist.issued,
    frontier: absorbed ? absorbed[1] : frontier,
    holes: [],
    runs: folded,
  };
}

/** How many tickets strictly between `after` and `before` left (each counted once). */
function leftBetween(waitlist: Waitlist, after: number, before: number): number {
  const runs = waitlist.runs ?? [];
  let left = 0;
  for (const [first, last] of runs) {
    const from = Math.max(first, after + 1);
    const to = Math.min(last, before - 1);
    if (from <= to) left += to - from + 1;
  }
  for (const hole of new Set(waitlist.holes)) {
    if (hole > after && hole < before && !runHolding(runs, hole)) left++;
  }
  return left;
}

/** The run that holds `ticket`, if any (runs are sorted and apart: a binary search). */
function runHolding(runs: readonly TicketRun[], ticket: number): TicketRun | undefined {
  let low = 0;
  let high = runs.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const run = runs[middle] as TicketRun;
    if (ticket < run[0]) high = middle - 1;
    else if (ticket > run[1]) low = middle + 1;
    else return run;
  }
  return undefined;
}

export type CapacityDecision =
  | { readonly ok: false; readonly error: AppError }
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
  const next: Event = { ...current, ...changes, updatedAt: now };
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
