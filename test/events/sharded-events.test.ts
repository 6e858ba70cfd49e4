import { describe, expect, it } from 'vitest';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { loggedEvents, type TestApp } from '../support/app.js';
import {
  commandIs,
  type DelayedCalls,
  delayCalls,
  failCalls,
  gate,
  throttled,
} from '../support/faults.js';
import { eventPartitions, shardedItems, shardPk } from '../support/sharded-items.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUser,
  type Event,
  eventBody,
  expectProblem,
  getEvent,
  uniqueId,
} from './fixtures.js';

/*
 * Sharded events, slice 2 (docs/decisions/sharded-capacity.md): the event item, its N shard
 * counters and its waitlist item are written, read (summed), changed and deleted together.
 * Registrations on sharded events: sharded-registrations.test.ts.
 */

const SHARDING = { EVENTS_SHARDING: 'on' };

async function createSharded(app: TestApp, overrides: Record<string, unknown> = {}) {
  return createEvent(app, { eventId: uniqueId('hot'), shards: 4, capacity: 10, ...overrides });
}

const put = (app: TestApp, eventId: string, json: Record<string, unknown>) =>
  app.call(`/events/${eventId}`, { method: 'PUT', json });

const sum = (items: readonly (Record<string, unknown> | undefined)[], field: string) =>
  items.reduce((total, item) => total + Number(item?.[field]), 0);

describe('POST /events with shards', () => {
  it('takes shards > 1 by default (EVENTS_SHARDING unset)', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { eventId: uniqueId('hot'), shards: 4 });
    expect(event.shards).toBe(4);
  });

  it('refuses shards > 1 with 422 on body.shards while EVENTS_SHARDING is off, and writes nothing', async () => {
    const app = await createEventsApp({ env: { EVENTS_SHARDING: 'off' } });
    const eventId = uniqueId('hot');

    const res = await app.call('/events', {
      method: 'POST',
      json: eventBody({ eventId, shards: 4 }),
    });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.detail).toMatch(/sharding is off/i);
    expect(problem.errors).toEqual([
      { path: 'body.shards', message: expect.stringMatching(/EVENTS_SHARDING/) },
    ]);
    expect(await shardedItems(app).event(eventId)).toBeUndefined();
    expect((await app.call(`/events/${eventId}`)).status).toBe(404);
  });

  it('refuses shards outside 1–32 with 422 whatever the setting', async () => {
    const app = await createEventsApp({ env: SHARDING });
    for (const shards of [0, 33, 2.5]) {
      const res = await app.call('/events', { method: 'POST', json: eventBody({ shards }) });
      const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
      expect(problem.errors?.map((e: { path: string }) => e.path)).toEqual(['body.shards']);
    }
  });

  it('writes exactly the item of an event created without shards for shards: 1, and answers shards: 1', async () => {
    for (const env of [{}, SHARDING]) {
      const app = await createEventsApp({ env });
      const plain = await createEvent(app, { eventId: uniqueId('plain') });
      const one = await createEvent(app, { eventId: uniqueId('one'), shards: 1 });

      const [plainItem, oneItem] = [
        await shardedItems(app).event(plain.eventId),
        await shardedItems(app).event(one.eventId),
      ];

      expect(Object.keys(oneItem ?? {}).sort()).toEqual(Object.keys(plainItem ?? {}).sort());
      expect(oneItem).not.toHaveProperty('shards');
      expect(oneItem).toMatchObject({ registeredCount: 0, waitlistCount: 0, waitlistIssued: 0 });
      expect(plain.shards).toBe(1);
      expect(one.shards).toBe(1);
      expect((await getEvent(app, plain.eventId)).shards).toBe(1);
      expect(await shardedItems(app).partition(`EVENT#${one.eventId}#W`)).toEqual([]);
      expect(await shardedItems(app).partition(shardPk(one.eventId, 0))).toEqual([]);
    }
  });

  it('stores the event item, 4 shard counters, the waitlist item and event.created for shards: 4', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const created = await createSharded(app, { hasWaitlist: true, status: 'scheduled' });
    const { eventId } = created;
    const items = shardedItems(app);

    const event = await items.event(eventId);
    expect(event).toMatchObject({ eventId, capacity: 10, shards: 4, version: 1, type: 'event' });
    for (const counter of [
      'registeredCount',
      'waitlistCount',
      'offeredCount',
      'waitlistIssued',
      'waitlistFrontier',
      'waitlistHoles',
      'waitlistHoleRuns',
    ]) {
      expect(event, counter).not.toHaveProperty(counter);
    }
    const shards = await items.shards(eventId, 4);
    expect(shards.map((s) => s?.slice)).toEqual([3, 3, 2, 2]);
    shards.forEach((shard, i) => {
      expect(shard).toEqual({
        PK: shardPk(eventId, i),
        SK: 'SHARD',
        type: 'shard',
        eventId,
        shard: i,
        slice: shard?.slice,
        freeSeats: shard?.slice,
        registeredCount: 0,
        offeredCount: 0,
        waitlistCount: 0,
        soldOut: false,
        status: 'scheduled',
        hasWaitlist: true,
        promotion: 'instant',
        settingsVersion: 1,
        updatedAt: created.createdAt,
      });
    });
    expect(await items.shard(eventId, 4)).toBeUndefined();
    expect(await items.waitlist(eventId)).toEqual({
      PK: `EVENT#${eventId}#W`,
      SK: 'WAITLIST',
      type: 'waitlist',
      eventId,
      waitlistIssued: 0,
      waitlistFrontier: 0,
      offeredCount: 0,
    });
    const announced = (await loggedEvents(app)).filter(
      (e) => e.type === 'event.created' && e.aggregate.id === eventId,
    );
    expect(announced).toHaveLength(1);
    expect(announced[0]?.data).toMatchObject({ shards: 4, capacity: 10, registeredCount: 0 });
    expect(created).toMatchObject({ shards: 4, registeredCount: 0, waitlistCount: 0 });
  });

  it('answers GET, lists and the newest-first list with the sums of the shards', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const created = await createSharded(app, { hasWaitlist: true });
    const { eventId } = created;
    await shardedItems(app).takeSeats(eventId, 0, 2);
    await shardedItems(app).takeSeats(eventId, 3, 1);

    const got = await getEvent(app, eventId);
    expect(got).toMatchObject({
      eventId,
      shards: 4,
      capacity: 10,
      registeredCount: 3,
      waitlistCount: 0,
      offeredCount: 0,
    });
    for (const path of [
      '/events?limit=100',
      '/events?status=active&limit=100',
      '/events?order=newest&limit=100',
    ]) {
      const listed = bodyOf<Event[]>(await app.call(path), 200);
      expect(
        (await listed).find((e) => e.eventId === eventId),
        path,
      ).toEqual(got);
    }
    const { events } = app.servicesOf(eventsModule);
    const everyEvent: Event[] = [];
    for await (const page of app.servicesOf(eventsModule).allEvents())
      everyEvent.push(...(page as never[]));
    expect(everyEvent.find((e) => e.eventId === eventId)).toMatchObject({ registeredCount: 3 });
    expect((await events.getEvent(eventId)).registeredCount).toBe(3);
  });
});

describe('PUT /events/{id} on a sharded event', () => {
  it('refuses a different shards value with 409 EVENTS.SHARDS_FIXED and accepts the same one', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const sharded = await createSharded(app);
    const plain = await createEvent(app, { eventId: uniqueId('plain') });

    await expectProblem(await put(app, sharded.eventId, { shards: 2 }), 409, 'EVENTS.SHARDS_FIXED');
    await expectProblem(await put(app, plain.eventId, { shards: 3 }), 409, 'EVENTS.SHARDS_FIXED');
    const same = await bodyOf<Event>(
      await put(app, sharded.eventId, { shards: 4, title: 'Same' }),
      200,
    );
    expect(same).toMatchObject({ shards: 4, title: 'Same' });
    const plainSame = await bodyOf<Event>(
      await put(app, plain.eventId, { shards: 1, title: 'P' }),
      200,
    );
    expect(plainSame).toMatchObject({ shards: 1, title: 'P' });
    expect(await shardedItems(app).event(plain.eventId)).not.toHaveProperty('shards');
  });

  it('writes settings to the event item and mirrors them on every shard, with the new version', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app);

    const updated = await bodyOf<Event>(
      await put(app, eventId, {
        status: 'scheduled',
        hasWaitlist: true,
        promotion: 'offer',
        title: 'Renamed',
      }),
      200,
    );

    expect(updated).toMatchObject({
      status: 'scheduled',
      hasWaitlist: true,
      title: 'Renamed',
      shards: 4,
    });
    expect(await shardedItems(app).event(eventId)).toMatchObject({
      status: 'scheduled',
      GSI1PK: 'STATUS#scheduled',
      version: 2,
    });
    for (const shard of await shardedItems(app).shards(eventId, 4)) {
      expect(shard).toMatchObject({
        status: 'scheduled',
        hasWaitlist: true,
        promotion: 'offer',
        settingsVersion: 2,
      });
    }
    expect(await getEvent(app, eventId)).toEqual(updated);
  });

  it('re-splits a raise and a cut so that the slices always sum to the capacity', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app);
    const items = shardedItems(app);
    await items.takeSeats(eventId, 0, 3);
    await items.takeSeats(eventId, 1, 1);

    const raised = await bodyOf<Event>(await put(app, eventId, { capacity: 17 }), 200);
    expect(raised).toMatchObject({ capacity: 17, registeredCount: 4 });
    let shards = await items.shards(eventId, 4);
    expect(sum(shards, 'slice')).toBe(17);
    expect(sum(shards, 'freeSeats')).toBe(13);
    for (const shard of shards) {
      expect(shard?.slice).toBe(Number(shard?.registeredCount) + Number(shard?.freeSeats));
      expect(shard?.settingsVersion).toBe(2);
    }

    const cut = await bodyOf<Event>(await put(app, eventId, { capacity: 5 }), 200);
    expect(cut).toMatchObject({ capacity: 5, registeredCount: 4 });
    shards = await items.shards(eventId, 4);
    expect(sum(shards, 'slice')).toBe(5);
    expect(sum(shards, 'freeSeats')).toBe(1);
    for (const shard of shards) {
      expect(Number(shard?.freeSeats)).toBeGreaterThanOrEqual(0);
      expect(shard?.slice).toBe(Number(shard?.registeredCount) + Number(shard?.freeSeats));
    }
    expect(await items.event(eventId)).toMatchObject({ capacity: 5, version: 3 });
  });

  it('refuses a cut below the seats taken with 409 EVENTS.CAPACITY_BELOW_REGISTERED and changes nothing', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app);
    const items = shardedItems(app);
    await items.takeSeats(eventId, 0, 3);
    await items.takeSeats(eventId, 2, 2);
    const before = await items.shards(eventId, 4);

    await expectProblem(
      await put(app, eventId, { capacity: 4 }),
      409,
      'EVENTS.CAPACITY_BELOW_REGISTERED',
    );

    expect(await items.shards(eventId, 4)).toEqual(before);
    expect(await items.event(eventId)).toMatchObject({ capacity: 10, version: 1 });
  });
  it('decides again when seats are taken between its read and its commit (the cut then refused)', async () => {
    const commit = gate();
    let armed = false;
    let held: DelayedCalls | undefined;
    const app = await createEventsApp({
      env: SHARDING,
      dynamo: (clients) => {
        held = delayCalls(clients, {
          when: (call) => armed && commandIs('TransactWriteItems')(call),
          until: commit.opened,
        });
        return clients;
      },
    });
    const { eventId } = await createSharded(app);
    const items = shardedItems(app);
    armed = true;

    const cut = put(app, eventId, { capacity: 2 });
    await held?.firstHeld;
    // Registrations take a seat on every shard while the cut's transaction is on its way.
    for (const shard of [0, 1, 2, 3]) await items.takeSeats(eventId, shard, 1);
    commit.open();

    await expectProblem(await cut, 409, 'EVENTS.CAPACITY_BELOW_REGISTERED');
    const shards = await items.shards(eventId, 4);
    expect(sum(shards, 'slice')).toBe(10);
    expect(sum(shards, 'registeredCount')).toBe(4);
    expect(await items.event(eventId)).toMatchObject({ capacity: 10, version: 1 });
  });
});

describe('DELETE /events/{id} on a sharded event', () => {
  it('marks every shard with the event, announces event.deleted, then removes every partition', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app);
    await shardedItems(app).takeSeats(eventId, 1, 2);

    const res = await app.call(`/events/${eventId}`, { method: 'DELETE' });

    expect(await bodyOf(res, 200)).toMatchObject({ eventId, deletedRegistrations: 0 });
    const items = shardedItems(app);
    for (const pk of eventPartitions(eventId, 4)) {
      expect(await items.partition(pk), pk).toEqual([]);
    }
    const deleted = (await loggedEvents(app)).filter(
      (e) => e.type === 'event.deleted' && e.aggregate.id === eventId,
    );
    expect(deleted.map((e) => e.data)).toMatchObject([{ shards: 4, registeredCount: 2 }]);
    expect((await app.call(`/events/${eventId}`)).status).toBe(404);
    // The id is free again.
    await createSharded(app, { eventId });
  });

  it('finishes an interrupted deletion of a sharded event: the shards stay marked until then', async () => {
    let failing = false;
    const app = await createEventsApp({
      env: SHARDING,
      dynamo: (clients) => {
        failCalls(clients, {
          when: (call) => failing && commandIs('BatchWriteItem')(call),
          times: Number.POSITIVE_INFINITY,
          error: throttled(),
        });
        return clients;
      },
    });
    const { eventId } = await createSharded(app);
    failing = true;
    // The deletion marks the event and its shards, then fails removing them.
    await expectProblem(await app.call(`/events/${eventId}`, { method: 'DELETE' }), 503);
    for (const shard of await shardedItems(app).shards(eventId, 4))
      expect(shard).toHaveProperty('deleting');
    await expectProblem(await app.call(`/events/${eventId}`), 404, 'EVENTS.EVENT_NOT_FOUND');
    failing = false;

    expect(await app.servicesOf(eventsModule).events.finishDeletions()).toBe(1);

    for (const pk of [`EVENT#${eventId}`, `EVENT#${eventId}#W`, shardPk(eventId, 3)]) {
      expect(await shardedItems(app).partition(pk), pk).toEqual([]);
    }
  });
});

describe('reads of a sharded event', () => {
  it('answers every read route and background task of a sharded event without a 5xx', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await createSharded(app, { hasWaitlist: true });
    const user = await createUser(app);
    const feed = await app.call('/calendar/feed-link', { method: 'POST', json: {} });
    const feedUrl = feed.status < 300 ? ((await feed.json()) as { url?: string }).url : undefined;
    const paths = [
      `/events/${eventId}`,
      '/events',
      '/events?order=newest',
      '/events?status=active',
      `/events/${eventId}/registrations`,
      `/events/${eventId}/registrations.csv`,
      `/events/${eventId}/stats`,
      `/events/${eventId}/checkins`,
      `/events/${eventId}/checkins/stats`,
      `/events/${eventId}/tickets/manifest`,
      `/events/${eventId}/tickets/revocations`,
      `/events/${eventId}/registrations/${user.userId}/ticket`,
      `/events/${eventId}.ics`,
      `/users/${user.userId}/registrations`,
      ...(feedUrl
        ? [
            new URL(feedUrl, 'http://roster.test').pathname +
              new URL(feedUrl, 'http://roster.test').search,
          ]
        : []),
    ];
    for (const path of paths) {
      const res = await app.call(path);
      expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(500);
    }
    const stats = await bodyOf<Record<string, unknown>>(
      await app.call(`/events/${eventId}/stats`),
      200,
    );
    expect(stats).toMatchObject({ capacity: 10 });
    const scan = await app.call(`/events/${eventId}/checkins`, {
      method: 'POST',
      json: { userId: user.userId, nonce: 'nonce-12345678' },
    });
    expect(scan.status).toBeLessThan(500);
    await expectProblem(
      await app.call(`/events/${eventId}/registrations/${user.userId}`, { method: 'DELETE' }),
      404,
      'EVENTS.REGISTRATION_NOT_FOUND',
    );

    // The background work that reads every event.
    for (const task of eventsModule.tasks ?? []) {
      if (!task.schedule) continue;
      await expect(
        Promise.resolve(task.run(app.servicesOf(eventsModule) as never, { trigger: 'startup' })),
        task.name,
      ).resolves.not.toThrow();
    }
    const shards = await shardedItems(app).shards(eventId, 4);
    expect(sum(shards, 'slice')).toBe(10);
    expect(await getEvent(app, eventId)).toMatchObject({ registeredCount: 0, shards: 4 });
  });
});
