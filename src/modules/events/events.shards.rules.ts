import {
  type Event,
  MAX_SHARDS,
  openStatuses,
  type SeatMove,
  type ShardCounter,
  type ShardedView,
  type TicketBlock,
  type Waitlist,
} from './events.model.js';
import { promotable, type RegistrationDecision } from './events.rules.js';

/*
 * Sharded capacity as pure decisions (docs/decisions/sharded-capacity.md): an event created with
 * `shards: N` keeps its seats on N shard counters, each owning a slice of the capacity. Here: how
 * the capacity is split and re-split, how seats move between shards, which shard a registration
 * goes to, the registration id that carries its shard, ticket blocks, the merged order of the
 * shards' rows, the event summed from its shards, and the decision with the sold-out latch.
 */

export { MAX_SHARDS, type SeatMove, type ShardCounter, type ShardedView, type TicketBlock };

/** The event item's own fields: a sharded event item keeps no counters and no bookkeeping. */
export type EventSettings = Omit<
  Event,
  'registeredCount' | 'waitlistCount' | 'offeredCount' | 'waitlist'
>;

/** Whether an event keeps its seats on shard counters (an event item without `shards`: 1). */
export const isSharded = (event: Pick<Event, 'shards'>): boolean => (event.shards ?? 1) > 1;

/** Shard `i`'s slice at creation: ⌊C/N⌋, and one more for each of the first `C mod N`. */
export function initialSlices(capacity: number, shards: number): number[] {
  const base = Math.floor(capacity / shards);
  const extra = capacity % shards;
  return Array.from({ length: shards }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * What a capacity change adds to each shard's slice and free seats (in the counters' order), or
 * undefined when a cut is larger than the free seats read (rule 1: seats taken are never cut).
 * A raise adds ⌊d/N⌋ to every shard and the rest, one each, to the shards with the fewest free
 * seats. A cut takes one seat at a time from the shard with the most free seats (ties: the
 * lowest shard first), so the shards end as level as the cut allows.
 */
export function capacityDeltas(
  counters: readonly Pick<ShardCounter, 'freeSeats'>[],
  change: number,
): number[] | undefined {
  const n = counters.length;
  const free = counters.map((c) => c.freeSeats);
  if (change >= 0) {
    const deltas = free.map(() => Math.floor(change / n));
    for (const i of byFree(free, 'fewest').slice(0, change % n)) deltas[i] = (deltas[i] ?? 0) + 1;
    return deltas;
  }
  const cut = -change;
  if (free.reduce((a, b) => a + b, 0) < cut) return undefined;
  // The lowest level L such that cutting every shard down to L takes no more than the cut; the
  // rest comes one seat each from shards at L (there are more of them than seats left to cut).
  const above = (level: number) => free.reduce((sum, f) => sum + Math.max(0, f - level), 0);
  let low = 0;
  let high = Math.max(...free);
  while (low < high) {
    const middle = (low + high) >> 1;
    if (above(middle) <= cut) high = middle;
    else low = middle + 1;
  }
  const deltas = free.map((f) => (f > low ? low - f : 0));
  let rest = cut - above(low);
  for (let i = 0; i < n && rest > 0; i++) {
    if ((free[i] ?? 0) >= low) {
      deltas[i] = (deltas[i] ?? 0) - 1;
      rest--;
    }
  }
  return deltas;
}

/** Counter positions ordered by free seats, fewest or most first; ties keep the lowest first. */
function byFree(free: readonly number[], first: 'fewest' | 'most'): number[] {
  const sign = first === 'fewest' ? 1 : -1;
  return free.map((_, i) => i).sort((a, b) => sign * ((free[a] ?? 0) - (free[b] ?? 0)) || a - b);
}

/**
 * How many of the fullest shard's free seats a dry shard takes: half, rounded down, so the
 * source keeps the larger half. None when the fullest has fewer than 2 (a confirm goes straight
 * to a shard with a seat instead) — except for a `pinned` shard, a user's own (their ended
 * registration's row is there and a new one must replace it): it takes the last seat too.
 */
export function rebalanceSeats(fullestFree: number, pinned: boolean): number {
  if (fullestFree >= 2) return Math.floor(fullestFree / 2);
  return pinned && fullestFree === 1 ? 1 : 0;
}

/**
 * The move that refills dry shard `into` from the shard with the most free seats (ties: the
 * lowest), or undefined when `into` has seats or none can move (see `rebalanceSeats`).
 */
export function rebalance(
  counters: readonly Pick<ShardCounter, 'shard' | 'freeSeats'>[],
  into: number,
  pinned: boolean,
): SeatMove | undefined {
  const target = counters.find((c) => c.shard === into);
  if (!target || target.freeSeats > 0) return undefined;
  const free = counters.map((c) => c.freeSeats);
  const [first] = byFree(free, 'most');
  const fullest = first === undefined ? undefined : counters[first];
  if (!fullest) return undefined;
  const seats = rebalanceSeats(fullest.freeSeats, pinned);
  return seats > 0 ? { from: fullest.shard, to: into, seats } : undefined;
}

/**
 * A shard for a confirm: one of those the view shows with free seats, each as likely, as
 * `random` (in [0, 1), as Math.random) says; undefined when every shard is dry.
 */
export function chooseShard(
  counters: readonly Pick<ShardCounter, 'shard' | 'freeSeats'>[],
  random: () => number,
): number | undefined {
  return pickOne(
    counters.filter((c) => c.freeSeats > 0),
    random,
  )?.shard;
}

function pickOne<T>(choices: readonly T[], random: () => number): T | undefined {
  return choices[Math.min(choices.length - 1, Math.floor(random() * choices.length))];
}

/*
 * A sharded registration's id is a UUIDv7 whose last byte's 5 low bits (random in UUIDv7) are
 * its shard, so that a ticket scan — which knows only the registration id — finds the row's
 * partition without another read. The id keeps its version and variant, 69 random bits, and
 * its order (only the last bits change).
 */

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The shard a sharded registration's row is in, read from its id. */
export function shardOf(registrationId: string): number {
  return Number.parseInt(registrationId.slice(-2), 16) & (MAX_SHARDS - 1);
}

/** `uuidV7` (a UUIDv7 minted as usual) with shard `shard` in its last 5 bits. */
export function mintRegistrationId(shard: number, uuidV7: string): string {
  if (!Number.isInteger(shard) || shard < 0 || shard >= MAX_SHARDS) {
    throw new RangeError(`a shard is 0 to ${MAX_SHARDS - 1}, not ${shard}`);
  }
  if (!UUID_V7.test(uuidV7)) throw new RangeError(`not a UUIDv7: ${uuidV7}`);
  const last = Number.parseInt(uuidV7.slice(-2), 16);
  const byte = (last & ~(MAX_SHARDS - 1) & 0xff) | shard;
  return `${uuidV7.slice(0, -2).toLowerCase()}${byte.toString(16).padStart(2, '0')}`;
}

/*
 * Ticket blocks: a join takes its ticket from its shard's block, a range of tickets from the one
 * sequence (`waitlistIssued`), used for at most the block lifetime (a second by default, the
 * `EVENTS_TICKET_BLOCK_MS` setting) — so no join is placed behind one that took its ticket more
 * than that later.
 */

/** By default a block is used for less than this long after it was allocated. */
export const BLOCK_LIFETIME_MS = 1000;
export const MAX_BLOCK_SIZE = 32;

/**
 * Whether a join may take `block.next`: a ticket left, and the block younger than its lifetime —
 * the take's condition `blockNext <= blockEnd AND blockAt > :now − lifetime`, so a block exactly
 * `lifetimeMs` old is too old.
 */
export function blockUsable(
  block: TicketBlock,
  now: number,
  lifetimeMs: number = BLOCK_LIFETIME_MS,
): boolean {
  return block.next <= block.end && now - block.at < lifetimeMs;
}

/**
 * The size of the block that replaces `previous` at `now`: a quarter of the block lifetime at the
 * rate its tickets went at (taken ÷ the time from its allocation to now), rounded up, 1 to 32. A
 * block that expired unused, or sat spent for a while, gives a low rate: after a lull blocks
 * start small, so few tickets are given back as holes; a burst doubles them up to 32 within a
 * few blocks.
 */
export function nextBlockSize(
  previous: TicketBlock,
  now: number,
  lifetimeMs: number = BLOCK_LIFETIME_MS,
): number {
  const taken = Math.max(0, previous.next - (previous.end - previous.size + 1));
  // Spent within the same millisecond: as fast as a clock in ms can tell.
  const lifetime = Math.max(1, now - previous.at);
  const size = Math.ceil((taken * lifetimeMs) / 4 / lifetime);
  return Math.min(MAX_BLOCK_SIZE, Math.max(1, size));
}

/** The block `ADD waitlistIssued :size` allocated, given the issued count it returned. */
export function allocatedBlock(issued: number, size: number, now: number): TicketBlock {
  return { next: issued - size + 1, end: issued, at: now, size };
}

/** The tickets a replaced block never handed out: given back as holes. */
export function blockTail(block: TicketBlock): number[] {
  return Array.from({ length: Math.max(0, block.end - block.next + 1) }, (_, i) => block.next + i);
}

/*
 * A sharded event's rows are in N partitions: a list reads each in ascending sort key order
 * (lsi1) and merges them. `C#<UUIDv7>` is join order across shards, `O#`/`W#` tickets are global,
 * and all are unique, so the merge is one order.
 */

/** One shard's page, as its query returned it. */
export interface ShardPage<T> {
  /** Where its query started (exclusively): undefined from the shard's start. */
  readonly after?: string | undefined;
  readonly items: readonly T[];
  /** Whether the shard has items past this page (the query returned a LastEvaluatedKey). */
  readonly more: boolean;
}

export interface MergedPage<T> {
  readonly items: readonly T[];
  /** Items taken from each page, in the pages' order. */
  readonly consumed: readonly number[];
  /**
   * Where each shard stands, in the pages' order: the last sort key taken from it, or where its
   * query started (`''`: its start); undefined for a shard exhausted. Undefined when all are.
   */
  readonly cursor: readonly (string | undefined)[] | undefined;
}

/**
 * Up to `limit` items of the pages merged in ascending `sortKey` order (equal keys: the lower
 * page first, each page in its own order). It stops early where a page ends and its shard does
 * not: what comes next there is unknown, and may sort before every other page's next item.
 * Keys are compared as JavaScript strings: the same as DynamoDB's byte order for ASCII keys.
 */
export function mergeAscending<T>(
  pages: readonly ShardPage<T>[],
  sortKey: (item: T) => string,
  limit: number,
): MergedPage<T> {
  const consumed = pages.map(() => 0);
  const items: T[] = [];
  while (items.length < limit) {
    let best: number | undefined;
    let bestKey = '';
    let blocked = false;
    for (const [i, page] of pages.entries()) {
      const item = page.items[consumed[i] ?? 0];
      if (item === undefined) {
        blocked ||= page.more;
        continue;
      }
      const key = sortKey(item);
      if (best === undefined || key < bestKey) [best, bestKey] = [i, key];
    }
    if (best === undefined || blocked) break;
    items.push(pages[best]?.items[consumed[best] ?? 0] as T);
    consumed[best] = (consumed[best] ?? 0) + 1;
  }
  const cursor = pages.map((page, i) => {
    const taken = consumed[i] ?? 0;
    if (!page.more && taken === page.items.length) return undefined;
    const last = page.items[taken - 1];
    return last === undefined ? (page.after ?? '') : sortKey(last);
  });
  return { items, consumed, cursor: cursor.some((c) => c !== undefined) ? cursor : undefined };
}

/**
 * The event the rules decide on, from the event item's settings, the N shard counters and the
 * waitlist item's bookkeeping. The shards' `registeredCount` counts seats taken, so the confirmed
 * are that less the offers. Capacity is the event item's: the shards' slices sum to it except
 * across a capacity change's commit, the reads being no snapshot. `updatedAt` is the latest of
 * the items'. The latch reads as on when any shard shows it on: shards disagree only when a read
 * crossed a flip, and either guess is checked by the next commit's condition.
 */
export function summedEvent(
  settings: EventSettings,
  shards: readonly ShardCounter[],
  waitlist: Waitlist,
): ShardedView {
  let [taken, offered, waiting, updatedAt] = [0, 0, 0, settings.updatedAt];
  for (const s of shards) {
    taken += s.registeredCount;
    offered += s.offeredCount;
    waiting += s.waitlistCount;
    if (s.updatedAt > updatedAt) updatedAt = s.updatedAt;
  }
  return {
    event: {
      ...settings,
      registeredCount: taken - offered,
      offeredCount: offered,
      waitlistCount: waiting,
      waitlist,
      updatedAt,
    },
    soldOut: shards.some((s) => s.soldOut),
    shards,
  };
}

/** A shard's part in passing seats to heads: seats it gives (`take`), heads it holds (`hold`). */
export interface ShardSeats {
  readonly shard: number;
  readonly take: number;
  readonly hold: number;
}

/**
 * Where the seats for `headShards` (each head's shard) come from: the heads' own shards first,
 * then the shards with the most free seats, each at most its free seats. Per shard touched, one
 * net change (in shard order); undefined when the shards' free seats are too few.
 */
export function seatsForHeads(
  shards: readonly ShardCounter[],
  headShards: readonly number[],
): ShardSeats[] | undefined {
  const hold = new Map<number, number>();
  for (const s of headShards) hold.set(s, (hold.get(s) ?? 0) + 1);
  const take = new Map<number, number>();
  let needed = headShards.length;
  const sources = [...shards].sort(
    (a, b) =>
      (hold.get(b.shard) ?? 0) - (hold.get(a.shard) ?? 0) ||
      b.freeSeats - a.freeSeats ||
      a.shard - b.shard,
  );
  for (const source of sources) {
    const seats = Math.min(needed, source.freeSeats);
    if (seats > 0) take.set(source.shard, seats);
    needed -= seats;
  }
  if (needed > 0) return undefined;
  return [...new Set([...take.keys(), ...hold.keys()])]
    .sort((a, b) => a - b)
    .map((shard) => ({ shard, take: take.get(shard) ?? 0, hold: hold.get(shard) ?? 0 }));
}

export type ShardedDecision =
  | Exclude<RegistrationDecision, { readonly kind: 'confirm' | 'waitlist' | 'sharded' }>
  /** Take a seat in this shard (its commit requires `soldOut = false AND freeSeats > 0`). */
  | { readonly kind: 'confirm'; readonly shard: number }
  /** Join the waitlist from this shard (its commit requires `soldOut = true`). */
  | { readonly kind: 'waitlist'; readonly shard: number }
  /** Move seats into a dry shard, then confirm there (`to`). */
  | ({ readonly kind: 'rebalance' } & SeatMove)
  /** Every shard is dry and the latch is off: set it on all shards (the lease holder does). */
  | { readonly kind: 'sell-out' }
  /** The latch is on, a seat is free and nobody waits: clear it on all shards. */
  | { readonly kind: 'reopen' };

export interface ShardChoice {
  /** In [0, 1), as Math.random: which shard, among those that qualify. */
  readonly random: () => number;
  readonly now?: Date | undefined;
  /** The user's own shard, where their ended registration's row is: they register there. */
  readonly pinned?: number | undefined;
  /** The shard a confirm's commit just found dry: refilled from the fullest if it can be. */
  readonly dry?: number | undefined;
  /** Shards that stayed busy through every try of this request: a join goes elsewhere. */
  readonly busy?: ReadonlySet<number> | undefined;
}

/**
 * What a registration should do given the sharded event as last seen (`decideRegistration` for
 * N shards). Free seats are the shards' (what the commit's conditions check). With the latch
 * off: a seat in a random shard with seats, refilling a dry one first when asked (`dry`,
 * `pinned`); no seat anywhere sets the latch (also without a waitlist: "full" is then a fact
 * every shard committed). With it on: a free seat while nobody waits clears it; otherwise the
 * waitlist, or full.
 */
export function decideSharded(view: ShardedView | undefined, choice: ShardChoice): ShardedDecision {
  if (!view) return { kind: 'refuse', reason: 'event-not-found' };
  const { event, shards, soldOut } = view;
  if (!openStatuses.includes(event.status)) return { kind: 'refuse', reason: 'event-closed' };
  // Seats as the shards hold them: the slices' sum is the capacity the conditions enforce.
  const slices = shards.reduce((sum, s) => sum + s.slice, 0);
  if (promotable({ ...event, capacity: slices }, choice.now) > 0) return { kind: 'fill-seats' };
  const free = shards.reduce((sum, s) => sum + s.freeSeats, 0);
  if (!soldOut) {
    if (free === 0) return { kind: 'sell-out' };
    return confirmIn(shards, choice);
  }
  if (free > 0 && event.waitlistCount === 0) return { kind: 'reopen' };
  if (!event.hasWaitlist) return { kind: 'refuse', reason: 'event-full' };
  const calm = shards.filter((s) => !choice.busy?.has(s.shard));
  const shard =
    choice.pinned ?? pickOne(calm.length > 0 ? calm : shards, choice.random)?.shard ?? 0;
  return { kind: 'waitlist', shard };
}

/** A confirm when some shard has a seat: see `decideSharded`. */
function confirmIn(shards: readonly ShardCounter[], choice: ShardChoice): ShardedDecision {
  const { pinned, dry } = choice;
  if (pinned !== undefined) {
    const own = shards.find((s) => s.shard === pinned);
    if (!own) throw new RangeError(`no shard ${pinned} among ${shards.length}`);
    if (own.freeSeats > 0) return { kind: 'confirm', shard: pinned };
    // Some shard has a seat, and a pinned shard takes even the last one: there is a move.
    const move = rebalance(shards, pinned, true) as SeatMove;
    return { kind: 'rebalance', ...move };
  }
  if (dry !== undefined) {
    const move = rebalance(shards, dry, false);
    if (move) return { kind: 'rebalance', ...move };
  }
  return { kind: 'confirm', shard: chooseShard(shards, choice.random) as number };
}
