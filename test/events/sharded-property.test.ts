import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventsModule } from '../../src/modules/events/events.module.js';
import type { TestApp } from '../support/app.js';
import { shardPk } from '../support/sharded-items.js';
import { manualClock } from '../webhooks/fixtures.js';
import { createEvent, createEventsApp, createUser, uniqueId } from './fixtures.js';

/*
 * The sharded waitlist as a property (docs/decisions/sharded-capacity.md, *Exactness*): random
 * batches of registrations, unregisters (a waiting user's is a leave), capacity changes and
 * rebalances, each batch run at once through the real app on DynamoDB Local, on an event with
 * 2–4 shards, a few seats and a waitlist. After each batch and one run of the seat sweep, at rest:
 * per shard rows = counters and slice = taken + free; the slices sum to the capacity; one
 * registration per user, each row with its guard and each guard with its row; the latch the same
 * on every shard, on whenever anyone waits, and no seat free while anyone waits; and every user
 * the batch promoted held a lower ticket than everyone who was already waiting and still is.
 * Half the events pass seats as offers (a batch of 1–2): their holders accept, decline or let
 * them lapse (the clock moved past the window, then each offer's timer), and at rest the offers
 * out match the counters on every shard and the waitlist item, never more than the batch, and a
 * seat is free while anyone waits only when the batch is full; whoever left the waitlist other
 * than by leaving it (offered, confirmed, offer ended) held a lower ticket than all still waiting.
 * SHARDED_PROPERTY_SEED replays a run; SHARDED_PROPERTY_RUNS asks for more of them.
 */

const SHARDING = { EVENTS_SHARDING: 'on' };
const USERS = 6;
/** An offer's window; a lapse step moves the clock past it. */
const WINDOW = 60;
const RUNS = Number(process.env.SHARDED_PROPERTY_RUNS ?? 6);
const SEED = process.env.SHARDED_PROPERTY_SEED
  ? Number(process.env.SHARDED_PROPERTY_SEED)
  : Math.floor(Math.random() * 2 ** 31);

type Item = Record<string, unknown>;

type Step =
  | { readonly kind: 'register'; readonly user: number }
  | { readonly kind: 'unregister'; readonly user: number }
  /** The holder of the `nth` offer out (by ticket), if there is one, accepts or declines it. */
  | { readonly kind: 'accept' | 'decline'; readonly nth: number }
  | { readonly kind: 'lapse' }
  | { readonly kind: 'capacity'; readonly capacity: number }
  | {
      readonly kind: 'rebalance';
      readonly from: number;
      readonly to: number;
      readonly seats: number;
    };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('register' as const), user: fc.nat(USERS - 1) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('unregister' as const), user: fc.nat(USERS - 1) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('accept' as const, 'decline' as const),
      nth: fc.nat(1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lapse' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('capacity' as const),
      capacity: fc.integer({ min: 1, max: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rebalance' as const),
      from: fc.nat(3),
      to: fc.nat(3),
      seats: fc.integer({ min: 1, max: 2 }),
    }),
  },
);

const scenario = fc.record({
  shards: fc.integer({ min: 2, max: 4 }),
  capacity: fc.integer({ min: 1, max: 4 }),
  promotion: fc.constantFrom('instant' as const, 'offer' as const),
  offerBatch: fc.integer({ min: 1, max: 2 }),
  batches: fc.array(fc.array(step, { minLength: 1, maxLength: 3 }), { minLength: 3, maxLength: 8 }),
});

const register = (user: number): Step => ({ kind: 'register', user });
const unregister = (user: number): Step => ({ kind: 'unregister', user });
const act = (kind: 'accept' | 'decline'): Step => ({ kind, nth: 0 });
/** One seat on offer down a queue: declined, lapsed, accepted, then given up and offered on. */
const offerDrain: Step[][] = [
  ...Array.from({ length: USERS }, (_, user) => [register(user)]),
  [unregister(0)],
  [act('decline')],
  [{ kind: 'lapse' }],
  [act('accept')],
  [unregister(3)],
  [act('decline'), { kind: 'lapse' }],
];
/** One seat, everyone else waiting, then the seat passed down the queue user by user. */
const drain: Step[][] = [
  ...Array.from({ length: USERS }, (_, user) => [register(user)]),
  ...Array.from({ length: USERS - 1 }, (_, user) => [unregister(user)]),
];

let app: TestApp;
let users: string[];
// Near the real time: the outbox's event log is read by a window around it.
const time = manualClock(Math.floor(Date.now() / 1000) * 1000);

beforeAll(async () => {
  app = await createEventsApp({ env: SHARDING, clock: time.clock });
  users = Array.from({ length: USERS }, (_, i) => uniqueId(`prop${i}`));
  await Promise.all(users.map((id) => createUser(app, id)));
});

function table() {
  const TableName = app.config.tables.events;
  const send = app.dynamo.doc;
  return {
    TableName,
    get: async (PK: string, SK: string) =>
      (await send.send(new GetCommand({ TableName, Key: { PK, SK }, ConsistentRead: true }))).Item,
    rows: async (PK: string) =>
      (
        await send.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :reg)',
            ExpressionAttributeValues: { ':pk': PK, ':reg': 'REG#' },
            ConsistentRead: true,
          }),
        )
      ).Items ?? [],
  };
}

/** Seats moved between two shards as the service's rebalance moves them (slice with free). */
async function rebalance(eventId: string, from: number, to: number, seats: number) {
  const { TableName } = table();
  await app.dynamo.doc
    .send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName,
              Key: { PK: shardPk(eventId, from), SK: 'SHARD' },
              UpdateExpression: 'SET freeSeats = freeSeats - :m, slice = slice - :m',
              ConditionExpression: 'freeSeats >= :m',
              ExpressionAttributeValues: { ':m': seats },
            },
          },
          {
            Update: {
              TableName,
              Key: { PK: shardPk(eventId, to), SK: 'SHARD' },
              UpdateExpression: 'SET freeSeats = freeSeats + :m, slice = slice + :m',
              ExpressionAttributeValues: { ':m': seats },
            },
          },
        ],
      }),
    )
    .catch(() => undefined); // a condition failed or a conflict: nothing moved
}

/** What the data holds at rest: per shard, every row; each user's guard. */
async function snapshot(eventId: string, shards: number) {
  const t = table();
  const counters: Item[] = [];
  const rows: Item[][] = [];
  for (let s = 0; s < shards; s++) {
    counters.push((await t.get(shardPk(eventId, s), 'SHARD')) ?? {});
    rows.push(await t.rows(shardPk(eventId, s)));
  }
  const guards = new Map<string, Item | undefined>();
  for (const user of users) guards.set(user, await t.get(`USER#${user}`, `REG#${eventId}`));
  const event = await t.get(`EVENT#${eventId}`, 'EVENT');
  const waitlist = await t.get(`EVENT#${eventId}#W`, 'WAITLIST');
  return {
    counters,
    rows,
    guards,
    capacity: Number(event?.capacity),
    offerBatch: event?.promotion === 'offer' ? Number(event.offerBatch) : undefined,
    offersOut: Number(waitlist?.offeredCount ?? 0),
  };
}

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

const waitingTickets = (snap: Snapshot) =>
  new Map(
    snap.rows
      .flat()
      .filter((row) => row.status === 'waitlisted')
      .map((row) => [String(row.userId), Number(row.ticket)]),
  );

function checkAtRest(snap: Snapshot, context: string) {
  const { counters, rows, guards, capacity, offerBatch, offersOut } = snap;
  let slices = 0;
  let free = 0;
  let offered = 0;
  counters.forEach((counter, s) => {
    const mine = rows[s] ?? [];
    const taken = mine.filter((row) => row.status === 'confirmed' || row.status === 'offered');
    const waiting = mine.filter((row) => row.status === 'waitlisted');
    const where = `${context}, shard ${s}`;
    expect(taken.length, `${where}: taken rows = registeredCount`).toBe(counter.registeredCount);
    expect(waiting.length, `${where}: waiting rows = waitlistCount`).toBe(counter.waitlistCount);
    expect(
      mine.filter((row) => row.status === 'offered').length,
      `${where}: offered rows = offeredCount`,
    ).toBe(counter.offeredCount);
    expect(counter.slice, `${where}: slice = taken + free`).toBe(
      Number(counter.registeredCount) + Number(counter.freeSeats),
    );
    expect(Number(counter.freeSeats), `${where}: free ≥ 0`).toBeGreaterThanOrEqual(0);
    expect(counter.soldOut, `${where}: the latch is the same on every shard`).toBe(
      counters[0]?.soldOut,
    );
    slices += Number(counter.slice);
    free += Number(counter.freeSeats);
    offered += Number(counter.offeredCount);
  });
  expect(offersOut, `${context}: the waitlist item counts the offers out`).toBe(offered);
  expect(offered, `${context}: offers out within the batch`).toBeLessThanOrEqual(offerBatch ?? 0);
  expect(slices, `${context}: slices sum to the capacity`).toBe(capacity);
  const all = rows.flat();
  expect(new Set(all.map((row) => row.userId)).size, `${context}: one row per user`).toBe(
    all.length,
  );
  for (const [user, guard] of guards) {
    const row = all.find((r) => r.userId === user);
    expect(guard?.registrationId, `${context}: ${user}'s guard names their row`).toBe(
      row?.registrationId,
    );
    expect(guard?.ended === true, `${context}: ${user}'s guard ended with their offer`).toBe(
      row?.status === 'declined' || row?.status === 'expired',
    );
  }
  const waiting = all.filter((row) => row.status === 'waitlisted').length;
  if (waiting > 0) {
    expect(counters[0]?.soldOut, `${context}: someone waits, so the latch is on`).toBe(true);
    // In offer mode a seat stays free (reserved) while the batch is full.
    if (offered < (offerBatch ?? 1)) {
      expect(free, `${context}: no seat free while anyone waits`).toBe(0);
    }
  }
}

/**
 * FIFO: the users `before` held waiting and `after` holds confirmed were promoted; each held a
 * lower ticket than every user who waited before the batch and still waits after it.
 */
function checkPromotions(before: Snapshot, after: Snapshot, context: string) {
  const waitedBefore = waitingTickets(before);
  const waitingAfter = waitingTickets(after);
  // Passed a seat: confirmed or offered (or offered and ended since); not those who left.
  const passedAfter = new Set(
    after.rows
      .flat()
      .filter((row) => row.status !== 'waitlisted')
      .map((row) => String(row.userId)),
  );
  const promoted = [...waitedBefore].filter(([user]) => passedAfter.has(user));
  const stillWaiting = [...waitedBefore].filter(([user]) => waitingAfter.has(user));
  for (const [user, ticket] of promoted) {
    for (const [other, theirs] of stillWaiting) {
      expect(
        ticket < theirs,
        `${context}: ${user} (ticket ${ticket}) promoted ahead of ${other} (ticket ${theirs})`,
      ).toBe(true);
    }
  }
}

/** A registration's answer, when the step was one: its status (`confirmed`, `waitlisted`). */
async function run(eventId: string, s: Step, shards: number): Promise<string | undefined> {
  const user = 'user' in s ? users[s.user] : undefined;
  let res: Response | undefined;
  if (s.kind === 'register') {
    res = await app.call(`/events/${eventId}/registrations`, {
      method: 'POST',
      json: { userId: user },
    });
    expect([201, 409, 503], await res.clone().text()).toContain(res.status);
    if (res.status === 409) {
      const { code } = (await res.json()) as { code: string };
      expect(['EVENTS.ALREADY_REGISTERED', 'EVENTS.EVENT_FULL']).toContain(code);
    }
    if (res.status === 201) return ((await res.json()) as { status: string }).status;
  } else if (s.kind === 'unregister') {
    res = await app.call(`/events/${eventId}/registrations/${user}`, { method: 'DELETE' });
    expect([200, 404, 503], await res.clone().text()).toContain(res.status);
  } else if (s.kind === 'accept' || s.kind === 'decline') {
    const holder = (await snapshot(eventId, shards)).rows
      .flat()
      .filter((row) => row.status === 'offered')
      .sort((a, b) => Number(a.ticket) - Number(b.ticket))[s.nth]?.userId;
    if (holder === undefined) return undefined;
    res = await app.call(`/events/${eventId}/registrations/${holder}/offer/${s.kind}`, {
      method: 'POST',
    });
    expect([200, 404, 409, 410, 503], await res.clone().text()).toContain(res.status);
  } else if (s.kind === 'lapse') {
    // Every offer out is past its deadline; each one's timer fires.
    time.advance(WINDOW * 1000);
    const { offers: service } = app.servicesOf(eventsModule);
    await Promise.all(
      (await snapshot(eventId, shards)).rows
        .flat()
        .filter((row) => row.status === 'offered')
        .map((row) =>
          service
            .lapse({
              eventId,
              userId: String(row.userId),
              offerId: String(row.offerId),
            })
            .catch(() => undefined),
        ),
    );
  } else if (s.kind === 'capacity') {
    res = await app.call(`/events/${eventId}`, { method: 'PUT', json: { capacity: s.capacity } });
    expect([200, 409, 503], await res.clone().text()).toContain(res.status);
  } else if (s.kind === 'rebalance' && s.from % shards !== s.to % shards) {
    await rebalance(eventId, s.from % shards, s.to % shards, s.seats);
  }
  return undefined;
}

/**
 * The latch across a batch that frees no seat (registrations and rebalances only): while anyone
 * waited before it, nobody is confirmed (the latch stays on: nobody jumps the queue); and a latch
 * on after it leaves no seat free (it was set with every shard dry, and nothing freed one since).
 */
function checkLatch(
  before: Snapshot,
  after: Snapshot,
  batch: readonly Step[],
  answers: readonly (string | undefined)[],
  context: string,
) {
  const freesSeats = ['unregister', 'capacity', 'decline', 'lapse'];
  if (batch.some((s) => freesSeats.includes(s.kind))) return;
  if (waitingTickets(before).size > 0) {
    expect(
      answers.filter((a) => a === 'confirmed'),
      `${context}: confirmed while people waited`,
    ).toEqual([]);
  }
  if (after.counters[0]?.soldOut === true) {
    const free = after.counters.reduce((sum, c) => sum + Number(c.freeSeats), 0);
    expect(free, `${context}: the latch is on with seats free`).toBe(0);
  }
}

const seatSweep = () =>
  eventsModule.tasks
    ?.find((task) => task.name === 'fill-free-seats')
    ?.run(app.servicesOf(eventsModule) as never, { trigger: 'schedule' } as never);

describe('a sharded event with a waitlist under random interleavings', () => {
  it('keeps rows = counters, one registration per user, the latch, and FIFO promotion', async () => {
    try {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ shards, capacity, promotion, offerBatch, batches }) => {
          const { eventId } = await createEvent(app, {
            eventId: uniqueId('prop'),
            shards,
            capacity,
            hasWaitlist: true,
            date: '2099-06-01',
            promotion,
            offerBatch,
            offerWindowSeconds: WINDOW,
          });
          let before = await snapshot(eventId, shards);
          for (const [i, batch] of batches.entries()) {
            const answers = await Promise.all(batch.map((s) => run(eventId, s, shards)));
            await seatSweep();
            const after = await snapshot(eventId, shards);
            const context = `batch ${i} ${JSON.stringify(batch)}`;
            checkAtRest(after, context);
            checkLatch(before, after, batch, answers, context);
            checkPromotions(before, after, context);
            before = after;
          }
        }),
        {
          seed: SEED,
          numRuns: RUNS,
          endOnFailure: true,
          // First, a queue over two shards drained one seat at a time: every promotion must take
          // the lowest ticket of all shards, not a shard's own head.
          examples: [
            [{ shards: 2, capacity: 1, promotion: 'instant', offerBatch: 1, batches: drain }],
            [{ shards: 3, capacity: 2, promotion: 'offer', offerBatch: 1, batches: offerDrain }],
          ],
        },
      );
    } catch (error) {
      console.error(`sharded property failed: SHARDED_PROPERTY_SEED=${SEED}`);
      throw error;
    }
  }, 120_000);
});
