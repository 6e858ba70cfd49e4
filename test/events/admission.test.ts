import { describe, expect, it } from 'vitest';
import { eventsTable } from '../../src/modules/events/events.module.js';
import type { DynamoClients } from '../../src/platform/dynamo/client.js';
import type { TestApp } from '../support/app.js';
import { manualClock } from '../webhooks/fixtures.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUser,
  createUsers,
  eventBody,
  expectProblem,
  getEvent,
  uniqueId,
} from './fixtures.js';

/*
 * Admission control (docs/decisions/sharded-capacity.md, *Admission control*): a waiting room in
 * front of an event's registrations. Positions from eight counters, admission at a set rate as a
 * function of the clock (injected here), HMAC tokens the registration route checks before the
 * service runs. On DynamoDB Local with the real app.
 */

interface QueueAnswer {
  readonly position: number;
  readonly admitAt: string;
  readonly admissionToken?: string;
  readonly tokenExpiresAt?: string;
}

const ADMISSION = { enabled: true, ratePerSecond: 2, tokenSeconds: 60 };

/** Every DynamoDB request the client sends while `recording` is on. */
function recorder() {
  const calls: { command: string; input: string }[] = [];
  let recording = false;
  return {
    calls,
    start: () => {
      recording = true;
    },
    stop: () => {
      recording = false;
    },
    install: (clients: DynamoClients) => {
      clients.client.middlewareStack.add(
        (next, context) => (args) => {
          if (recording) {
            calls.push({
              command: context.commandName ?? '',
              input: JSON.stringify((args as { input?: unknown }).input),
            });
          }
          return next(args);
        },
        { step: 'initialize', name: 'admissionTestRecorder' },
      );
      return clients;
    },
  };
}

async function queueApp() {
  const time = manualClock(Math.floor(Date.now() / 1000) * 1000);
  const calls = recorder();
  const app = await createEventsApp({ clock: time.clock, dynamo: calls.install });
  return { app, time, calls };
}

const join = (app: TestApp, eventId: string, userId: string) =>
  app.call(`/events/${eventId}/queue`, { method: 'POST', json: { userId } });

const place = async (app: TestApp, eventId: string, userId: string) =>
  bodyOf<QueueAnswer>(await app.call(`/events/${eventId}/queue/${userId}`), 200);

const registerWith = (app: TestApp, eventId: string, userId: string, token?: string) =>
  app.call(`/events/${eventId}/registrations`, {
    method: 'POST',
    json: { userId },
    ...(token === undefined ? {} : { headers: { 'admission-token': token } }),
  });

const queueItems = async (app: TestApp, eventId: string) => {
  const table = app.table(eventsTable);
  const keys = [
    { PK: `QUEUE#${eventId}`, SK: 'CONFIG' },
    ...Array.from({ length: 8 }, (_, k) => ({ PK: `QUEUE#${eventId}#P${k}`, SK: 'COUNTER' })),
  ];
  const found = await Promise.all(keys.map((key) => table.get(key)));
  return found.filter((item) => item !== undefined);
};

describe('admission control', () => {
  it('gives each user one position, then a token once the rate reaches it, and the registration needs it', async () => {
    const { app, time } = await queueApp();
    const event = await createEvent(app, { capacity: 10, admission: ADMISSION });
    expect(event).toMatchObject({ admission: ADMISSION });
    const users = await createUsers(app, 5);

    const answers: QueueAnswer[] = [];
    for (const user of users) {
      answers.push(await bodyOf<QueueAnswer>(await join(app, event.eventId, user.userId), 201));
    }
    const positions = answers.map((answer) => answer.position);
    expect(new Set(positions).size).toBe(5);
    for (const position of positions) expect(position).toBeGreaterThanOrEqual(1);
    // The same user again: the same answer, nothing new taken.
    const [first] = users;
    const again = await bodyOf<QueueAnswer>(await join(app, event.eventId, first.userId), 200);
    expect(again).toEqual(answers[0]);

    // Nobody is admitted at the anchor: no token yet, and no registration without one.
    const waiting = await place(app, event.eventId, first.userId);
    expect(waiting).toEqual(answers[0]);
    expect(waiting.admissionToken).toBeUndefined();
    await expectProblem(
      await registerWith(app, event.eventId, first.userId),
      403,
      'EVENTS.ADMISSION_REQUIRED',
    );

    // At the latest admitAt everyone is in: each gets a token of their own.
    time.set(Math.max(...answers.map((answer) => Date.parse(answer.admitAt))));
    const tokens = new Map<string, string>();
    for (const user of users) {
      const admitted = await place(app, event.eventId, user.userId);
      expect(admitted.admissionToken).toMatch(/^[A-Za-z0-9_-]{47}$/);
      // Good for tokenSeconds, to the whole second.
      expect(Date.parse(admitted.tokenExpiresAt ?? '')).toBe(
        Math.floor(time.now() / 1000) * 1000 + 60_000,
      );
      tokens.set(user.userId, admitted.admissionToken ?? '');
    }
    const [, second] = users;
    const own = tokens.get(first.userId) ?? '';
    const forged = `${own.slice(0, 20)}${own[20] === 'A' ? 'B' : 'A'}${own.slice(21)}`;
    for (const token of [tokens.get(second.userId), forged, 'not-a-token', '']) {
      await expectProblem(
        await registerWith(app, event.eventId, first.userId, token),
        403,
        'EVENTS.ADMISSION_REQUIRED',
      );
    }

    // Past its notAfter the token is refused as expired; a fresh one registers.
    time.advance(61_000);
    await expectProblem(
      await registerWith(app, event.eventId, first.userId, own),
      403,
      'EVENTS.ADMISSION_EXPIRED',
    );
    const fresh = await place(app, event.eventId, first.userId);
    const registered = await registerWith(app, event.eventId, first.userId, fresh.admissionToken);
    expect((await bodyOf<{ status: string }>(registered, 201)).status).toBe('confirmed');
    // Nothing refused took a seat.
    expect((await getEvent(app, event.eventId)).registeredCount).toBe(1);
  });

  it("refuses a token of another event, and one of the event's earlier incarnation", async () => {
    const { app, time } = await queueApp();
    const a = await createEvent(app, { admission: ADMISSION });
    const b = await createEvent(app, { admission: ADMISSION });
    const user = await createUser(app);
    for (const event of [a, b]) await bodyOf(await join(app, event.eventId, user.userId), 201);
    time.advance(3_600_000);
    const tokenOfA = (await place(app, a.eventId, user.userId)).admissionToken;
    await expectProblem(
      await registerWith(app, b.eventId, user.userId, tokenOfA),
      403,
      'EVENTS.ADMISSION_REQUIRED',
    );

    // Deleted and created again under the same id: the old incarnation's token is no good.
    expect((await app.call(`/events/${a.eventId}`, { method: 'DELETE' })).status).toBe(200);
    expect(await queueItems(app, a.eventId)).toEqual([]);
    time.advance(1000);
    await createEvent(app, { eventId: a.eventId, admission: ADMISSION });
    time.advance(3_600_000);
    await expectProblem(
      await registerWith(app, a.eventId, user.userId, tokenOfA),
      403,
      'EVENTS.ADMISSION_REQUIRED',
    );
  });

  it('leaves an event without admission as it was: no queue items, registrations as today, no queue', async () => {
    const { app } = await queueApp();
    const event = await createEvent(app);
    expect(event).not.toHaveProperty('admission');
    expect(await queueItems(app, event.eventId)).toEqual([]);
    const user = await createUser(app);
    await bodyOf(await registerWith(app, event.eventId, user.userId), 201);
    await expectProblem(await join(app, event.eventId, user.userId), 409, 'EVENTS.QUEUE_OFF');
    await expectProblem(await join(app, uniqueId('nope'), user.userId), 404);
    await expectProblem(
      await app.call(`/events/${event.eventId}/queue/${user.userId}`),
      409,
      'EVENTS.QUEUE_OFF',
    );
  });

  it('answers 404 for an unknown user, and for a user not in the queue', async () => {
    const { app } = await queueApp();
    const event = await createEvent(app, { admission: ADMISSION });
    await expectProblem(
      await join(app, event.eventId, uniqueId('ghost')),
      404,
      'EVENTS.USER_NOT_FOUND',
    );
    const user = await createUser(app);
    await expectProblem(
      await app.call(`/events/${event.eventId}/queue/${user.userId}`),
      404,
      'EVENTS.NOT_IN_QUEUE',
    );
  });

  it('lets registrations through once a PUT turns admission off (after the settings cache)', async () => {
    const { app, time } = await queueApp();
    const event = await createEvent(app, { admission: ADMISSION });
    const user = await createUser(app);
    await expectProblem(
      await registerWith(app, event.eventId, user.userId),
      403,
      'EVENTS.ADMISSION_REQUIRED',
    );
    const off = { ...ADMISSION, enabled: false };
    const updated = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { admission: off },
    });
    expect(await bodyOf(updated, 200)).toMatchObject({ admission: off });
    time.advance(6000);
    await bodyOf(await registerWith(app, event.eventId, user.userId), 201);

    // And on again at another rate: the queue answers with the new config.
    const on = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { admission: { enabled: true, ratePerSecond: 5 } },
    });
    expect(await bodyOf(on, 200)).toMatchObject({
      admission: { enabled: true, ratePerSecond: 5, tokenSeconds: 120 },
    });
    const other = await createUser(app);
    time.advance(6000);
    await expectProblem(
      await registerWith(app, event.eventId, other.userId),
      403,
      'EVENTS.ADMISSION_REQUIRED',
    );
  });

  it('admits no newcomer for the time a queue stood idle, once its settings are given again', async () => {
    const { app, time } = await queueApp();
    const event = await createEvent(app, { admission: ADMISSION });
    const [early, ...late] = await createUsers(app, 18);
    const first = await bodyOf<QueueAnswer>(await join(app, event.eventId, early.userId), 201);
    // An hour with nobody else in the queue: 7,200 positions' worth of admission at 2/s.
    time.advance(3_600_000);
    expect((await place(app, event.eventId, early.userId)).admissionToken).toBeDefined();
    // The rush starts: the operator gives the settings again (at 1/s), taking effect within the
    // settings cache's 5 s. Who waited is still admitted.
    const again = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { admission: { ...ADMISSION, ratePerSecond: 1 } },
    });
    await bodyOf(again, 200);
    time.advance(5000);
    expect((await place(app, event.eventId, early.userId)).admissionToken).toBeDefined();
    // From the highest position handed out (the early one's), 1 a second: 5 more by now. With 8
    // counters 17 joins take some counter three times, a position past 16: not admitted yet.
    const newcomers: QueueAnswer[] = [];
    for (const user of late) {
      await bodyOf(await join(app, event.eventId, user.userId), 201);
      newcomers.push(await place(app, event.eventId, user.userId));
    }
    const admittedThrough = first.position + 5;
    const waiting = newcomers.filter((answer) => answer.position > admittedThrough);
    expect(waiting.length).toBeGreaterThan(0);
    for (const answer of newcomers) {
      expect(answer.admissionToken === undefined).toBe(answer.position > admittedThrough);
    }
    time.set(Math.max(...waiting.map((answer) => Date.parse(answer.admitAt))));
    for (const user of late) {
      expect((await place(app, event.eventId, user.userId)).admissionToken).toBeDefined();
    }
  });

  it('mirrors the settings to the queue config through every kind of change: sharded, and with a promotion', async () => {
    const time = manualClock(Math.floor(Date.now() / 1000) * 1000);
    const app = await createEventsApp({ clock: time.clock, env: { EVENTS_SHARDING: 'on' } });
    const config = async (eventId: string) =>
      app.table(eventsTable).get({ PK: `QUEUE#${eventId}`, SK: 'CONFIG' });

    const sharded = await createEvent(app, { shards: 2, capacity: 10, admission: ADMISSION });
    expect(await config(sharded.eventId)).toMatchObject({ enabled: true, ratePerSecond: 2 });
    const off = { ...ADMISSION, enabled: false };
    await bodyOf(
      await app.call(`/events/${sharded.eventId}`, { method: 'PUT', json: { admission: off } }),
      200,
    );
    expect(await config(sharded.eventId)).toMatchObject({ enabled: false });
    expect(await getEvent(app, sharded.eventId)).toMatchObject({ shards: 2, admission: off });

    // A capacity raise that promotes the waiting, with the settings, in one transaction.
    const event = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [a, b] = await createUsers(app, 2);
    for (const user of [a, b])
      await bodyOf(await registerWith(app, event.eventId, user.userId), 201);
    const raised = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { capacity: 2, admission: ADMISSION },
    });
    expect(await bodyOf(raised, 200)).toMatchObject({
      registeredCount: 2,
      waitlistCount: 0,
      admission: ADMISSION,
    });
    expect(await config(event.eventId)).toMatchObject({
      enabled: true,
      anchorAt: time.now(),
      anchorAdmitted: 0,
      eventCreatedAt: event.createdAt,
    });
  });

  it('never touches the event partitions to join or to read a place', async () => {
    const { app, calls } = await queueApp();
    const event = await createEvent(app, { admission: ADMISSION });
    const users = await createUsers(app, 3);
    calls.start();
    for (const user of users) {
      await bodyOf(await join(app, event.eventId, user.userId), 201);
      await bodyOf(await join(app, event.eventId, user.userId), 200);
      await place(app, event.eventId, user.userId);
    }
    calls.stop();
    expect(calls.calls.length).toBeGreaterThan(0);
    const touching = calls.calls.filter((call) => call.input.includes('"EVENT#'));
    expect(touching).toEqual([]);
  });

  it('refuses bad admission settings with a 422 and changes nothing', async () => {
    const { app } = await queueApp();
    const bad = [
      { ...ADMISSION, ratePerSecond: 0 },
      { ...ADMISSION, ratePerSecond: 10_001 },
      { ...ADMISSION, tokenSeconds: 10 },
      { ...ADMISSION, tokenSeconds: 601 },
      { ...ADMISSION, extra: 1 },
      { ratePerSecond: 2 },
      'on',
    ];
    for (const admission of bad) {
      const eventId = uniqueId('bad');
      const res = await app.call('/events', {
        method: 'POST',
        json: eventBody({ eventId, admission }),
      });
      await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
      expect((await app.call(`/events/${eventId}`)).status).toBe(404);
      expect(await queueItems(app, eventId)).toEqual([]);
    }
    const event = await createEvent(app);
    for (const admission of bad) {
      const res = await app.call(`/events/${event.eventId}`, {
        method: 'PUT',
        json: { admission },
      });
      await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    }
    expect(await getEvent(app, event.eventId)).toEqual(event);
    expect(await queueItems(app, event.eventId)).toEqual([]);
    const queued = await createEvent(app, { admission: ADMISSION });
    const user = await createUser(app);
    await expectProblem(
      await app.call(`/events/${queued.eventId}/queue`, {
        method: 'POST',
        json: { userId: user.userId, extra: true },
      }),
      422,
      'REQUEST.VALIDATION_FAILED',
    );
  });

  it('documents the queue routes and the Admission-Token header', async () => {
    const { app } = await queueApp();
    const doc = await bodyOf<{
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    }>(await app.call('/openapi.json', { key: null }), 200);
    expect(doc.paths['/events/{eventId}/queue']?.post).toBeDefined();
    expect(doc.paths['/events/{eventId}/queue/{userId}']?.get).toBeDefined();
    const register = doc.paths['/events/{eventId}/registrations']?.post;
    expect(register?.parameters?.map((p) => `${p.in}:${p.name.toLowerCase()}`)).toContain(
      'header:admission-token',
    );
  });
});
