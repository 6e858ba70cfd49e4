import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { OFFER_DEFAULTS, type Waitlist } from '../../src/modules/events/events.model.js';
import {
  allocatedBlock,
  blockTail,
  blockUsable,
  capacityDeltas,
  chooseShard,
  decideSharded,
  type EventSettings,
  initialSlices,
  MAX_BLOCK_SIZE,
  mergeAscending,
  mintRegistrationId,
  nextBlockSize,
  rebalance,
  rebalanceSeats,
  type ShardCounter,
  type ShardedView,
  type ShardPage,
  shardOf,
  summedEvent,
  type TicketBlock,
} from '../../src/modules/events/events.shards.rules.js';

/** Sharded capacity (docs/decisions/sharded-capacity.md) as pure decisions: no database. */

const NOW = '2026-11-22T10:00:00.000Z';
const AT = new Date(NOW);
/** A UUIDv7 as RFC 9562 spells it: version 7, variant 10xx. */
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function settings(overrides: Partial<EventSettings> = {}): EventSettings {
  return {
    eventId: 'e-1',
    title: 'Shards',
    description: 'Pure decisions',
    date: '2026-12-01',
    location: 'Online',
    capacity: 10,
    organizer: 'Roster',
    status: 'active',
    hasWaitlist: true,
    ...OFFER_DEFAULTS,
    createdAt: NOW,
    updatedAt: NOW,
    version: 1,
    ...overrides,
  };
}

function counter(shard: number, overrides: Partial<ShardCounter> = {}): ShardCounter {
  const registeredCount = overrides.registeredCount ?? 0;
  const freeSeats = overrides.freeSeats ?? 0;
  return {
    shard,
    slice: registeredCount + freeSeats,
    registeredCount,
    freeSeats,
    offeredCount: 0,
    waitlistCount: 0,
    soldOut: false,
    updatedAt: NOW,
    ...overrides,
  };
}

/** Counters with these free seats and nothing taken. */
const withFree = (...free: number[]) =>
  free.map((freeSeats, shard) => counter(shard, { freeSeats }));

const EMPTY_WAITLIST: Waitlist = { issued: 0, frontier: 0, holes: [] };

function view(
  shards: readonly ShardCounter[],
  overrides: Partial<EventSettings> = {},
  waitlist = EMPTY_WAITLIST,
): ShardedView {
  const capacity = shards.reduce((sum, s) => sum + s.slice, 0);
  return summedEvent(settings({ capacity, ...overrides }), shards, waitlist);
}

/** `random()` that picks the `i`th of `n` choices. */
const pick = (i: number, n: number) => () => (i + 0.5) / n;

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

describe('initialSlices', () => {
  it('gives every shard ⌊C/N⌋ and the first C mod N one more', () => {
    expect(initialSlices(10, 4)).toEqual([3, 3, 2, 2]);
    expect(initialSlices(8, 4)).toEqual([2, 2, 2, 2]);
    expect(initialSlices(3, 8)).toEqual([1, 1, 1, 0, 0, 0, 0, 0]);
    expect(initialSlices(0, 2)).toEqual([0, 0]);
  });

  it('sums to the capacity, the slices at most one apart', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.integer({ min: 1, max: 32 }), (capacity, n) => {
        const slices = initialSlices(capacity, n);
        expect(slices).toHaveLength(n);
        expect(sum(slices)).toBe(capacity);
        expect(Math.max(...slices) - Math.min(...slices)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('capacityDeltas', () => {
  it('adds ⌊d/N⌋ to every shard and the remainder to those with the fewest free seats', () => {
    expect(capacityDeltas(withFree(5, 0, 3, 1), 6)).toEqual([1, 2, 1, 2]);
    expect(capacityDeltas(withFree(5, 0, 3, 1), 8)).toEqual([2, 2, 2, 2]);
    expect(capacityDeltas(withFree(2, 2, 2), 2)).toEqual([1, 1, 0]);
  });

  it('takes a cut from the shards with the most free seats first', () => {
    expect(capacityDeltas(withFree(5, 0, 3, 1), -2)).toEqual([-2, 0, 0, 0]);
    expect(capacityDeltas(withFree(5, 0, 3, 1), -4)).toEqual([-3, 0, -1, 0]);
    expect(capacityDeltas(withFree(5, 0, 3, 1), -9)).toEqual([-5, 0, -3, -1]);
  });

  it('refuses a cut larger than the free seats read', () => {
    expect(capacityDeltas(withFree(5, 0, 3, 1), -10)).toBeUndefined();
    expect(capacityDeltas(withFree(0, 0), -1)).toBeUndefined();
  });

  it('changes nothing for no change', () => {
    expect(capacityDeltas(withFree(5, 0), 0)).toEqual([0, 0]);
  });
});

describe('rebalance', () => {
  it('moves half the free seats of the fullest shard into a dry one', () => {
    expect(rebalance(withFree(0, 9, 4), 0, false)).toEqual({ from: 1, to: 0, seats: 4 });
    expect(rebalance(withFree(2, 0), 1, false)).toEqual({ from: 0, to: 1, seats: 1 });
  });

  it('moves none when no shard has two free seats', () => {
    expect(rebalance(withFree(0, 1, 1), 0, false)).toBeUndefined();
    expect(rebalance(withFree(0, 0), 0, false)).toBeUndefined();
  });

  it("moves the last seat into a user's own shard", () => {
    expect(rebalance(withFree(0, 1, 0), 0, true)).toEqual({ from: 1, to: 0, seats: 1 });
    expect(rebalance(withFree(0, 0), 0, true)).toBeUndefined();
  });

  it('moves none into a shard that has seats', () => {
    expect(rebalance(withFree(1, 9), 0, false)).toBeUndefined();
  });

  it('counts the seats to move from the fullest shard', () => {
    expect([0, 1, 2, 3, 9].map((free) => rebalanceSeats(free, false))).toEqual([0, 0, 1, 1, 4]);
    expect([0, 1, 2, 3, 9].map((free) => rebalanceSeats(free, true))).toEqual([0, 1, 1, 1, 4]);
  });
});

describe('chooseShard', () => {
  it('picks among the shards with free seats, as the randomness says', () => {
    const shards = withFree(0, 3, 0, 1, 2);
    expect([0, 1, 2].map((i) => chooseShard(shards, pick(i, 3)))).toEqual([1, 3, 4]);
  });

  it('picks none when every shard is dry', () => {
    expect(chooseShard(withFree(0, 0), () => 0)).toBeUndefined();
  });

  it('picks a shard with seats whatever the randomness', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 32 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (free, r) => {
          const shard = chooseShard(withFree(...free), () => r);
          if (sum(free) === 0) expect(shard).toBeUndefined();
          else expect(free[shard as number]).toBeGreaterThan(0);
        },
      ),
    );
  });
});

describe('registration ids', () => {
  it('reads the shard from the low 5 bits of the last byte', () => {
    expect(shardOf('0190c0de-0000-7000-8000-0000000000ff')).toBe(31);
    expect(shardOf('0190c0de-0000-7000-8000-0000000000e0')).toBe(0);
    expect(shardOf('0190c0de-0000-7000-8000-000000000025')).toBe(5);
  });

  it('mints a UUIDv7 that carries its shard, from a UUIDv7 minted as usual', () => {
    const base = '0190c0de-1234-7abc-9def-0123456789ff';
    expect(mintRegistrationId(3, base)).toBe('0190c0de-1234-7abc-9def-0123456789e3');
    expect(shardOf(mintRegistrationId(17, uuidv7()))).toBe(17);
  });

  it('keeps every bit but the shard: a valid UUIDv7 in the same order', () => {
    fc.assert(
      fc.property(fc.uuid({ version: 7 }), fc.integer({ min: 0, max: 31 }), (base, shard) => {
        const id = mintRegistrationId(shard, base);
        expect(shardOf(id)).toBe(shard);
        expect(id).toMatch(UUID_V7);
        expect(id.slice(0, -2)).toBe(base.slice(0, -2));
        expect(Number.parseInt(id.slice(-2), 16) >> 5).toBe(
          Number.parseInt(base.slice(-2), 16) >> 5,
        );
      }),
    );
  });

  it('refuses a shard out of range and a base that is not a UUIDv7', () => {
    expect(() => mintRegistrationId(32, uuidv7())).toThrow(RangeError);
    expect(() => mintRegistrationId(-1, uuidv7())).toThrow(RangeError);
    expect(() => mintRegistrationId(0, 'not-a-uuid')).toThrow(RangeError);
    expect(() => mintRegistrationId(0, '0190c0de-1234-4abc-9def-0123456789ff')).toThrow(RangeError);
  });
});

describe('ticket blocks', () => {
  const block = (overrides: Partial<TicketBlock> = {}): TicketBlock => ({
    next: 11,
    end: 20,
    at: AT.getTime(),
    size: 10,
    ...overrides,
  });

  it('hands out tickets while it has some and is under a second old', () => {
    const at = AT.getTime();
    expect(blockUsable(block(), at + 999)).toBe(true);
    expect(blockUsable(block(), at + 1000)).toBe(false);
    expect(blockUsable(block({ next: 20 }), at)).toBe(true);
    expect(blockUsable(block({ next: 21 }), at)).toBe(false);
  });

  it('takes another lifetime (EVENTS_TICKET_BLOCK_MS), and sizes blocks to a quarter of it', () => {
    const at = AT.getTime();
    expect(blockUsable(block(), at + 4999, 5000)).toBe(true);
    expect(blockUsable(block(), at + 5000, 5000)).toBe(false);
    // 10 tickets in 500 ms: 20/s, 25 in a quarter of 5 s.
    expect(nextBlockSize(block({ next: 21 }), at + 500, 5000)).toBe(25);
  });

  it('sizes the next block to a quarter second of the last one’s rate, 1 to 32', () => {
    const at = AT.getTime();
    // 10 tickets in 500 ms: 20/s, 5 a quarter second.
    expect(nextBlockSize(block({ next: 21 }), at + 500)).toBe(5);
    // 3 tickets in 1 s: 0.75 a quarter second, rounded up.
    expect(nextBlockSize(block({ next: 14 }), at + 1000)).toBe(1);
    // None taken, or a block never used: the smallest.
    expect(nextBlockSize(block({ next: 11 }), at + 1000)).toBe(1);
    // 10 tickets in 10 ms: 250 a quarter second, clamped.
    expect(nextBlockSize(block({ next: 21 }), at + 10)).toBe(MAX_BLOCK_SIZE);
    expect(nextBlockSize(block({ next: 21 }), at)).toBe(MAX_BLOCK_SIZE);
  });

  it('stays between 1 and 32 whatever the last block did', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }),
        fc.nat({ max: 32 }),
        fc.nat({ max: 100_000 }),
        (size, taken, lifetime) => {
          fc.pre(taken <= size);
          const previous = block({ next: 100 + taken, end: 99 + size, size });
          const next = nextBlockSize(previous, previous.at + lifetime);
          expect(Number.isInteger(next)).toBe(true);
          expect(next).toBeGreaterThanOrEqual(1);
          expect(next).toBeLessThanOrEqual(32);
        },
      ),
    );
  });

  it('is the range the issue counter returned, and gives back its untaken tail', () => {
    const allocated = allocatedBlock(40, 8, AT.getTime());
    expect(allocated).toEqual({ next: 33, end: 40, at: AT.getTime(), size: 8 });
    expect(blockTail({ ...allocated, next: 38 })).toEqual([38, 39, 40]);
    expect(blockTail({ ...allocated, next: 41 })).toEqual([]);
  });
});

describe('mergeAscending', () => {
  const page = (keys: string[], more = false): ShardPage<string> => ({ items: keys, more });
  const key = (item: string) => item.split('/')[0] as string;

  it('merges the shards’ pages in ascending sort key order, up to the limit', () => {
    const merged = mergeAscending(
      [page(['C#1', 'C#4', 'W#2']), page(['C#2', 'C#3']), page([])],
      key,
      4,
    );
    expect(merged.items).toEqual(['C#1', 'C#2', 'C#3', 'C#4']);
    expect(merged.consumed).toEqual([2, 2, 0]);
    expect(merged.cursor).toEqual(['C#4', undefined, undefined]);
  });

  it('marks where each shard stands: its last key taken, or where it started', () => {
    const merged = mergeAscending(
      [
        { after: 'C#0', items: ['C#5', 'C#6'], more: true },
        { after: 'C#1', items: ['C#2'], more: true },
      ],
      key,
      1,
    );
    expect(merged.items).toEqual(['C#2']);
    expect(merged.cursor).toEqual(['C#0', 'C#2']);
  });

  it('stops where a shard’s page ends before its shard does', () => {
    const merged = mergeAscending([page(['C#1'], true), page(['C#2', 'C#3'])], key, 3);
    expect(merged.items).toEqual(['C#1']);
    expect(merged.cursor).toEqual(['C#1', '']);
  });

  it('has no cursor once every shard is exhausted', () => {
    expect(mergeAscending([page(['C#1']), page(['C#2'])], key, 5).cursor).toBeUndefined();
  });

  it('is sorted and stable, and consumes exactly the limit when the shards have it', () => {
    const shardPages = fc.array(
      // Keys of a few letters, so that equal keys are common (LSI1SK values never are).
      fc
        .array(fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 3 }), { maxLength: 12 })
        .map((keys) => keys.sort()),
      { minLength: 1, maxLength: 8 },
    );
    fc.assert(
      fc.property(shardPages, fc.integer({ min: 1, max: 40 }), (pages, limit) => {
        // Each item remembers its shard and place, so that stability can be checked.
        const tagged = pages.map((keys, s) => page(keys.map((k, i) => `${k}/${s}/${i}`)));
        const merged = mergeAscending(tagged, key, limit);
        const total = sum(pages.map((keys) => keys.length));
        expect(merged.items).toHaveLength(Math.min(limit, total));
        expect(sum(merged.consumed)).toBe(merged.items.length);
        const order = merged.items.map((item) => {
          const [k, s, i] = item.split('/');
          return { k: k as string, s: Number(s), i: Number(i) };
        });
        for (let j = 1; j < order.length; j++) {
          const [a, b] = [order[j - 1], order[j]] as [(typeof order)[0], (typeof order)[0]];
          expect(a.k <= b.k).toBe(true);
          // Equal keys keep the shards' order, and each shard's own order.
          if (a.k === b.k) expect(a.s < b.s || (a.s === b.s && a.i < b.i)).toBe(true);
        }
        // What was consumed from each shard is its page's prefix.
        merged.consumed.forEach((n, s) => {
          expect(order.filter((o) => o.s === s).map((o) => o.i)).toEqual([...Array(n).keys()]);
        });
      }),
    );
  });

  it('pages through every shard in order, each item once, by its cursor', () => {
    const shardKeys = fc.array(fc.uniqueArray(fc.nat({ max: 999 }), { maxLength: 15 }), {
      minLength: 1,
      maxLength: 6,
    });
    fc.assert(
      fc.property(shardKeys, fc.integer({ min: 1, max: 7 }), fc.nat(), (shards, limit, cut) => {
        // Keys unique across shards, as LSI1SK values are; each shard sorted, as a query reads it.
        const keys = shards.map((nums, s) =>
          nums.map((n) => `C#${String(n).padStart(3, '0')}-${s}`).sort(),
        );
        // A query returns up to `limit` items, or fewer with more to come (its 1 MB limit).
        const pageSize = (s: number) => 1 + ((cut + s) % limit);
        const query = (s: number, after: string | undefined): ShardPage<string> => {
          const rest = (keys[s] as string[]).filter((k) => after === undefined || k > after);
          return { after, items: rest.slice(0, pageSize(s)), more: rest.length > pageSize(s) };
        };
        const seen: string[] = [];
        let cursor: readonly (string | undefined)[] | undefined = keys.map(() => '');
        for (let round = 0; cursor && round < 1000; round++) {
          const positions: readonly (string | undefined)[] = cursor;
          const pages = keys.map((_, s) =>
            positions[s] === undefined
              ? { items: [], more: false }
              : query(s, positions[s] === '' ? undefined : positions[s]),
          );
          const merged = mergeAscending(pages, (k) => k, limit);
          // Every round moves on, but the first when every shard is empty.
          if (merged.cursor !== undefined) expect(merged.items.length).toBeGreaterThan(0);
          seen.push(...merged.items);
          cursor = merged.cursor;
        }
        expect(cursor).toBeUndefined();
        expect(seen).toEqual(keys.flat().sort());
      }),
    );
  });
});

describe('summedEvent', () => {
  it('sums the shards into one event: confirmed, offered, waiting; settings from the event', () => {
    const waitlist: Waitlist = { issued: 9, frontier: 2, holes: [5] };
    const later = '2026-11-22T10:05:00.000Z';
    const summed = summedEvent(
      settings({ capacity: 12, title: 'Hot' }),
      [
        counter(0, { registeredCount: 4, freeSeats: 2, offeredCount: 1, waitlistCount: 3 }),
        counter(1, { registeredCount: 5, freeSeats: 1, offeredCount: 2, updatedAt: later }),
      ],
      waitlist,
    );
    expect(summed.event).toMatchObject({
      title: 'Hot',
      capacity: 12,
      registeredCount: 6,
      offeredCount: 3,
      waitlistCount: 3,
      waitlist,
      updatedAt: later,
      version: 1,
    });
    expect(summed.soldOut).toBe(false);
    expect(summed.shards).toHaveLength(2);
  });

  it('reads the latch as on when any shard read shows it on', () => {
    const shards = [counter(0), counter(1, { soldOut: true })];
    expect(summedEvent(settings(), shards, EMPTY_WAITLIST).soldOut).toBe(true);
  });
});

describe('decideSharded', () => {
  const random = () => 0;

  it('refuses an unknown or closed event', () => {
    expect(decideSharded(undefined, { random })).toEqual({
      kind: 'refuse',
      reason: 'event-not-found',
    });
    expect(decideSharded(view(withFree(1, 1), { status: 'cancelled' }), { random })).toEqual({
      kind: 'refuse',
      reason: 'event-closed',
    });
  });

  it('confirms in a random shard with free seats while the latch is off', () => {
    const shards = withFree(0, 2, 0, 5);
    expect(decideSharded(view(shards), { random: pick(0, 2) })).toEqual({
      kind: 'confirm',
      shard: 1,
    });
    expect(decideSharded(view(shards), { random: pick(1, 2) })).toEqual({
      kind: 'confirm',
      shard: 3,
    });
  });

  it('rebalances into the shard a commit found dry when another has two free seats', () => {
    expect(decideSharded(view(withFree(0, 2, 0, 6)), { random, dry: 0 })).toEqual({
      kind: 'rebalance',
      from: 3,
      to: 0,
      seats: 3,
    });
  });

  it('confirms elsewhere when the shard found dry cannot be refilled', () => {
    expect(decideSharded(view(withFree(0, 1, 0, 1)), { random: pick(1, 2), dry: 0 })).toEqual({
      kind: 'confirm',
      shard: 3,
    });
  });

  it("confirms a returning user in their own shard, refilling it when it's dry", () => {
    expect(decideSharded(view(withFree(1, 1, 3)), { random, pinned: 1 })).toEqual({
      kind: 'confirm',
      shard: 1,
    });
    expect(decideSharded(view(withFree(0, 1, 0)), { random, pinned: 2 })).toEqual({
      kind: 'rebalance',
      from: 1,
      to: 2,
      seats: 1,
    });
  });

  it('sets the latch when every shard is dry and it is off', () => {
    const taken = [0, 1].map((s) => counter(s, { registeredCount: 3 }));
    expect(decideSharded(view(taken), { random })).toEqual({ kind: 'sell-out' });
    expect(decideSharded(view(taken, { hasWaitlist: false }), { random })).toEqual({
      kind: 'sell-out',
    });
  });

  it('joins from a shard that has not stayed busy for this request, while there is one', () => {
    const soldOut = [0, 1, 2].map((s) => counter(s, { registeredCount: 3, soldOut: true }));
    const busy = new Set([0, 2]);
    for (const r of [0, 0.5, 0.99]) {
      expect(decideSharded(view(soldOut), { random: () => r, busy })).toEqual({
        kind: 'waitlist',
        shard: 1,
      });
    }
    // Every shard busy: any of them (the request's limit on busy shards ends it first).
    expect(decideSharded(view(soldOut), { random: () => 0, busy: new Set([0, 1, 2]) })).toEqual({
      kind: 'waitlist',
      shard: 0,
    });
  });

  it('joins the waitlist in a random shard once the latch is on', () => {
    const soldOut = [0, 1, 2].map((s) => counter(s, { registeredCount: 3, soldOut: true }));
    expect(decideSharded(view(soldOut), { random: pick(2, 3) })).toEqual({
      kind: 'waitlist',
      shard: 2,
    });
    expect(decideSharded(view(soldOut), { random, pinned: 1 })).toEqual({
      kind: 'waitlist',
      shard: 1,
    });
  });

  it('answers full when the latch is on and the event has no waitlist', () => {
    const soldOut = [0, 1].map((s) => counter(s, { registeredCount: 3, soldOut: true }));
    expect(decideSharded(view(soldOut, { hasWaitlist: false }), { random })).toEqual({
      kind: 'refuse',
      reason: 'event-full',
    });
  });

  it('reopens when the latch is on, a seat is free and nobody waits', () => {
    const shards = [
      counter(0, { registeredCount: 3, soldOut: true }),
      counter(1, { registeredCount: 2, freeSeats: 1, soldOut: true }),
    ];
    expect(decideSharded(view(shards), { random })).toEqual({ kind: 'reopen' });
    expect(decideSharded(view(shards, { hasWaitlist: false }), { random })).toEqual({
      kind: 'reopen',
    });
  });

  it('fills free seats first when people wait', () => {
    const shards = [
      counter(0, { registeredCount: 3, waitlistCount: 2, soldOut: true }),
      counter(1, { registeredCount: 2, freeSeats: 1, soldOut: true }),
    ];
    expect(decideSharded(view(shards), { random, now: AT })).toEqual({ kind: 'fill-seats' });
  });

  it('joins behind the waiting people when the free seats are theirs (offers out)', () => {
    const shards = [
      counter(0, { registeredCount: 3, offeredCount: 1, waitlistCount: 2, soldOut: true }),
      counter(1, { registeredCount: 2, freeSeats: 1, soldOut: true }),
    ];
    const offerMode = { promotion: 'offer' as const, offerBatch: 1 };
    expect(decideSharded(view(shards, offerMode), { random, now: AT })).toEqual({
      kind: 'waitlist',
      shard: 0,
    });
  });

  it('never confirms while the latch is on, nor sells out while a seat is free', () => {
    const shards = fc.array(
      fc.record({
        freeSeats: fc.nat({ max: 3 }),
        registeredCount: fc.nat({ max: 3 }),
        waitlistCount: fc.nat({ max: 2 }),
      }),
      { minLength: 1, maxLength: 8 },
    );
    fc.assert(
      fc.property(
        shards,
        fc.boolean(),
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (counts, soldOut, hasWaitlist, r) => {
          const counters = counts.map((c, s) => counter(s, { ...c, soldOut }));
          const decision = decideSharded(view(counters, { hasWaitlist }), {
            random: () => r,
            now: AT,
          });
          const free = sum(counts.map((c) => c.freeSeats));
          if (soldOut) expect(decision.kind).not.toBe('confirm');
          if (free > 0) expect(decision.kind).not.toBe('sell-out');
          if (decision.kind === 'confirm')
            expect(counters[decision.shard]?.freeSeats).toBeGreaterThan(0);
          if (decision.kind === 'waitlist') expect(decision.shard).toBeLessThan(counts.length);
        },
      ),
    );
  });
});

describe('seats across shards, over any sequence of changes', () => {
  type Step =
    | { readonly kind: 'confirm'; readonly r: number }
    | { readonly kind: 'leave'; readonly r: number }
    | { readonly kind: 'capacity'; readonly change: number }
    | { readonly kind: 'rebalance'; readonly into: number; readonly pinned: boolean };

  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      kind: fc.constant('confirm' as const),
      r: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    fc.record({
      kind: fc.constant('leave' as const),
      r: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    fc.record({
      kind: fc.constant('capacity' as const),
      change: fc.integer({ min: -40, max: 40 }),
    }),
    fc.record({
      kind: fc.constant('rebalance' as const),
      into: fc.nat({ max: 31 }),
      pinned: fc.boolean(),
    }),
  );

  it('keeps Σ slice = capacity, slice = taken + free and free ≥ 0 in every shard', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }),
        fc.nat({ max: 200 }),
        fc.array(step, { maxLength: 60 }),
        (n, initial, steps) => {
          let capacity = initial;
          let shards = initialSlices(capacity, n).map((slice, s) =>
            counter(s, { slice, freeSeats: slice }),
          );
          for (const next of steps) {
            if (next.kind === 'confirm') {
              const s = chooseShard(shards, () => next.r);
              if (s === undefined) expect(sum(shards.map((c) => c.freeSeats))).toBe(0);
              else
                shards = shards.map((c) =>
                  c.shard === s
                    ? { ...c, freeSeats: c.freeSeats - 1, registeredCount: c.registeredCount + 1 }
                    : c,
                );
            } else if (next.kind === 'leave') {
              const holding = shards.filter((c) => c.registeredCount > 0);
              const s =
                holding[Math.floor(next.r * holding.length) % Math.max(1, holding.length)]?.shard;
              shards = shards.map((c) =>
                c.shard === s
                  ? { ...c, freeSeats: c.freeSeats + 1, registeredCount: c.registeredCount - 1 }
                  : c,
              );
            } else if (next.kind === 'capacity') {
              const change = Math.max(next.change, capacity > 0 ? -capacity : 0);
              const deltas = capacityDeltas(shards, change);
              const free = sum(shards.map((c) => c.freeSeats));
              if (deltas === undefined) {
                expect(free).toBeLessThan(-change);
                continue;
              }
              expect(deltas).toHaveLength(n);
              expect(sum(deltas)).toBe(change);
              const after = shards.map((c, i) => c.freeSeats + (deltas[i] as number));
              deltas.forEach((d, i) => {
                // A cut never takes a seat that is taken; a raise never takes any.
                expect(d).toBeGreaterThanOrEqual(-(shards[i] as ShardCounter).freeSeats);
                if (change >= 0) expect(d).toBeGreaterThanOrEqual(0);
                if (change <= 0) expect(d).toBeLessThanOrEqual(0);
              });
              const base = Math.floor(change / n);
              if (change > 0) {
                // The remainder went to shards with no more free seats than any that got none.
                const extra = shards.filter((_, i) => deltas[i] === base + 1);
                const none = shards.filter((_, i) => deltas[i] === base);
                expect(extra.length + none.length).toBe(n);
                for (const e of extra)
                  for (const o of none) expect(e.freeSeats).toBeLessThanOrEqual(o.freeSeats);
              }
              if (change < 0) {
                // Taken from the fullest: a shard that gave ends within a seat of every other.
                const most = Math.max(...after);
                deltas.forEach((d, i) => {
                  if (d < 0) expect(after[i]).toBeGreaterThanOrEqual(most - 1);
                });
              }
              capacity += change;
              shards = shards.map((c, i) => {
                const d = deltas[i] as number;
                return { ...c, slice: c.slice + d, freeSeats: c.freeSeats + d };
              });
            } else {
              const into = next.into % n;
              const move = rebalance(shards, into, next.pinned);
              if (move === undefined) continue;
              const source = shards[move.from] as ShardCounter;
              expect(move.to).toBe(into);
              expect(move.from).not.toBe(into);
              expect(move.seats).toBeGreaterThan(0);
              expect(move.seats).toBeLessThanOrEqual(source.freeSeats);
              shards = shards.map((c) => {
                if (c.shard === move.from)
                  return { ...c, slice: c.slice - move.seats, freeSeats: c.freeSeats - move.seats };
                if (c.shard === move.to)
                  return { ...c, slice: c.slice + move.seats, freeSeats: c.freeSeats + move.seats };
                return c;
              });
            }
            expect(sum(shards.map((c) => c.slice))).toBe(capacity);
            for (const c of shards) {
              expect(c.freeSeats).toBeGreaterThanOrEqual(0);
              expect(c.slice).toBe(c.registeredCount + c.freeSeats);
            }
          }
        },
      ),
    );
  });
});
