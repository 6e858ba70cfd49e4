import type { Event, Registration, TicketRun, Waitlist } from './events.model.js';

/*
 * The waitlist's order, as pure decisions. A join takes a ticket (1, 2, 3… per event, never the
 * same twice) and waits under it; the frontier says every ticket at or below it has left; the
 * tickets above it that left are holes (recorded one by one) and runs (what a fold makes of
 * them). A ticket's place counts the tickets before it that still hold one. See
 * docs/decisions/events-data-model.md, "Join order and waitlist positions".
 */

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

/**
 * Runs of tickets that left, as one string: `3-5,9,12-40` (a string, so a fold's condition can
 * compare it whole; the same runs always give the same string).
 */
export function encodeRuns(runs: readonly TicketRun[]): string {
  return runs.map(([first, last]) => (first === last ? `${first}` : `${first}-${last}`)).join(',');
}

export function decodeRuns(encoded: unknown): TicketRun[] {
  if (typeof encoded !== 'string' || encoded === '') return [];
  return encoded.split(',').map((run): TicketRun => {
    const [first, last = first] = run.split('-').map(Number) as [number, number?];
    return [first, last];
  });
}
