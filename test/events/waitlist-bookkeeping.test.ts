import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { eventItem, eventsKeys } from '../../src/modules/events/events.dynamo.js';
import type { Event, Registration, Waitlist } from '../../src/modules/events/events.model.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import {
  compactWaitlist,
  waitlistAfter,
  waitlistPosition,
} from '../../src/modules/events/events.waitlist.rules.js';
import type { TestApp } from '../support/app.js';
import {
  createEvent,
  createEventsApp,
  createUsers,
  eventBody,
  eventRegistrations,
  previousRelease,
  register,
  registerAll,
  summary,
  uniqueId,
} from './fixtures.js';

/**
 * The waitlist's bookkeeping lives on the event item, so it must not grow with every ticket that
 * ever left: the event item has to stay small (DynamoDB refuses items over 400 KB, and every
 * write to the event costs by its size). Tickets that left are folded into runs, and the frontier
 * moves over the runs right above it.
 */

const TEN_KB = 10 * 1024;
/** Joins and leaves through DynamoDB Local (one event item takes some 100 writes a second). */
const CHURN = 300;

/** DynamoDB's size of an item: names plus values (a number: 1 byte per 2 digits, plus 1). */
function itemBytes(item: Record<string, unknown>): number {
  const number = (n: number) => Math.ceil(String(n).replace(/^[-0.]+|\.|0+$/g, '').length / 2) + 1;
  const value = (v: unknown): number => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (typeof v === 'number') return number(v);
    if (v instanceof Set) return [...v].reduce((sum: number, e) => sum + value(e), 0);
    if (typeof v === 'boolean') return 1;
    throw new Error(`no size for ${JSON.stringify(v)}`);
  };
  return Object.entries(item).reduce(
    (sum, [name, v]) => sum + Buffer.byteLength(name) + value(v),
    0,
  );
}

const NOW = '2026-11-22T10:00:00.000Z';

function eventWith(waitlist: Waitlist): Event {
  return {
    ...(eventBody() as Omit<Event, 'eventId'>),
    eventId: 'tech-conf-2024-waitlist-bookkeeping',
    hasWaitlist: true,
    registeredCount: 100,
    waitlistCount: 0,
    createdAt: NOW,
    updatedAt: NOW,
    waitlist,
  };
}

/** A small deterministic random source (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return { next, pick };
}

const waitingAt = (ticket: number): Registration => ({
  registrationId: `r-${ticket}`,
  userId: `u-${ticket}`,
  eventId: 'e',
  status: 'waitlisted',
  registeredAt: NOW,
  ticket,
  version: 1,
});

/** Joins in flight at most at once (the service runs 16 per event in a process). */
const IN_FLIGHT = 16;

/**
 * The protocol's bookkeeping, driven as the service drives it: a join takes a ticket and commits
 * with it a little later (90%), gives it back (a hole), or finds that a promotion passed it and
 * takes another; waitlisted users leave (a hole); a confirmed user leaves and the seat passes to
 * the lowest waiting ticket. Each change is folded afterwards, except now and then (a fold that
 * lost a race is skipped; the next one folds its holes too).
 */
function simulate(options: {
  joinsAndLeaves: number;
  seed: number;
  /** The head of the waitlist never leaves and no seat frees: the frontier never moves. */
  stuckHead: boolean;
}) {
  const rng = random(options.seed);
  let waitlist: Waitlist = { issued: 0, frontier: 0, holes: [] };
  const waiting = new Set<number>();
  const inFlight = new Set<number>();
  let largest = 0;
  let mostRuns = 0;
  /** Joins and leaves so far (a join counts once, whether it commits, fails or takes another). */
  let changes = 0;
  const issue = () => {
    waitlist = { ...waitlist, issued: waitlist.issued + 1 };
    inFlight.add(waitlist.issued);
  };
  const fold = (operation: number) => {
    if (rng.next() < 0.1) return;
    const before = waitlist.frontier;
    waitlist = compactWaitlist(waitlist) ?? waitlist;
    if (waitlist.frontier === before) return;
    const passed = [...waiting, ...inFlight].filter(
      (ticket) => ticket > before && ticket <= waitlist.frontier,
    );
    if (passed.length > 0) expect.fail(`operation ${operation}: a fold passed ${passed}`);
  };
  const check = (operation: number) => {
    // Ahead of a waiting ticket: the waiting before it, and the joins still committing with an
    // earlier ticket the frontier has not passed.
    const held = [...waiting, ...[...inFlight].filter((ticket) => ticket > waitlist.frontier)];
    held.sort((a, b) => a - b);
    const wrong = held
      .map((ticket, ahead) => ({ ticket, told: waitlistPosition(ticket, waitlist), ahead }))
      .filter(({ ticket, told, ahead }) => waiting.has(ticket) && told !== ahead + 1);
    expect(wrong, `positions after operation ${operation}`).toEqual([]);
  };

  for (let operation = 1; changes < options.joinsAndLeaves; operation++) {
    const roll = rng.next();
    // Mixed: a waitlist of about 30 for a while, then about 300, and back.
    const target = options.stuckHead ? 40 : operation % 20_000 < 10_000 ? 30 : 300;
    if (inFlight.size > 0 && (roll < 0.3 || inFlight.size >= IN_FLIGHT)) {
      const ticket = rng.pick([...inFlight]);
      inFlight.delete(ticket);
      if (ticket <= waitlist.frontier) issue();
      else if (rng.next() < 0.9) waiting.add(ticket);
      else {
        waitlist = waitlistAfter(waitlist, { left: [ticket] });
        fold(operation);
      }
    } else if (roll < (waiting.size < target ? 0.75 : 0.6) || waiting.size < 2) {
      issue();
      changes++;
    } else if (!options.stuckHead && roll > 0.9) {
      changes++;
      const head = Math.min(...waiting);
      waiting.delete(head);
      waitlist = waitlistAfter(waitlist, { promoted: [waitingAt(head)] });
      fold(operation);
    } else {
      changes++;
      const candidates = [...waiting].sort((a, b) => a - b).slice(options.stuckHead ? 1 : 0);
      // The longest waiting give up first, mostly: the pattern that used to pile up holes.
      const ticket = rng.next() < 0.7 ? (candidates[0] as number) : rng.pick(candidates);
      waiting.delete(ticket);
      waitlist = waitlistAfter(waitlist, { left: [ticket] });
      fold(operation);
    }
    // Weighed at its most runs and holes so far (where it is largest), and every 50 operations.
    const runs = (waitlist.runs?.length ?? 0) + waitlist.holes.length;
    if (runs >= mostRuns || operation % 50 === 0) {
      largest = Math.max(largest, itemBytes(eventItem(eventWith(waitlist), undefined)));
    }
    mostRuns = Math.max(mostRuns, runs);
    if (operation % 97 === 0) check(operation);
  }
  check(changes);

  // Everyone leaves: nothing is held above the frontier any more, and the bookkeeping collapses.
  const left = [...inFlight, ...waiting];
  const drained = compactWaitlist(waitlistAfter(waitlist, { left })) ?? waitlist;
  return { largest, mostRuns, drained, issued: waitlist.issued };
}

describe('waitlist bookkeeping (pure)', () => {
  it('keeps the event item under 10 KB through 100,000 mixed joins, leaves and promotions', () => {
    const { largest, drained } = simulate({ joinsAndLeaves: 100_000, seed: 7, stuckHead: false });

    expect(largest).toBeLessThan(TEN_KB);
    expect(drained).toEqual({
      issued: drained.issued,
      frontier: drained.issued,
      holes: [],
      runs: [],
    });
  });

  it('keeps it under 10 KB when the head never leaves and the longest waiting give up first', () => {
    const { largest, mostRuns } = simulate({ joinsAndLeaves: 100_000, seed: 11, stuckHead: true });

    expect(largest).toBeLessThan(TEN_KB);
    // Bounded by the tickets held (40 or so waiting, a few in flight), not by those that left.
    expect(mostRuns).toBeLessThan(100);
  });

  it('folds holes into runs and moves the frontier over the run right above it', () => {
    const waitlist = { issued: 12, frontier: 3, holes: [4, 5, 7, 9, 10, 2] };

    expect(compactWaitlist(waitlist)).toEqual({
      issued: 12,
      frontier: 5,
      holes: [],
      runs: [
        [7, 7],
        [9, 10],
      ],
    });
    expect(compactWaitlist({ issued: 12, frontier: 5, holes: [], runs: [[7, 7]] })).toBe(undefined);
  });

  it('counts a ticket recorded both in a run and as a hole once', () => {
    const waitlist = { issued: 12, frontier: 3, holes: [5, 8], runs: [[5, 6]] as const };

    expect(waitlistPosition(10, waitlist)).toBe(10 - 3 - 3);
  });
});

/** The event item as stored, and its size. */
async function storedEvent(app: TestApp, eventId: string) {
  const { Item = {} } = await app.dynamo.doc.send(
    new GetCommand({
      TableName: app.config.tables.events,
      Key: eventsKeys.event(eventId),
      ConsistentRead: true,
    }),
  );
  return {
    bytes: itemBytes(Item),
    issued: Item.waitlistIssued as number,
    frontier: Item.waitlistFrontier as number,
    holes: [...((Item.waitlistHoles as Set<number> | undefined) ?? [])],
    runs: Item.waitlistHoleRuns as string | undefined,
  };
}

describe('waitlist bookkeeping on DynamoDB', () => {
  it(`keeps the event item small through ${CHURN} joins and leaves behind a head that never moves`, async () => {
    const app = await createEventsApp();
    const { registrations: events } = app.servicesOf(eventsModule);
    const { eventId } = await createEvent(app, {
      eventId: uniqueId('churn'),
      capacity: 1,
      hasWaitlist: true,
    });
    const [owner, patient] = await createUsers(app, 2, 'keeps');
    await registerAll(app, eventId, [owner, patient]);
    const start = await storedEvent(app, eventId);
    const pool = (await createUsers(app, 12, 'churn')).map((user) => user.userId);
    const idle = [...pool];
    const joined: string[] = [];
    const rng = random(3);
    let largest = start.bytes;

    let operations = CHURN;
    const worker = async () => {
      while (operations-- > 0) {
        const join = joined.length < 2 || (idle.length > 0 && rng.next() < 0.5);
        // The longest waiting leave first, mostly: every leave is behind the patient head.
        const from = join ? idle : joined;
        const at = rng.next() < 0.7 ? 0 : Math.floor(rng.next() * from.length);
        const [userId] = from.splice(at, 1) as [string];
        if (join) await events.register(eventId, userId);
        else await events.unregister(eventId, userId);
        (join ? joined : idle).push(userId);
        if (operations % 20 === 0)
          largest = Math.max(largest, (await storedEvent(app, eventId)).bytes);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    const waitlisted = (await eventRegistrations(app, eventId)).filter(
      (r) => r.status === 'waitlisted',
    );
    expect(waitlisted[0]?.userId).toBe(patient.userId);
    expect(waitlisted.map((r) => r.waitlistPosition)).toEqual(waitlisted.map((_, i) => i + 1));
    for (const userId of joined) await events.unregister(eventId, userId);
    const settled = await storedEvent(app, eventId);

    // At most 12 waiting behind the head and 8 joining: some 20 runs, under 200 bytes (the
    // tickets of 150 leaves one by one took some 450).
    expect(largest, 'largest event item seen (bytes)').toBeLessThan(start.bytes + 300);
    // Every ticket behind the patient head has left: one run of them, nothing one by one.
    expect(settled).toMatchObject({
      holes: [],
      runs: `${start.issued + 1}-${settled.issued}`,
    });

    // The owner leaves: the patient head takes the seat, and nobody waits or holds a ticket.
    await events.unregister(eventId, owner.userId);
    expect(await storedEvent(app, eventId)).toMatchObject({
      frontier: settled.issued,
      holes: [],
      runs: undefined,
    });
    expect(summary(await eventRegistrations(app, eventId))).toEqual([
      `${patient.userId}:confirmed`,
    ]);
  });

  it('keeps working on an event item the previous release wrote: holes as a set, tickets issued', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('legacy');
    const [seated, second, fourth, sixth, newcomer] = await createUsers(app, 5, 'legacy');
    const at = '2026-01-10T09:00:00.000Z';
    const previous = previousRelease(app, eventId, at);
    // Ticket 1 was promoted to the one seat, 3 and 5 left, 2, 4 and 6 wait.
    await previous.event({
      description: 'Holes as a number set',
      registeredCount: 1,
      waitlistCount: 3,
      waitlistIssued: 6,
      waitlistFrontier: 1,
      waitlistHoles: new Set([3, 5]),
      waitlistTicketAt: at,
    });
    await previous.registration(seated.userId, 1);
    await previous.registration(second.userId, 2, 2);
    await previous.registration(fourth.userId, 4, 4);
    await previous.registration(sixth.userId, 6, 6);

    expect(summary(await eventRegistrations(app, eventId))).toEqual([
      `${seated.userId}:confirmed`,
      `${second.userId}:waitlisted:1`,
      `${fourth.userId}:waitlisted:2`,
      `${sixth.userId}:waitlisted:3`,
    ]);
    expect(await register(app, eventId, newcomer.userId)).toMatchObject({
      status: 'waitlisted',
      waitlistPosition: 4,
    });

    // Ticket 4 leaves: 3, 4 and 5 become one run; the set of holes is gone.
    await app.call(`/events/${eventId}/registrations/${fourth.userId}`, { method: 'DELETE' });
    expect(await storedEvent(app, eventId)).toMatchObject({ frontier: 1, holes: [], runs: '3-5' });
    expect(summary(await eventRegistrations(app, eventId))).toEqual([
      `${seated.userId}:confirmed`,
      `${second.userId}:waitlisted:1`,
      `${sixth.userId}:waitlisted:2`,
      `${newcomer.userId}:waitlisted:3`,
    ]);

    // The seat passes to ticket 2; the frontier moves over the run behind it.
    await app.call(`/events/${eventId}/registrations/${seated.userId}`, { method: 'DELETE' });
    expect(await storedEvent(app, eventId)).toMatchObject({
      issued: 7,
      frontier: 5,
      holes: [],
      runs: undefined,
    });
    expect(summary(await eventRegistrations(app, eventId))).toEqual([
      `${second.userId}:confirmed`,
      `${sixth.userId}:waitlisted:1`,
      `${newcomer.userId}:waitlisted:2`,
    ]);
  });
});
