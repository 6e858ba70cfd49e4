import { describe, expect, it } from 'vitest';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { shardOf } from '../../src/modules/events/events.shards.rules.js';
import type { Ports } from '../../src/platform/module.js';
import type { TimerPort } from '../../src/platform/timers/timers.js';
import type { TestApp } from '../support/app.js';
import { type Item, shardedItems } from '../support/sharded-items.js';
import { manualClock } from '../webhooks/fixtures.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUser,
  eventRegistrations,
  expectProblem,
  getEvent,
  type Registration,
  uniqueId,
} from './fixtures.js';

/*
 * Waitlist offers on a sharded event (docs/decisions/sharded-capacity.md, slice 5): freed seats
 * are offered to the lowest tickets over every shard, at most `offerBatch` out at once (capped
 * exactly on the waitlist item); an accept confirms in the head's shard, a decline or a lapse
 * frees the seat there and passes it on in ticket order; a user whose offer ended registers
 * again in the same shard. Through the app on DynamoDB Local, with the clock and timers injected.
 */

const WINDOW = 3600;
const SHARDS = 3;

interface SetTimer {
  readonly at: Date;
  readonly body: { eventId: string; userId: string; offerId: string };
}

function recordingTimers(): TimerPort & { set: SetTimer[] } {
  const set: SetTimer[] = [];
  return {
    set,
    timers: () => ({
      set: async (_name, at, body) => {
        set.push({ at, body: JSON.parse(body) });
      },
    }),
  };
}

async function shardedOffersApp() {
  const time = manualClock(Math.floor(Date.now() / 1000) * 1000);
  const timers = recordingTimers();
  const app = await createEventsApp({
    clock: time.clock,
    env: { EVENTS_SHARDING: 'on' },
    ports: { timers } as Ports,
  });
  return { app, time, timers };
}

const ENDED = ['declined', 'expired'];

/**
 * Per shard, rows = counters (taken = confirmed + offered, offered, waiting, slice = taken +
 * free); offers out = the waitlist item's offeredCount; guard ↔ row, ended guards for ended rows.
 */
async function expectCounted(app: TestApp, eventId: string, capacity: number) {
  const items = shardedItems(app);
  let [slices, offered] = [0, 0];
  const all: Item[] = [];
  for (let s = 0; s < SHARDS; s++) {
    const counter = (await items.shard(eventId, s)) as Item;
    const rows = await items.shardRows(eventId, s);
    const count = (...statuses: string[]) =>
      rows.filter((row) => statuses.includes(String(row.status))).length;
    expect(counter.registeredCount, `shard ${s} taken`).toBe(count('confirmed', 'offered'));
    expect(counter.offeredCount, `shard ${s} offered`).toBe(count('offered'));
    expect(counter.waitlistCount, `shard ${s} waiting`).toBe(count('waitlisted'));
    expect(counter.slice, `shard ${s} slice`).toBe(
      Number(counter.registeredCount) + Number(counter.freeSeats),
    );
    expect(Number(counter.freeSeats)).toBeGreaterThanOrEqual(0);
    for (const row of rows) {
      expect(shardOf(String(row.registrationId)), `${row.userId}'s shard`).toBe(s);
      const guard = await items.guard(String(row.userId), eventId);
      expect(guard).toMatchObject({ shard: s, registrationId: row.registrationId });
      expect(guard?.ended === true, `${row.userId}'s guard`).toBe(
        ENDED.includes(String(row.status)),
      );
    }
    slices += Number(counter.slice);
    offered += Number(counter.offeredCount);
    all.push(...rows);
  }
  expect(slices).toBe(capacity);
  expect((await items.waitlist(eventId))?.offeredCount).toBe(offered);
  // One row per user across the shards.
  expect(new Set(all.map((row) => row.userId)).size).toBe(all.length);
  return all;
}

const register = (app: TestApp, eventId: string, userId: string) =>
  app.call(`/events/${eventId}/registrations`, { method: 'POST', json: { userId } });
const unregister = (app: TestApp, eventId: string, userId: string) =>
  app.call(`/events/${eventId}/registrations/${userId}`, { method: 'DELETE' });

/**
 * A 3-shard offer-mode event with one seat per shard, all taken, and `waiting` users on the
 * waitlist (each with the ticket its row holds), offering up to `offerBatch` at once.
 */
async function soldOut(app: TestApp, waiting: number, offerBatch = 2) {
  const { eventId } = await createEvent(app, {
    eventId: uniqueId('hotoffer'),
    shards: SHARDS,
    capacity: SHARDS,
    hasWaitlist: true,
    date: '2027-06-01',
    promotion: 'offer',
    offerWindowSeconds: WINDOW,
    offerBatch,
  });
  const users: string[] = [];
  for (let i = 0; i < SHARDS + waiting; i++) {
    const userId = uniqueId(`fan${i}`);
    await createUser(app, userId);
    users.push(userId);
  }
  const confirmed = users.slice(0, SHARDS);
  for (const userId of confirmed) {
    expect((await bodyOf<Registration>(await register(app, eventId, userId), 201)).status).toBe(
      'confirmed',
    );
  }
  for (const userId of users.slice(SHARDS)) {
    expect((await bodyOf<Registration>(await register(app, eventId, userId), 201)).status).toBe(
      'waitlisted',
    );
  }
  // Ticket order is the FIFO order (joins in other shards may take tickets out of join order).
  const rows = await expectCounted(app, eventId, SHARDS);
  const queue = rows
    .filter((row) => row.status === 'waitlisted')
    .sort((a, b) => Number(a.ticket) - Number(b.ticket))
    .map((row) => String(row.userId));
  expect(queue).toHaveLength(waiting);
  return { eventId, confirmed, queue };
}

const statusOf = (registrations: readonly Registration[], userId: string) =>
  registrations.find((r) => r.userId === userId)?.status;

const tokenOf = (registrations: readonly Registration[], userId: string) =>
  registrations.find((r) => r.userId === userId)?.offerToken as string;

describe('waitlist offers on a sharded event', () => {
  it('offers freed seats to the lowest tickets over every shard, never more than the batch', async () => {
    const { app } = await shardedOffersApp();
    const { eventId, confirmed, queue } = await soldOut(app, 4, 2);

    // One seat freed: offered to the lowest ticket over every shard.
    const first = await bodyOf<{ offered: Registration[] }>(
      await unregister(app, eventId, confirmed[0] as string),
      200,
    );
    expect(first.offered.map((r) => r.userId)).toEqual([queue[0]]);
    // Two more at once: one more offer goes out, the third seat waits for a slot.
    for (const res of await Promise.all(
      confirmed.slice(1).map((userId) => unregister(app, eventId, userId)),
    )) {
      await bodyOf(res, 200);
    }

    const listed = await eventRegistrations(app, eventId);
    expect(queue.map((userId) => statusOf(listed, userId))).toEqual([
      'offered',
      'offered',
      'waitlisted',
      'waitlisted',
    ]);
    expect(await getEvent(app, eventId)).toMatchObject({
      registeredCount: 0,
      offeredCount: 2,
      waitlistCount: 2,
    });
    await expectCounted(app, eventId, SHARDS);
    // The seat held back is reserved: a newcomer waits behind the queue.
    const late = uniqueId('late');
    await createUser(app, late);
    expect((await bodyOf<Registration>(await register(app, eventId, late), 201)).status).toBe(
      'waitlisted',
    );
    await expectCounted(app, eventId, SHARDS);
  });

  it('confirms an accepted offer and passes declined and lapsed seats on in ticket order', async () => {
    const { app, time, timers } = await shardedOffersApp();
    const { eventId, confirmed, queue } = await soldOut(app, 4, 1);
    const [d, e, f, g] = queue as [string, string, string, string];
    await bodyOf(await unregister(app, eventId, confirmed[0] as string), 200);
    let listed = await eventRegistrations(app, eventId);
    expect(statusOf(listed, d)).toBe('offered');

    // Accepted: confirmed in its own shard; the batch slot is free, but no seat is.
    const accepted = await bodyOf<{ status: string }>(
      await app.call(`/offers/${tokenOf(listed, d)}/accept`, { method: 'POST' }),
      200,
    );
    expect(accepted.status).toBe('accepted');
    listed = await eventRegistrations(app, eventId);
    expect([d, e].map((u) => statusOf(listed, u))).toEqual(['confirmed', 'waitlisted']);
    await expectCounted(app, eventId, SHARDS);

    // Another seat: offered to e, who declines; it passes to f.
    await bodyOf(await unregister(app, eventId, confirmed[1] as string), 200);
    listed = await eventRegistrations(app, eventId);
    expect(statusOf(listed, e)).toBe('offered');
    await bodyOf(await app.call(`/offers/${tokenOf(listed, e)}/decline`, { method: 'POST' }), 200);
    listed = await eventRegistrations(app, eventId);
    expect([e, f, g].map((u) => statusOf(listed, u))).toEqual([
      'declined',
      'offered',
      'waitlisted',
    ]);
    await expectCounted(app, eventId, SHARDS);

    // f lets it lapse (its timer fires at the deadline): it passes to g.
    const fOffer = listed.find((r) => r.userId === f) as Registration;
    const timer = timers.set.find((t) => t.body.userId === f) as SetTimer;
    expect(timer.at.toISOString()).toBe(fOffer.offerExpiresAt);
    const { offers } = app.servicesOf(eventsModule);
    expect(await offers.lapse(timer.body)).toBe('not-due');
    time.set(Date.parse(fOffer.offerExpiresAt as string));
    expect(await offers.lapse(timer.body)).toBe('lapsed');
    listed = await eventRegistrations(app, eventId);
    expect([f, g].map((u) => statusOf(listed, u))).toEqual(['expired', 'offered']);
    await expectCounted(app, eventId, SHARDS);
    // The late accept of an offer that lapsed: 410, nothing changes.
    await expectProblem(
      await app.call(`/offers/${fOffer.offerToken}/accept`, { method: 'POST' }),
      410,
      'EVENTS.OFFER_EXPIRED',
    );
    await expectCounted(app, eventId, SHARDS);
  });

  it('lets a user whose offer ended register again, in the shard of their ended row', async () => {
    const { app } = await shardedOffersApp();
    const { eventId, confirmed, queue } = await soldOut(app, 1, 1);
    const [d] = queue as [string];
    await bodyOf(await unregister(app, eventId, confirmed[0] as string), 200);
    let listed = await eventRegistrations(app, eventId);
    const shard = shardOf((listed.find((r) => r.userId === d) as Registration).registrationId);
    await bodyOf(await app.call(`/offers/${tokenOf(listed, d)}/decline`, { method: 'POST' }), 200);
    await expectCounted(app, eventId, SHARDS);
    // Another process moves the seat d's decline freed to another shard (a rebalance).
    const items = shardedItems(app);
    const other = (shard + 1) % SHARDS;
    await items.moveSeats(eventId, shard, other, 1);
    // Nobody waits and a seat is free: the latch is cleared, and d registers again — confirmed,
    // in their own shard (the seat moved back), whose ended row the new one replaces.
    const again = await bodyOf<Registration>(await register(app, eventId, d), 201);
    expect(again.status).toBe('confirmed');
    expect(shardOf(again.registrationId)).toBe(shard);
    listed = await eventRegistrations(app, eventId);
    expect(listed.filter((r) => r.userId === d)).toHaveLength(1);
    const rows = await expectCounted(app, eventId, SHARDS);
    expect(rows.filter((row) => row.userId === d)).toMatchObject([{ status: 'confirmed', shard }]);
  });

  it('ends an offer its holder unregisters from, and passes the seat on', async () => {
    const { app } = await shardedOffersApp();
    const { eventId, confirmed, queue } = await soldOut(app, 2, 1);
    const [d, e] = queue as [string, string];
    await bodyOf(await unregister(app, eventId, confirmed[0] as string), 200);
    const left = await bodyOf<{ offered: Registration[] }>(await unregister(app, eventId, d), 200);
    expect(left.offered.map((r) => r.userId)).toEqual([e]);
    const listed = await eventRegistrations(app, eventId);
    expect(statusOf(listed, d)).toBeUndefined();
    expect(statusOf(listed, e)).toBe('offered');
    await expectCounted(app, eventId, SHARDS);
  });

  it('switches to offers while people wait, and deletes an event with offers out', async () => {
    const { app } = await shardedOffersApp();
    const { eventId } = await createEvent(app, {
      eventId: uniqueId('hotswitch'),
      shards: SHARDS,
      capacity: SHARDS,
      hasWaitlist: true,
      date: '2027-06-01',
    });
    const users: string[] = [];
    for (let i = 0; i < SHARDS + 2; i++) {
      users.push(uniqueId(`sw${i}`));
      await createUser(app, users[i] as string);
      await bodyOf(await register(app, eventId, users[i] as string), 201);
    }
    await bodyOf(
      await app.call(`/events/${eventId}`, { method: 'PUT', json: { promotion: 'offer' } }),
      200,
    );
    await bodyOf(await unregister(app, eventId, users[0] as string), 200);
    const listed = await eventRegistrations(app, eventId);
    expect(listed.filter((r) => r.status === 'offered')).toHaveLength(1);
    const token = tokenOf(listed, String(listed.find((r) => r.status === 'offered')?.userId));
    await expectCounted(app, eventId, SHARDS);

    await bodyOf(await app.call(`/events/${eventId}`, { method: 'DELETE' }), 200);
    await expectProblem(await app.call(`/offers/${token}`), 404);
    const items = shardedItems(app);
    for (let s = 0; s < SHARDS; s++) expect(await items.shardRows(eventId, s)).toEqual([]);
    for (const userId of users) expect(await items.guard(userId, eventId)).toBeUndefined();
  });
});
