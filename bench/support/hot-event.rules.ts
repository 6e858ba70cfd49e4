/**
 * The arithmetic of the hot-event bench (bench/support/hot-event.ts), apart so that it is tested
 * without a database (test/bench/rules.test.ts): what a registration charges each partition key
 * it writes, the ceiling that follows for one event, and how a run's outcome is read.
 */

/** Write units (WCU) per registration, by outcome. */
export interface PerRegistration {
  readonly confirmed: number;
  readonly waitlisted: number;
}

/**
 * What one registration writes to one kind of partition key, as events.registrations.dynamo.ts
 * commits it, every item ≤ 1 KB (a transactional write is 2 WCU per KB, a plain write or an index
 * entry 1).
 */
export interface KeyCharge {
  /** The key as it reads in the table, `<id>` for the event's id. */
  readonly key: string;
  readonly why: string;
  /** How many partition keys of this kind one event's registrations are spread over. */
  readonly keys: (shards: number) => number;
  /** Whether an event of this many shards writes the key at all (undefined: every event). */
  readonly writtenWith?: (shards: number) => boolean;
  /** As the partition simulation charges them: what a simulated run is held to. */
  readonly simulated: PerRegistration;
  /**
   * As DynamoDB charges them, where that is more: writes the simulation does not model
   * (docs/decisions/partition-simulation.md, *Not modelled*).
   */
  readonly dynamodb?: PerRegistration;
}

/**
 * The keys whose ceiling one event's registrations share (keys per user or per domain event are
 * not: each registration has its own). When sharding changes which keys an event's registrations
 * write, this is the table to change; the bench prints the keys the simulation saw beside it.
 */
export const REGISTRATION_CHARGES: readonly KeyCharge[] = [
  {
    key: 'events EVENT#<id>',
    why:
      "the transaction's update of the event item and put of the row (2 × 2 WCU); a waitlist " +
      'join first takes its ticket with a plain update of the event item (+1); on DynamoDB the ' +
      "row's lsi1 entry too (+1, in the same partition; not simulated). Sharded: the same on " +
      "each EVENT#<id>#S<ss>, its shard counter's update and the row's put",
    keys: (shards) => shards,
    simulated: { confirmed: 4, waitlisted: 5 },
    dynamodb: { confirmed: 5, waitlisted: 6 },
  },
  {
    key: 'events/gsi3 TICKETS#<id>',
    why: "a confirmed row's entry in the ticket index (1 WCU); sharded, its shard's TICKETS#<id>#<ss>",
    keys: (shards) => shards,
    simulated: { confirmed: 1, waitlisted: 0 },
  },
  {
    key: 'events/gsi1 STATUS#active',
    why:
      'on DynamoDB only: each update of the event item rewrites its entry (projection ALL), a ' +
      'key every event on sale shares (not simulated: the layer charges an index only when an ' +
      "update sets its key); a sharded event's registrations never write its item",
    keys: () => 1,
    writtenWith: (shards) => shards === 1,
    simulated: { confirmed: 0, waitlisted: 0 },
    dynamodb: { confirmed: 1, waitlisted: 2 },
  },
  {
    key: 'events/gsi2 EVENTS',
    why: 'the same for the list of every event (not simulated)',
    keys: () => 1,
    writtenWith: (shards) => shards === 1,
    simulated: { confirmed: 0, waitlisted: 0 },
    dynamodb: { confirmed: 1, waitlisted: 2 },
  },
  {
    key: 'domain-events/gsi1 PENDING#<0-7>',
    why: "the announcement's entry in the outbox's pending index, spread over 8 keys (1 WCU)",
    keys: () => 8,
    simulated: { confirmed: 1, waitlisted: 1 },
  },
  {
    key: 'domain-events/gsi2 DAY#<date>#<0-7>',
    why: "the announcement's entry in the outbox's day index, spread over 8 keys (1 WCU)",
    keys: () => 8,
    simulated: { confirmed: 1, waitlisted: 1 },
  },
];

export interface Mix {
  readonly confirmed: number;
  readonly waitlisted: number;
}

export interface KeyCeiling {
  readonly key: string;
  /** WCU one registration of this mix charges one key of this kind, on average. */
  readonly wcuPerRegistration: number;
  /** Registrations per second the keys of this kind take together. */
  readonly registrationsPerSecond: number;
}

/**
 * The most registrations per second one event takes when every key has `keyWcuPerSecond`: for
 * each kind of key, its keys' units over what a registration of this mix charges one of them;
 * the lowest binds. `billing`: the charges as simulated, or as DynamoDB bills them.
 */
export function registrationCeiling(
  keyWcuPerSecond: number,
  shards: number,
  mix: Mix,
  options: {
    readonly billing?: 'simulated' | 'dynamodb';
    readonly charges?: readonly KeyCharge[];
  } = {},
): { readonly perKey: readonly KeyCeiling[]; readonly binding: KeyCeiling } {
  const { billing = 'simulated', charges = REGISTRATION_CHARGES } = options;
  const total = mix.confirmed + mix.waitlisted;
  if (total <= 0) throw new RangeError('a mix of no registrations has no ceiling');
  const perKey = charges.map((charge) => {
    const keys = charge.keys(shards);
    const cost = billing === 'dynamodb' ? (charge.dynamodb ?? charge.simulated) : charge.simulated;
    const written = charge.writtenWith?.(shards) ?? true;
    const units = written
      ? (mix.confirmed * cost.confirmed + mix.waitlisted * cost.waitlisted) / total
      : 0;
    return {
      key: charge.key,
      wcuPerRegistration: units / keys,
      registrationsPerSecond:
        units > 0 ? (keyWcuPerSecond * keys) / units : Number.POSITIVE_INFINITY,
    };
  });
  const binding = perKey.reduce((low, next) =>
    next.registrationsPerSecond < low.registrationsPerSecond ? next : low,
  );
  return { perKey, binding };
}

/**
 * The largest scale 1/N (N whole) at which a simulated ceiling of `ceiling` registrations/s,
 * found at `scale`, stays within `share` of what DynamoDB Local commits alone (`localRate`):
 * above it, a run measures DynamoDB Local rather than the simulation. Ceilings are proportional
 * to the scale.
 */
export function scaleWithin(ceiling: number, scale: number, localRate: number, share = 0.5) {
  const most = (scale * share * localRate) / ceiling;
  return 1 / Math.ceil(1 / most - 1e-9);
}

/**
 * Seats left unsold while someone wanted one: people wait, were told the event is full (an event
 * without a waitlist), or were never placed. With fewer people than seats, empty seats are no
 * fault of the event's.
 */
export function unsoldSeats(outcome: {
  readonly capacity: number;
  readonly confirmed: number;
  readonly waitlisted: number;
  readonly unplaced: number;
  readonly toldFull?: number;
}): number {
  const wanted = outcome.waitlisted > 0 || outcome.unplaced > 0 || (outcome.toldFull ?? 0) > 0;
  return wanted ? Math.max(0, outcome.capacity - outcome.confirmed) : 0;
}

/** Rows beyond the first for each user: a user holds at most one registration per event. */
export function duplicateRows(userIds: readonly string[]): number {
  return userIds.length - new Set(userIds).size;
}

/**
 * Whether a client tries an answer again: no answer, a 5xx or 429, or a 409 with Retry-After (the
 * same Idempotency-Key still held by an earlier attempt). Anything else is final.
 */
export function retryable(answer: {
  readonly status: number | 'transport';
  readonly retryAfter: string | null;
}): boolean {
  const { status, retryAfter } = answer;
  return (
    status === 'transport' ||
    status >= 500 ||
    status === 429 ||
    (status === 409 && retryAfter !== null)
  );
}

/**
 * How long a client waits before trying again: what `Retry-After` asks (delay-seconds or an
 * HTTP date) and up to half of it more, so that clients told the same second don't all come
 * back in it; without one, exponential backoff with full jitter (100 ms doubling, capped at 5 s).
 * `random` in [0, 1).
 */
export function retryDelayMs(
  retryAfter: string | null,
  attempt: number,
  random: number,
  now: number = Date.now(),
): number {
  const asked = retryAfterMs(retryAfter, now);
  if (asked !== undefined) return asked * (1 + 0.5 * random);
  return Math.min(5_000, 100 * 2 ** attempt) * random;
}

function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** `--name=a,b` as numbers (`1/20` allowed), or `fallback` when absent; a bad value throws. */
export function numbersArg(
  argv: readonly string[],
  name: string,
  fallback: readonly number[],
): number[] {
  const raw = argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (raw === undefined) return [...fallback];
  return raw.split(',').map((part) => {
    const [top, bottom] = part.split('/');
    const value = bottom === undefined ? Number(top) : Number(top) / Number(bottom);
    if (part.trim() === '' || !Number.isFinite(value) || value <= 0) {
      throw new Error(`--${name}=${raw}: "${part}" is not a positive number`);
    }
    return value;
  });
}

/** `--simulate=on|off|on,off`: which runs, simulated or not, in that order. */
export function simulateArg(argv: readonly string[]): boolean[] {
  const raw = argv.find((arg) => arg.startsWith('--simulate='))?.slice('--simulate='.length);
  if (raw === undefined) return [true, false];
  return raw.split(',').map((part) => {
    if (part === 'on') return true;
    if (part === 'off') return false;
    throw new Error(`--simulate=${raw}: each must be "on" or "off"`);
  });
}

/**
 * `--waitlist=on|off`: whether the event takes a waitlist; by default it does, sharded or not
 * (users past the capacity join it).
 */
export function waitlistArg(argv: readonly string[]): boolean {
  const raw = argv.find((arg) => arg.startsWith('--waitlist='))?.slice('--waitlist='.length);
  if (raw === undefined || raw === 'on') return true;
  if (raw === 'off') return false;
  throw new Error(`--waitlist=${raw}: must be "on" or "off"`);
}

/**
 * `--admission=off|<share>`: whether a simulated sharded run's event has its waiting room on,
 * admitting `share` (0–1] of the run's simulated ceiling each second — what an operator sets from
 * the ceiling's arithmetic for the event's shards, or from what it measured them to take. Off by
 * default; the 1-shard run never has one (it shows the ceiling).
 */
export function admissionArg(argv: readonly string[]): number | undefined {
  const raw = argv.find((arg) => arg.startsWith('--admission='))?.slice('--admission='.length);
  if (raw === undefined || raw === 'off') return undefined;
  const share = Number(raw);
  if (!(share > 0 && share <= 1)) {
    throw new Error(`--admission=${raw}: must be "off" or a share of the ceiling in (0, 1]`);
  }
  return share;
}

/**
 * The waiting room's rate for a share of a ceiling (registrations/s): whole positions a second, as
 * the event takes it, at least 1.
 */
export function admissionRate(ceilingPerSecond: number, share: number): number {
  return Math.max(1, Math.floor(ceilingPerSecond * share));
}

/** How far an order departs from another: see `orderInversions`. */
export interface Inversions {
  /** Entries compared. */
  readonly waiting: number;
  /** Pairs whose lower ticket was seen later (ties are not inverted). */
  readonly inverted: number;
  /** The most time by which a lower ticket was seen after a higher one, in `at`'s unit. */
  readonly largestMs: number;
  /** The most places, in ticket order, between the two of an inverted pair. */
  readonly largestPlaces: number;
}

/**
 * The waitlist's order (by ticket: the order promotions take) against the order its joins were
 * seen (`at`, e.g. when each join's 201 came back). A pair is inverted when the lower ticket was
 * seen strictly later. O(n log n): a merge sort counts the pairs; for the largest gaps, the
 * running maximum of `at` in ticket order is non-decreasing, so the earliest entry seen after a
 * given one is found by binary search.
 */
export function orderInversions(
  entries: readonly { readonly ticket: number; readonly at: number }[],
): Inversions {
  const times = [...entries].sort((a, b) => a.ticket - b.ticket).map((entry) => entry.at);
  let largestMs = 0;
  let largestPlaces = 0;
  const runningMax: number[] = [];
  for (const [j, at] of times.entries()) {
    const most = j > 0 ? (runningMax[j - 1] as number) : Number.NEGATIVE_INFINITY;
    if (most > at) {
      largestMs = Math.max(largestMs, most - at);
      let low = 0;
      let high = j - 1;
      while (low < high) {
        const middle = (low + high) >> 1;
        if ((runningMax[middle] as number) > at) high = middle;
        else low = middle + 1;
      }
      largestPlaces = Math.max(largestPlaces, j - low);
    }
    runningMax.push(Math.max(most, at));
  }
  return { waiting: times.length, inverted: countInverted(times), largestMs, largestPlaces };
}

/**
 * Joins that overtook one already answered: pairs where the lower ticket's request was sent
 * strictly after the higher ticket's answer came back. Requests that overlapped may commit in
 * either order, so `orderInversions` counts noise a client could not tell; these pairs are the
 * departure from first come, first served that no concurrency explains. `largestMs`: the most
 * time between that answer and that sending. O(n²) over the waiting, a few thousand at most.
 */
export function overtakes(
  entries: readonly { readonly ticket: number; readonly sent: number; readonly answered: number }[],
): Inversions {
  const byTicket = [...entries].sort((a, b) => a.ticket - b.ticket);
  let inverted = 0;
  let largestMs = 0;
  let largestPlaces = 0;
  for (const [i, lower] of byTicket.entries()) {
    for (let j = i + 1; j < byTicket.length; j++) {
      const gap = lower.sent - (byTicket[j] as (typeof byTicket)[number]).answered;
      if (gap <= 0) continue;
      inverted++;
      largestMs = Math.max(largestMs, gap);
      largestPlaces = Math.max(largestPlaces, j - i);
    }
  }
  return { waiting: byTicket.length, inverted, largestMs, largestPlaces };
}

/** Pairs i < j with values[i] > values[j], by merge sort. */
function countInverted(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const middle = values.length >> 1;
  const left = [...values.slice(0, middle)].sort((a, b) => a - b);
  const right = [...values.slice(middle)].sort((a, b) => a - b);
  let across = 0;
  let l = 0;
  for (const value of right) {
    while (l < left.length && (left[l] as number) <= value) l++;
    across += left.length - l;
  }
  return countInverted(values.slice(0, middle)) + countInverted(values.slice(middle)) + across;
}

/**
 * Seats freed while people waited go to the lowest tickets: with `promoted` users confirmed from
 * the waitlist, each should be one of the lowest `promoted.length` tickets of `waiting` (the
 * waitlist before). `outOfOrder`: the promoted users who were not (or were not waiting at all),
 * or the users owed a seat who went without, whichever is more.
 */
export function promotionOrder(
  waiting: readonly { readonly userId: string; readonly ticket: number }[],
  promoted: readonly string[],
): { readonly promoted: number; readonly outOfOrder: number } {
  const owed = new Set(
    [...waiting]
      .sort((a, b) => a.ticket - b.ticket)
      .slice(0, promoted.length)
      .map((entry) => entry.userId),
  );
  const given = new Set(promoted);
  // A user promoted twice over counts too: someone owed a seat then went without.
  const skipped = [...owed].filter((user) => !given.has(user)).length;
  const strays = promoted.filter((user) => !owed.has(user)).length;
  return { promoted: promoted.length, outOfOrder: Math.max(skipped, strays) };
}
