import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { shardOf } from '../../src/modules/events/events.shards.rules.js';
import { loggedEvents, type TestApp } from '../support/app.js';
import {
  both,
  commandIs,
  delayCalls,
  type FailPlan,
  failCalls,
  gate,
  inputMentions,
  throttled,
  transactionConflict,
} from '../support/faults.js';
import { until } from '../support/poll.js';
import { eventPartitions, type Item, shardedItems, shardPk } from '../support/sharded-items.js';
import { manualClock } from '../webhooks/fixtures.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUser,
  type Event,
  expectProblem,
  getEvent,
  type Registration,
  type UserRegistration,
  uniqueId,
} from './fixtures.js';

/*
 * Registrations on sharded events, slice 3 (docs/decisions/sharded-capacity.md): a confirm takes
 * a seat on one shard counter, puts its row in that shard's partition and a guard in the user's;
 * a dry shard is refilled from the fullest (rebalance); an unregister frees the seat on the row's
 * shard. Once every shard is dry the sold-out latch is set on all of them: a newcomer joins the
 * waitlist (tickets from its shard's block, one global order) or, without one, is told full; a
 * seat freed while the latch is on passes to the lowest ticket over every shard.
 */

const SHARDING = { EVENTS_SHARDING: 'on' };

async function createSharded(app: TestApp, overrides: Record<string, unknown> = {}) {
  return createEvent(app, { eventId: uniqueId('hot'), shards: 4, capacity: 8, ...overrides });
}

const registerCall = (app: TestApp, eventId: string, userId: string, key?: string) =>
  app.call(`/events/${eventId}/registrations`, {
    method: 'POST',
    json: { userId },
    ...(key ? { headers: { 'idempotency-key': key } } : {}),
  });

async function users(app: TestApp, count: number, label = 'fan'): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => uniqueId(`${label}${i}`));
  await Promise.all(ids.map((id) => createUser(app, id)));
  return ids;
}

const sum = (items: readonly Item[], field: string) =>
  items.reduce((total, item) => total + Number(item[field]), 0);

/** Every stored invariant of a quiet sharded event (rows = counters per shard, one per user). */
async function expectConsistent(app: TestApp, eventId: string, shards: number, capacity: number) {
  const items = shardedItems(app);
  const counters = await items.shards(eventId, shards);
  const rows = await items.rows(eventId, shards);
  expect(sum(counters, 'slice')).toBe(capacity);
  counters.forEach((counter, s) => {
    expect(counter.slice, `shard ${s}`).toBe(
      Number(counter.registeredCount) + Number(counter.freeSeats),
    );
    expect(Number(counter.freeSeats), `shard ${s}`).toBeGreaterThanOrEqual(0);
    expect(rows[s]?.length, `shard ${s} rows`).toBe(counter.registeredCount);
    for (const row of rows[s] ?? []) {
      expect(row).toMatchObject({ status: 'confirmed', shard: s, eventId });
      expect(shardOf(String(row.registrationId))).toBe(s);
      expect(row.GSI3PK).toBe(`TICKETS#${eventId}#${String(s).padStart(2, '0')}`);
      expect(row.LSI1SK).toBe(`C#${row.registrationId}`);
    }
  });
  const all = rows.flat();
  expect(new Set(all.map((row) => row.userId)).size).toBe(all.length);
  for (const row of all) {
    expect(await items.guard(String(row.userId), eventId)).toMatchObject({
      eventId,
      shard: row.shard,
      registrationId: row.registrationId,
    });
  }
  // A registration never writes the event item.
  expect(await items.event(eventId)).not.toHaveProperty('registeredCount');
  return { counters, rows: all };
}

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * An events app with sharding on whose DynamoDB calls `plan` picks fail as it says, once armed
 * (the set-up before `arm()` goes through).
 */
async function appFailingOnceArmed(plan: FailPlan) {
  let armed = false;
  let failed = () => 0;
  const app = await createEventsApp({
    env: SHARDING,
    dynamo: (clients) => {
      ({ failed } = failCalls(clients, { ...plan, when: (call) => armed && plan.when(call) }));
      return clients;
    },
  });
  return {
    app,
    arm: () => {
      armed = true;
    },
    disarm: () => {
      armed = false;
    },
    failed: () => failed(),
  };
}

/**
 * A 2-shard event of 4 seats with one registration, then a second registration whose
 * transactions on shard 0 — the first shard the view shows with seats (Math.random is 0) — meet
 * TransactionConflict `times` times.
 */
async function registerMeetingConflictsOnShard0(times: number) {
  vi.spyOn(Math, 'random').mockReturnValue(0);
  const { app, arm, disarm, failed } = await appFailingOnceArmed({
    when: both(commandIs('TransactWrite'), inputMentions('#S00')),
    times,
    error: transactionConflict(5),
  });
  const { eventId } = await createSharded(app, { capacity: 4, shards: 2 });
  const fans = await users(app, 2);
  await bodyOf(await registerCall(app, eventId, fans[0] as string), 201);
  arm();
  const registered = await bodyOf<Registration>(
    await registerCall(app, eventId, fans[1] as string),
    201,
  );
  return { app, eventId, registered, conflicts: { failed }, disarm };
}

describe('registering for a sharded event', () => {
  it('confirms exactly the capacity of 50 concurrent users on 4 shards and refuses the rest as full', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { capacity: 20 });
    const fans = await users(app, 50);

    const answers = await Promise.all(fans.map((userId) => registerCall(app, eventId, userId)));

    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 409)).toHaveLength(30);
    for (const res of answers.filter((r) => r.status === 409)) {
      await expectProblem(res, 409, 'EVENTS.EVENT_FULL');
    }
    const { counters, rows } = await expectConsistent(app, eventId, 4, 20);
    expect(sum(counters, 'registeredCount')).toBe(20);
    expect(sum(counters, 'freeSeats')).toBe(0);
    expect(rows).toHaveLength(20);
    expect(await getEvent(app, eventId)).toMatchObject({ registeredCount: 20, shards: 4 });
    const confirmed = (await loggedEvents(app))
      .filter((e) => e.type === 'registration.confirmed')
      .map((e) => e.data as { eventId: string; registrationId: string })
      .filter((data) => data.eventId === eventId);
    expect(confirmed.map((data) => data.registrationId).sort()).toEqual(
      rows.map((row) => row.registrationId).sort(),
    );
  });

  it('answers the registration with its id carrying its shard, and announces it once', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app);
    const [fan] = await users(app, 1);

    const registration = await bodyOf<Registration>(
      await registerCall(app, eventId, fan as string),
      201,
    );

    expect(registration).toMatchObject({ userId: fan, eventId, status: 'confirmed' });
    const { rows } = await expectConsistent(app, eventId, 4, 8);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      registrationId: registration.registrationId,
      shard: shardOf(registration.registrationId),
    });
    const announced = (await loggedEvents(app)).filter(
      (e) => e.aggregate.id === registration.registrationId,
    );
    expect(announced.map((e) => [e.type, e.aggregate.sequence])).toEqual([
      ['registration.confirmed', 1],
    ]);
  });

  it('keeps one registration for the same user registering 6 times at once', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { capacity: 40 });
    const [fan] = await users(app, 1);

    const answers = await Promise.all(
      Array.from({ length: 6 }, () => registerCall(app, eventId, fan as string)),
    );

    expect(answers.filter((res) => res.status === 201)).toHaveLength(1);
    for (const res of answers.filter((r) => r.status !== 201)) {
      await expectProblem(res, 409, 'EVENTS.ALREADY_REGISTERED');
    }
    const { rows, counters } = await expectConsistent(app, eventId, 4, 40);
    expect(rows).toHaveLength(1);
    expect(sum(counters, 'registeredCount')).toBe(1);
  });

  it('answers a retry of the same request with its registration, and another request 409', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { capacity: 4 });
    const [fan, other] = await users(app, 2);
    const { registrations } = app.servicesOf(eventsModule);

    // The request key is what a route derives from an Idempotency-Key: a retry whose first
    // answer was lost (or whose idempotency record is gone) gets the registration it made.
    const first = await registrations.register(eventId, fan as string, 'request-1');
    const again = await registrations.register(eventId, fan as string, 'request-1');
    expect(again.registration).toEqual(first.registration);
    await expect(registrations.register(eventId, fan as string, 'request-2')).rejects.toMatchObject(
      {
        code: 'EVENTS.ALREADY_REGISTERED',
      },
    );
    // Also once every shard is dry: the retry still gets its registration.
    for (let i = 0; i < 3; i++) {
      await registrations.register(eventId, (await users(app, 1, 'filler'))[0] as string);
    }
    const late = await registrations.register(eventId, fan as string, 'request-1');
    expect(late.registration).toEqual(first.registration);
    await expect(registrations.register(eventId, other as string)).rejects.toMatchObject({
      code: 'EVENTS.EVENT_FULL',
    });
    await expectConsistent(app, eventId, 4, 4);
  });

  it('refuses with the same precedence as an unsharded event and changes nothing', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { capacity: 4 });
    const closed = await createSharded(app, { status: 'cancelled' });
    const [fan] = await users(app, 1);
    const before = await shardedItems(app).shards(eventId, 4);

    await expectProblem(await registerCall(app, eventId, 'nobody'), 404, 'EVENTS.USER_NOT_FOUND');
    await expectProblem(
      await registerCall(app, closed.eventId, fan as string),
      409,
      'EVENTS.EVENT_CLOSED',
    );
    await expectProblem(
      await registerCall(app, uniqueId('missing'), fan as string),
      404,
      'EVENTS.EVENT_NOT_FOUND',
    );

    expect(await shardedItems(app).shards(eventId, 4)).toEqual(before);
    expect(await shardedItems(app).guard('nobody', eventId)).toBeUndefined();
    expect((await shardedItems(app).rows(eventId, 4)).flat()).toEqual([]);
  });

  it('answers an unknown user and a second registration before full once every shard is dry', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { capacity: 2, shards: 2 });
    const [a, b, c] = await users(app, 3);
    await bodyOf(await registerCall(app, eventId, a as string), 201);
    await bodyOf(await registerCall(app, eventId, b as string), 201);

    await expectProblem(await registerCall(app, eventId, 'nobody'), 404, 'EVENTS.USER_NOT_FOUND');
    await expectProblem(
      await registerCall(app, eventId, a as string),
      409,
      'EVENTS.ALREADY_REGISTERED',
    );
    const full = await expectProblem(
      await registerCall(app, eventId, c as string),
      409,
      'EVENTS.EVENT_FULL',
    );
    expect(full.detail).toMatch(/full/);
    await expectConsistent(app, eventId, 2, 2);
  });

  it("reads the counters and the event's partition a few times for a burst of registrations that find every shard dry, not once each", async () => {
    const eventId = uniqueId('hot');
    let counting = false;
    let counterReads = 0;
    let eventReads = 0;
    const app = await createEventsApp({
      env: SHARDING,
      dynamo: (clients) => {
        delayCalls(clients, {
          when: (call) => {
            if (!counting || !/^(BatchGet|GetItem|Query)/.test(call.command)) return false;
            if (inputMentions('"SHARD"')(call)) counterReads++;
            if (inputMentions(`"EVENT#${eventId}"`)(call)) eventReads++;
            return false;
          },
        });
        return clients;
      },
    });
    await createSharded(app, { eventId, capacity: 2, shards: 2 });
    const fans = await users(app, 22);
    for (const fan of fans.slice(0, 2)) await bodyOf(await registerCall(app, eventId, fan), 201);
    counting = true;

    const answers = await Promise.all(
      fans.slice(2).map((userId) => registerCall(app, eventId, userId)),
    );

    for (const res of answers) await expectProblem(res, 409, 'EVENTS.EVENT_FULL');
    // Each refusal rests on a read begun after it found the shards dry; the 20 share a few, and
    // each refusal's own reads are in its user's partition.
    expect(counterReads).toBeGreaterThan(0);
    expect(counterReads).toBeLessThan(10);
    expect(eventReads).toBeLessThan(10);
  });

  it('rebalances seats into a shard its view showed free but found dry, and sells every seat', async () => {
    // The shard chosen is the first the view shows with seats; the clock stands still, so the
    // view is never too old to be used.
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const at = new Date('2030-01-01T10:00:00.000Z');
    const app = await createEventsApp({ env: SHARDING, clock: () => at });
    const { eventId } = await createSharded(app, { capacity: 8 });
    const fans = await users(app, 9);
    const items = shardedItems(app);
    await bodyOf(await registerCall(app, eventId, fans[0] as string), 201);
    expect((await items.rows(eventId, 4))[0]).toHaveLength(1);
    // Another process moves shard 0's last free seat away: this process's view still shows it.
    await items.moveSeats(eventId, 0, 3, 1);

    await bodyOf(await registerCall(app, eventId, fans[1] as string), 201);

    // Its commit found shard 0 dry, so half of the fullest shard's free seats (shard 1 as the
    // view saw it: 2) moved to shard 0, and it confirmed there.
    const counters = await items.shards(eventId, 4);
    expect(counters.map((c) => [c.slice, c.registeredCount, c.freeSeats])).toEqual([
      [2, 2, 0],
      [1, 0, 1],
      [2, 0, 2],
      [3, 0, 3],
    ]);
    expect((await items.rows(eventId, 4))[0]?.map((row) => row.userId).sort()).toEqual(
      [fans[0], fans[1]].sort(),
    );
    for (const fan of fans.slice(2, 8)) {
      await bodyOf(await registerCall(app, eventId, fan as string), 201);
    }
    await expectProblem(
      await registerCall(app, eventId, fans[8] as string),
      409,
      'EVENTS.EVENT_FULL',
    );
    const { rows } = await expectConsistent(app, eventId, 4, 8);
    expect(rows).toHaveLength(8);
  });

  it('sells every seat when the shards run dry unevenly under concurrent registrations', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { capacity: 8 });
    const fans = await users(app, 30);

    const answers = await Promise.all(fans.map((userId) => registerCall(app, eventId, userId)));

    expect(answers.filter((res) => res.status === 201)).toHaveLength(8);
    const { rows } = await expectConsistent(app, eventId, 4, 8);
    expect(rows).toHaveLength(8);
  });

  it('retries a registration whose transaction meets TransactionConflict', async () => {
    const { app, eventId, registered, conflicts } = await registerMeetingConflictsOnShard0(3);

    expect(shardOf(registered.registrationId)).toBe(0);
    expect(conflicts?.failed()).toBe(3);
    const { rows } = await expectConsistent(app, eventId, 2, 4);
    expect(rows).toHaveLength(2);
  });
});

describe('a process new to a sharded event', () => {
  it('goes to the shards when its first try, on the event item as for any event, stays busy', async () => {
    // A process that has not seen an event tries it as an unsharded one (a transaction on the
    // event item, whose failed condition shows the shards). The first requests of an on-sale
    // arrive at once and conflict with each other there: contention on an item a sharded
    // event's registrations never write is no reason for a 503.
    const { app, arm } = await appFailingOnceArmed({
      when: (call) => commandIs('TransactWrite')(call) && !inputMentions('#S0')(call),
      times: 50,
      error: transactionConflict(5),
    });
    const { eventId } = await createSharded(app, { capacity: 4, shards: 2 });
    const [fan] = await users(app, 1);
    arm();

    const placed = await bodyOf<Registration>(await registerCall(app, eventId, fan as string), 201);
    expect(placed.status).toBe('confirmed');
  });
});

describe('requests queued behind a shard', () => {
  it('skip their write when the process learned meanwhile that the shard is dry', async () => {
    // Every confirm picks shard 0 first; its first transactions are held until two are in
    // flight (the lane's width) and six more queue behind them. One takes the seat, the other
    // finds the shard dry — and the six queued, deciding on the same old view, need not write to
    // learn it again: at the moment of a sell-out those writes are what keeps every shard's key
    // throttled.
    const held = gate();
    let armed = false;
    let toShard0 = () => 0;
    const app = await createEventsApp({
      env: SHARDING,
      dynamo: (clients) => {
        const delayed = delayCalls(clients, {
          // A confirm: a row put in shard 0 (the latch's transaction updates every counter), once
          // the event is created (its counters are puts too).
          when: (call) =>
            armed &&
            both(
              commandIs('TransactWrite'),
              both(inputMentions('#S00'), inputMentions('"Put"')),
            )(call),
          until: held.opened,
        });
        toShard0 = delayed.count;
        return clients;
      },
    });
    const { eventId } = await createSharded(app, { capacity: 2, shards: 2 });
    const fans = await users(app, 8);
    const counted = toShard0();
    armed = true;
    vi.spyOn(Math, 'random').mockReturnValue(0);

    const answers = fans.map((fan) => registerCall(app, eventId, fan));
    await until(toShard0, (n) => n - counted >= 2, { intervalMs: 20 });
    held.open();
    const statuses = await Promise.all(answers.map(async (answer) => (await answer).status));

    expect(statuses.filter((status) => status === 201)).toHaveLength(2);
    expect(statuses.filter((status) => status === 409)).toHaveLength(6);
    expect(toShard0() - counted).toBe(2);
  });
});

describe('the sold-out latch at the moment of sell-out', () => {
  /** The app, with its first `throttledLeases` lease attempts on the latch throttled once armed. */
  const appThrottlingLeases = (throttledLeases: number) =>
    appFailingOnceArmed({
      when: both(commandIs('UpdateItem'), inputMentions('SET latchLeaseAt')),
      times: throttledLeases,
      error: throttled(),
    });

  it('waits out a throttled lease instead of answering 503', async () => {
    // DynamoDB throttles the lease's key when many processes try it at once: not an outage,
    // another request has it or soon will.
    const { app, arm } = await appThrottlingLeases(3);
    const { eventId } = await createSharded(app, { capacity: 2, shards: 2 });
    const fans = await users(app, 3);
    for (const fan of fans.slice(0, 2)) await bodyOf(await registerCall(app, eventId, fan), 201);
    arm();

    await expectProblem(
      await registerCall(app, eventId, fans[2] as string),
      409,
      'EVENTS.EVENT_FULL',
    );
  });
});

describe('a shard that stays busy', () => {
  it('takes the seat in another shard when one stays in conflict through every try', async () => {
    // Shard 0's transactions always conflict.
    const { app, eventId, registered, conflicts, disarm } = await registerMeetingConflictsOnShard0(
      Number.POSITIVE_INFINITY,
    );

    expect(shardOf(registered.registrationId)).toBe(1);
    expect(conflicts?.failed()).toBeGreaterThan(1);
    disarm();
    const { rows } = await expectConsistent(app, eventId, 2, 4);
    expect(rows).toHaveLength(2);
  });
});

describe('a sold-out latch that stays busy', () => {
  it('decides again when setting the latch stays in conflict through every try, and tells full', async () => {
    // The latch's transaction (it sets soldOut on every counter) conflicts through one commit's
    // every try, then goes through.
    const { app, arm, failed } = await appFailingOnceArmed({
      when: both(commandIs('TransactWrite'), inputMentions('SET soldOut')),
      times: 8,
      error: transactionConflict(2),
    });
    const { eventId } = await createSharded(app, { capacity: 2, shards: 2 });
    const fans = await users(app, 3);
    for (const fan of fans.slice(0, 2)) await bodyOf(await registerCall(app, eventId, fan), 201);
    arm();

    await expectProblem(
      await registerCall(app, eventId, fans[2] as string),
      409,
      'EVENTS.EVENT_FULL',
    );

    expect(failed()).toBe(8);
    const counters = await shardedItems(app).shards(eventId, 2);
    expect(counters.map((c) => c.soldOut)).toEqual([true, true]);
  });
});

describe('a view that cannot be read again', () => {
  it('registers on the view it has when reading the counters again is refused', async () => {
    let now = Date.parse('2030-01-01T10:00:00.000Z');
    let refusing = false;
    const app = await createEventsApp({
      env: SHARDING,
      clock: () => new Date(now),
      dynamo: (clients) => {
        failCalls(clients, {
          when: (call) =>
            refusing && commandIs('BatchGetItem')(call) && inputMentions('"SHARD"')(call),
          times: Number.POSITIVE_INFINITY,
          error: throttled(),
        });
        return clients;
      },
    });
    const { eventId } = await createSharded(app, { capacity: 8 });
    const fans = await users(app, 2);
    await bodyOf(await registerCall(app, eventId, fans[0] as string), 201);
    // The view's counters are now too old to use, and the counters' keys throttle every read.
    now += 2_000;
    refusing = true;

    await bodyOf(await registerCall(app, eventId, fans[1] as string), 201);

    refusing = false;
    const { rows } = await expectConsistent(app, eventId, 4, 8);
    expect(rows).toHaveLength(2);
  });
});

describe('unregistering from a sharded event', () => {
  it("frees the seat on the row's shard, revokes its ticket there, and a newcomer gets it", async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { capacity: 4 });
    const fans = await users(app, 5);
    const registrations: Registration[] = [];
    for (const fan of fans.slice(0, 4)) {
      registrations.push(await bodyOf<Registration>(await registerCall(app, eventId, fan), 201));
    }
    await expectProblem(
      await registerCall(app, eventId, fans[4] as string),
      409,
      'EVENTS.EVENT_FULL',
    );
    const leaving = registrations[2] as Registration;
    const shard = shardOf(leaving.registrationId);

    const res = await app.call(`/events/${eventId}/registrations/${leaving.userId}`, {
      method: 'DELETE',
    });

    expect(await bodyOf(res, 200)).toMatchObject({ promoted: [], offered: [] });
    const items = shardedItems(app);
    expect(await items.guard(leaving.userId, eventId)).toBeUndefined();
    expect((await items.shards(eventId, 4))[shard]).toMatchObject({
      registeredCount: 0,
      freeSeats: 1,
      slice: 1,
    });
    expect(await items.partition(shardPk(eventId, shard), 'REVOKED#')).toEqual([
      expect.objectContaining({
        registrationId: leaving.registrationId,
        GSI3PK: `TICKETS#${eventId}#${String(shard).padStart(2, '0')}`,
      }),
    ]);
    expect(await items.partition(`EVENT#${eventId}`, 'REVOKED#')).toEqual([]);
    const cancelled = (await loggedEvents(app)).filter(
      (e) => e.type === 'registration.cancelled' && e.aggregate.id === leaving.registrationId,
    );
    expect(cancelled.map((e) => e.aggregate.sequence)).toEqual([2]);

    const newcomer = await bodyOf<Registration>(
      await registerCall(app, eventId, fans[4] as string),
      201,
    );
    expect(shardOf(newcomer.registrationId)).toBe(shard);
    await expectConsistent(app, eventId, 4, 4);
    await expectProblem(
      await app.call(`/events/${eventId}/registrations/${leaving.userId}`, { method: 'DELETE' }),
      404,
      'EVENTS.REGISTRATION_NOT_FOUND',
    );
    // Registering again after leaving is a new registration.
    await expectProblem(await registerCall(app, eventId, leaving.userId), 409, 'EVENTS.EVENT_FULL');
  });
});

describe('reading the registrations of a sharded event', () => {
  it("finds a sharded registration by user: its ticket and the user's list, with the event summed", async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { capacity: 4 });
    const plain = await createEvent(app, { eventId: uniqueId('plain') });
    const [fan, other] = await users(app, 2);
    const registration = await bodyOf<Registration>(
      await registerCall(app, eventId, fan as string),
      201,
    );
    await bodyOf(await registerCall(app, eventId, other as string), 201);
    await bodyOf(await registerCall(app, plain.eventId, fan as string), 201);

    const ticket = await app.call(`/events/${eventId}/registrations/${fan}/ticket`);
    expect(ticket.status).toBe(200);

    const listed = await bodyOf<UserRegistration[]>(
      await app.call(`/users/${fan}/registrations`),
      200,
    );
    expect(listed.map((r) => r.eventId).sort()).toEqual([eventId, plain.eventId].sort());
    const mine = listed.find((r) => r.eventId === eventId);
    expect(mine).toMatchObject({
      registrationId: registration.registrationId,
      status: 'confirmed',
      event: { eventId, shards: 4, registeredCount: 2, capacity: 4 },
    });
  });

  it('answers every reader of a whole event, the door included, without a 5xx while it has registrations', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { capacity: 4 });
    const [fan] = await users(app, 1);
    await bodyOf(await registerCall(app, eventId, fan as string), 201);
    const { ticket } = await bodyOf<{ ticket: string }>(
      await app.call(`/events/${eventId}/registrations/${fan}/ticket`, {
        headers: { accept: 'application/json' },
      }),
      200,
    );

    const answers = [
      await app.call(`/events/${eventId}/registrations`),
      await app.call(`/events/${eventId}/registrations.csv`),
      await app.call(`/events/${eventId}/stats`),
      await app.call(`/events/${eventId}/checkins/stats`),
      await app.call(`/events/${eventId}/tickets/manifest`),
      await app.call(`/events/${eventId}/tickets/revocations`),
      await app.call(`/events/${eventId}/checkins`, {
        method: 'POST',
        json: { userId: fan, nonce: 'nonce-by-user-1' },
      }),
      await app.call(`/events/${eventId}/checkins`, {
        method: 'POST',
        json: { ticket, nonce: 'nonce-by-ticket-1' },
      }),
    ];
    for (const [i, res] of answers.entries()) {
      expect(res.status, `${i}: ${await res.clone().text()}`).toBeLessThan(500);
    }
  });

  // The readers of the whole event (list, export, stats, the door): sharded-readers.test.ts.
});

describe('deleting a sharded event with registrations', () => {
  it('removes its rows, their guards and its counters', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { capacity: 6 });
    const fans = await users(app, 5);
    for (const fan of fans) await bodyOf(await registerCall(app, eventId, fan), 201);

    const res = await app.call(`/events/${eventId}`, { method: 'DELETE' });

    expect(await bodyOf(res, 200)).toMatchObject({ eventId, deletedRegistrations: 5 });
    const items = shardedItems(app);
    for (const pk of eventPartitions(eventId, 4)) {
      expect(await items.partition(pk), pk).toEqual([]);
    }
    for (const fan of fans) expect(await items.guard(fan, eventId)).toBeUndefined();
    const listed = await bodyOf<UserRegistration[]>(
      await app.call(`/users/${fans[0]}/registrations`),
      200,
    );
    expect(listed).toEqual([]);
    // The id is free again, and its old registrations hold nothing there.
    await createSharded(app, { eventId, capacity: 6 });
    await bodyOf(await registerCall(app, eventId, fans[0] as string), 201);
  });

  it('finishes an interrupted deletion: a page of rows goes only once its guards have', async () => {
    let batches = 0;
    // The deletion's first batch goes through, every later one fails.
    const { app, arm, disarm } = await appFailingOnceArmed({
      when: (call) => commandIs('BatchWriteItem')(call) && ++batches > 1,
      times: Number.POSITIVE_INFINITY,
      error: throttled(),
    });
    // Every seat sold: 2 rows on each shard.
    const { eventId } = await createSharded(app, { capacity: 4, shards: 2 });
    const fans = await users(app, 4);
    for (const fan of fans) await bodyOf(await registerCall(app, eventId, fan), 201);
    arm();

    await expectProblem(await app.call(`/events/${eventId}`, { method: 'DELETE' }), 503);
    disarm();
    // Shard 0's first page: its guards went, its rows stayed (there to find them by).
    expect((await shardedItems(app).rows(eventId, 2)).flat()).toHaveLength(4);

    expect(await app.servicesOf(eventsModule).events.finishDeletions()).toBe(1);

    for (const fan of fans) expect(await shardedItems(app).guard(fan, eventId)).toBeUndefined();
    expect((await shardedItems(app).rows(eventId, 2)).flat()).toEqual([]);
  });
});

describe('a sharded event seen through GET while registrations land', () => {
  it('sums the shards', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { capacity: 8 });
    const fans = await users(app, 3);
    for (const fan of fans) await bodyOf(await registerCall(app, eventId, fan), 201);

    expect(await getEvent(app, eventId)).toMatchObject<Partial<Event>>({
      registeredCount: 3,
      capacity: 8,
    });
  });
});

describe('the sold-out latch and the waitlist across shards', () => {
  const waitlistItem = (app: TestApp, eventId: string) =>
    shardedItems(app).get(`EVENT#${eventId}#W`, 'WAITLIST');

  /** Per shard: waiting rows = waitlistCount, taken rows = registeredCount, the latch the same. */
  async function expectBalanced(app: TestApp, eventId: string, shards: number, capacity: number) {
    const items = shardedItems(app);
    const counters = await items.shards(eventId, shards);
    const rows = await items.rows(eventId, shards);
    expect(sum(counters, 'slice')).toBe(capacity);
    counters.forEach((counter, s) => {
      const mine = rows[s] ?? [];
      const waiting = mine.filter((row) => row.status === 'waitlisted');
      expect(waiting.length, `shard ${s} waiting`).toBe(counter.waitlistCount);
      expect(mine.length - waiting.length, `shard ${s} taken`).toBe(counter.registeredCount);
      expect(counter.slice).toBe(Number(counter.registeredCount) + Number(counter.freeSeats));
      expect(counter.soldOut).toBe(counters[0]?.soldOut);
      for (const row of waiting)
        expect(row.LSI1SK).toBe(`W#${String(row.ticket).padStart(12, '0')}`);
    });
    for (const row of rows.flat()) {
      expect(await items.guard(String(row.userId), eventId)).toMatchObject({
        registrationId: row.registrationId,
      });
    }
    return { counters, rows: rows.flat() };
  }

  /**
   * Two seats taken, then `waiting` joins — from one shard (the last) when `joinsFrom` says so,
   * else from shards picked at random.
   */
  async function soldOutWithWaitlist(
    app: TestApp,
    waiting: number,
    { joinsFrom }: { joinsFrom?: 'last-shard' } = {},
  ) {
    const { eventId } = await createSharded(app, { capacity: 2, shards: 2, hasWaitlist: true });
    const fans = await users(app, 2 + waiting);
    const confirmed: Registration[] = [];
    for (const fan of fans.slice(0, 2)) {
      confirmed.push(await bodyOf<Registration>(await registerCall(app, eventId, fan), 201));
    }
    if (joinsFrom === 'last-shard') vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const joined: Registration[] = [];
    for (const fan of fans.slice(2)) {
      joined.push(await bodyOf<Registration>(await registerCall(app, eventId, fan), 201));
    }
    return { eventId, confirmed, joined };
  }

  it('sets the latch on every shard once all are dry and puts newcomers on the waitlist in order', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId, joined } = await soldOutWithWaitlist(app, 3);

    expect(joined.map((r) => r.status)).toEqual(['waitlisted', 'waitlisted', 'waitlisted']);
    // Told places count the untaken tickets of other shards' open blocks as ahead: the first is
    // 1, and each later join is told a place further back.
    const places = joined.map((r) => Number(r.waitlistPosition));
    expect(places[0]).toBe(1);
    expect(places).toEqual([...places].sort((a, b) => a - b));
    expect(new Set(places).size).toBe(3);
    const { counters, rows } = await expectBalanced(app, eventId, 2, 2);
    expect(counters.every((c) => c.soldOut === true)).toBe(true);
    const tickets = rows.filter((r) => r.status === 'waitlisted').map((r) => Number(r.ticket));
    expect(new Set(tickets).size).toBe(3);
    for (const r of joined)
      expect(shardOf(r.registrationId)).toBe(
        rows.find((row) => row.registrationId === r.registrationId)?.shard,
      );
    expect(Number((await waitlistItem(app, eventId))?.waitlistIssued)).toBeGreaterThanOrEqual(3);
    const event = await getEvent(app, eventId);
    expect(event).toMatchObject({ registeredCount: 2, waitlistCount: 3 });
    const waitlisted = (await loggedEvents(app)).filter(
      (e) => e.type === 'registration.waitlisted' && e.aggregate.id === joined[0]?.registrationId,
    );
    expect(waitlisted).toHaveLength(1);
  });

  it('passes a freed seat to the lowest ticket over every shard, moving the seat between shards', async () => {
    // The clock stands still (near the real time: the outbox's log is read by a window around
    // it), so the ticket block is still open when the list is read: places are told as of then
    // whatever the machine's load, not after a block expired between two joins.
    const time = manualClock(Math.floor(Date.now() / 1000) * 1000);
    const app = await createEventsApp({ env: SHARDING, clock: time.clock });
    // Every join from the last shard: no other shard holds an open block whose untaken tickets
    // the places would count (a standing clock makes blocks of 32), whichever shards the seats
    // went to.
    const { eventId, confirmed, joined } = await soldOutWithWaitlist(app, 3, {
      joinsFrom: 'last-shard',
    });
    const leaving = confirmed.find((r) => shardOf(r.registrationId) === 0) as Registration;

    const res = await app.call(`/events/${eventId}/registrations/${leaving.userId}`, {
      method: 'DELETE',
    });

    const body = await bodyOf<{ promoted: Registration[] }>(res, 200);
    expect(body.promoted.map((r) => r.userId)).toEqual([joined[0]?.userId]);
    const { counters, rows } = await expectBalanced(app, eventId, 2, 2);
    expect(sum(counters, 'waitlistCount')).toBe(2);
    const head = rows.find((r) => r.userId === joined[0]?.userId);
    expect(head).toMatchObject({ status: 'confirmed', LSI1SK: `C#${head?.registrationId}` });
    expect(head?.GSI3PK).toBe(`TICKETS#${eventId}#${String(head?.shard).padStart(2, '0')}`);
    const list = await bodyOf<Registration[]>(
      await app.call(`/events/${eventId}/registrations`),
      200,
    );
    expect(
      list.filter((r) => r.status === 'waitlisted').map((r) => [r.userId, r.waitlistPosition]),
    ).toEqual([
      [joined[1]?.userId, 1],
      [joined[2]?.userId, 2],
    ]);
  });

  it('lets a waiting user leave: a hole on the waitlist item, the places behind move up', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId, joined } = await soldOutWithWaitlist(app, 3);
    const leaving = joined[1] as Registration;
    const leavingRow = (await shardedItems(app).rows(eventId, 2))
      .flat()
      .find((row) => row.userId === leaving.userId);
    const ticket = Number(leavingRow?.ticket);

    await bodyOf(
      await app.call(`/events/${eventId}/registrations/${leaving.userId}`, { method: 'DELETE' }),
      200,
    );

    await expectBalanced(app, eventId, 2, 2);
    expect(await shardedItems(app).guard(leaving.userId, eventId)).toBeUndefined();
    const list = await bodyOf<Registration[]>(
      await app.call(`/events/${eventId}/registrations`),
      200,
    );
    const waiting = list.filter((r) => r.status === 'waitlisted');
    expect(waiting.map((r) => r.userId)).toEqual([joined[0]?.userId, joined[2]?.userId]);
    // Places count the untaken tickets of other shards' open blocks as ahead (a quarter second
    // of joins): the head is 1, the next behind it.
    expect(waiting[0]?.waitlistPosition).toBe(1);
    expect(waiting[1]?.waitlistPosition).toBeGreaterThan(1);
    const item = await waitlistItem(app, eventId);
    const holes = [...((item?.waitlistHoles as Set<number> | undefined) ?? [])].map(Number);
    const runs = String(item?.waitlistHoleRuns ?? '');
    expect(holes.includes(ticket) || runs.length > 0, `ticket ${ticket} left`).toBe(true);
  });

  it('promotes the waitlist in ticket order when a capacity raise adds seats', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId, joined } = await soldOutWithWaitlist(app, 3);

    const raised = await bodyOf<Event>(
      await app.call(`/events/${eventId}`, { method: 'PUT', json: { capacity: 4 } }),
      200,
    );

    expect(raised).toMatchObject({ capacity: 4, registeredCount: 4, waitlistCount: 1 });
    const { rows } = await expectBalanced(app, eventId, 2, 4);
    const confirmedUsers = rows.filter((r) => r.status === 'confirmed').map((r) => r.userId);
    expect(confirmedUsers).toEqual(expect.arrayContaining([joined[0]?.userId, joined[1]?.userId]));
    expect(rows.find((r) => r.userId === joined[2]?.userId)?.status).toBe('waitlisted');
  });

  it('clears the latch when a seat is free and nobody waits, and a newcomer takes the seat', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId, confirmed, joined } = await soldOutWithWaitlist(app, 1);
    await bodyOf(
      await app.call(`/events/${eventId}/registrations/${joined[0]?.userId}`, { method: 'DELETE' }),
      200,
    );
    await bodyOf(
      await app.call(`/events/${eventId}/registrations/${confirmed[0]?.userId}`, {
        method: 'DELETE',
      }),
      200,
    );

    const { counters } = await expectBalanced(app, eventId, 2, 2);
    expect(counters.every((c) => c.soldOut === false)).toBe(true);
    const [newcomer] = await users(app, 1, 'late');
    const placed = await bodyOf<Registration>(
      await registerCall(app, eventId, newcomer as string),
      201,
    );
    expect(placed.status).toBe('confirmed');
  });

  it('uses a ticket block for as long as EVENTS_TICKET_BLOCK_MS says: a join 2 s after a burst takes an open block’s ticket at 5 s', async () => {
    const issuedAfterPause = async (env: Record<string, string>) => {
      let now = Date.parse('2026-03-01T10:00:00.000Z');
      const app = await createEventsApp({
        env: { ...SHARDING, ...env },
        clock: () => new Date(now),
      });
      const { eventId } = await createSharded(app, { capacity: 1, shards: 2, hasWaitlist: true });
      const fans = await users(app, 22);
      // A burst, so that every shard's block grows past one ticket (its size follows the rate).
      for (const fan of fans.slice(0, 21)) {
        await bodyOf(await registerCall(app, eventId, fan), 201);
        now += 1;
      }
      const before = Number((await waitlistItem(app, eventId))?.waitlistIssued);
      now += 2000;
      await bodyOf(await registerCall(app, eventId, fans[21] as string), 201);
      return Number((await waitlistItem(app, eventId))?.waitlistIssued) - before;
    };
    // Expired after 1 s: the join allocates a new block from the one sequence.
    expect(await issuedAfterPause({})).toBeGreaterThan(0);
    expect(await issuedAfterPause({ EVENTS_TICKET_BLOCK_MS: '5000' })).toBe(0);
  });

  it('gives back the untaken tickets of blocks past their lifetime when the ticket sweep runs', async () => {
    let now = Date.parse('2026-03-01T10:00:00.000Z');
    const app = await createEventsApp({ env: SHARDING, clock: () => new Date(now) });
    const { eventId } = await createSharded(app, { capacity: 2, shards: 2, hasWaitlist: true });
    const fans = await users(app, 12);
    for (const fan of fans.slice(0, 2)) await bodyOf(await registerCall(app, eventId, fan), 201);
    // A burst, so that blocks grow past one ticket (their size follows the rate).
    for (const fan of fans.slice(2)) {
      await bodyOf(await registerCall(app, eventId, fan), 201);
      now += 1;
    }
    const open = await shardedItems(app).partition(shardPk(eventId, 0), 'BLOCK');
    now += 5000;

    const task = eventsModule.tasks?.find((t) => t.name === 'release-unused-tickets');
    await task?.run(app.servicesOf(eventsModule) as never, { trigger: 'startup' });

    const waitlist = await waitlistItem(app, eventId);
    const rows = (await shardedItems(app).rows(eventId, 2)).flat();
    const held = rows.filter((r) => r.status === 'waitlisted').map((r) => Number(r.ticket));
    expect(held).toHaveLength(10);
    const issued = Number(waitlist?.waitlistIssued);
    const holes = [...((waitlist?.waitlistHoles as Set<number> | undefined) ?? [])].map(Number);
    // Every ticket issued is held, or left (a hole, or in a run the fold made).
    const runs = String(waitlist?.waitlistHoleRuns ?? '');
    const inRuns = (t: number) =>
      runs
        .split(',')
        .filter(Boolean)
        .some((run) => {
          const [a, b = a] = run.split('-').map(Number);
          return t >= (a as number) && t <= (b as number);
        });
    for (let t = Number(waitlist?.waitlistFrontier) + 1; t <= issued; t++) {
      expect(held.includes(t) || holes.includes(t) || inRuns(t), `ticket ${t}`).toBe(true);
    }
    expect(open.length).toBeLessThanOrEqual(1);
    const list = await bodyOf<Registration[]>(
      await app.call(`/events/${eventId}/registrations?limit=100`),
      200,
    );
    expect(list.filter((r) => r.status === 'waitlisted').map((r) => r.waitlistPosition)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
  });
});
