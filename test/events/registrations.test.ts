import { describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../../src/platform/metrics/metrics.js';
import type { TestApp } from '../support/app.js';
import {
  allPages,
  bodyOf,
  createEvent,
  createEventsApp,
  createUser,
  createUsers,
  type Event,
  eventRegistrations,
  expectProblem,
  firstCursor,
  getEvent,
  isoTimestamp,
  type Registration,
  register,
  registerAll,
  summary,
  type User,
  UUID,
  uniqueId,
  userRegistrations,
} from './fixtures.js';

/** The three registration paths (docs/spec.md#events), as (app, eventId, userId) → Response. */
const registerStyles = [
  {
    route: 'POST /registrations',
    send: (app: TestApp, eventId: string, userId: string) =>
      app.call('/registrations', { method: 'POST', json: { userId, eventId } }),
  },
  {
    route: 'POST /events/{eventId}/registrations',
    send: (app: TestApp, eventId: string, userId: string) =>
      app.call(`/events/${eventId}/registrations`, { method: 'POST', json: { userId } }),
  },
  {
    route: 'POST /events/{eventId}/register',
    send: (app: TestApp, eventId: string, userId: string) =>
      app.call(`/events/${eventId}/register`, { method: 'POST', json: { userId } }),
  },
];

/** The three unregistration paths (docs/spec.md#events). */
const unregisterStyles = [
  {
    route: 'DELETE /registrations/{userId}/{eventId}',
    send: (app: TestApp, eventId: string, userId: string) =>
      app.call(`/registrations/${userId}/${eventId}`, { method: 'DELETE' }),
  },
  {
    route: 'DELETE /events/{eventId}/registrations/{userId}',
    send: (app: TestApp, eventId: string, userId: string) =>
      app.call(`/events/${eventId}/registrations/${userId}`, { method: 'DELETE' }),
  },
  {
    route: 'DELETE /events/{eventId}/register/{userId}',
    send: (app: TestApp, eventId: string, userId: string) =>
      app.call(`/events/${eventId}/register/${userId}`, { method: 'DELETE' }),
  },
];

const ids = (users: readonly User[]) => users.map((user) => user.userId);

/** Everything a refused request must leave as it was. */
async function snapshot(app: TestApp, eventId: string, userId: string) {
  return {
    event: await getEvent(app, eventId),
    registrations: await eventRegistrations(app, eventId),
    userRegistrations: await userRegistrations(app, userId),
  };
}

describe.each(registerStyles)('$route', ({ send }) => {
  it('confirms a user while a seat is free and counts them', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 2 });
    const user = await createUser(app);

    const res = await send(app, event.eventId, user.userId);

    const registration = await bodyOf<Registration>(res, 201);
    expect(registration).toEqual({
      registrationId: expect.stringMatching(UUID),
      userId: user.userId,
      eventId: event.eventId,
      status: 'confirmed',
      registeredAt: isoTimestamp(),
    });
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 1,
      waitlistCount: 0,
    });
    expect(await eventRegistrations(app, event.eventId)).toEqual([registration]);
  });

  it('waitlists the third registrant when capacity is 2', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 2, hasWaitlist: true });
    const [first, second, third] = await createUsers(app, 3);
    await registerAll(app, event.eventId, [first, second]);

    const res = await send(app, event.eventId, third.userId);

    expect(await bodyOf<Registration>(res, 201)).toMatchObject({
      userId: third.userId,
      status: 'waitlisted',
      waitlistPosition: 1,
    });
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 2,
      waitlistCount: 1,
    });
  });

  it('answers 409 EVENTS.EVENT_FULL when full without a waitlist, and changes nothing', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 1, hasWaitlist: false });
    const [first, late] = await createUsers(app, 2);
    await register(app, event.eventId, first.userId);
    const before = await snapshot(app, event.eventId, late.userId);

    const res = await send(app, event.eventId, late.userId);

    await expectProblem(res, 409, 'EVENTS.EVENT_FULL');
    expect(await snapshot(app, event.eventId, late.userId)).toEqual(before);
  });

  it.each(['confirmed', 'waitlisted'])(
    'answers 409 EVENTS.ALREADY_REGISTERED to a second registration of a %s user',
    async (status) => {
      const app = await createEventsApp();
      const event = await createEvent(app, { capacity: 1, hasWaitlist: true });
      const [seated, waiting] = await createUsers(app, 2);
      await registerAll(app, event.eventId, [seated, waiting]);
      const again = status === 'confirmed' ? seated.userId : waiting.userId;
      const before = await snapshot(app, event.eventId, again);

      const res = await send(app, event.eventId, again);

      await expectProblem(res, 409, 'EVENTS.ALREADY_REGISTERED');
      expect(await snapshot(app, event.eventId, again)).toEqual(before);
    },
  );

  it('answers 409 EVENTS.ALREADY_REGISTERED, not EVENT_FULL, to a registered user of a full event', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 1, hasWaitlist: false });
    const user = await createUser(app);
    await register(app, event.eventId, user.userId);

    const res = await send(app, event.eventId, user.userId);

    await expectProblem(res, 409, 'EVENTS.ALREADY_REGISTERED');
  });

  it.each(['cancelled', 'completed'])(
    'answers 409 EVENTS.EVENT_CLOSED for a %s event, and changes nothing',
    async (status) => {
      const app = await createEventsApp();
      const event = await createEvent(app, { capacity: 5, status });
      const user = await createUser(app);
      const before = await snapshot(app, event.eventId, user.userId);

      const res = await send(app, event.eventId, user.userId);

      await expectProblem(res, 409, 'EVENTS.EVENT_CLOSED');
      expect(await snapshot(app, event.eventId, user.userId)).toEqual(before);
    },
  );

  it('answers 404 EVENTS.EVENT_NOT_FOUND for an unknown event, and registers nothing', async () => {
    const app = await createEventsApp();
    const user = await createUser(app);
    const eventId = uniqueId('missing');

    const res = await send(app, eventId, user.userId);

    await expectProblem(res, 404, 'EVENTS.EVENT_NOT_FOUND');
    expect(await userRegistrations(app, user.userId)).toEqual([]);
  });

  it('answers 404 EVENTS.USER_NOT_FOUND for an unknown user, and changes nothing', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 2 });
    const before = await getEvent(app, event.eventId);

    const res = await send(app, event.eventId, uniqueId('nobody'));

    await expectProblem(res, 404, 'EVENTS.USER_NOT_FOUND');
    expect(await getEvent(app, event.eventId)).toEqual(before);
    expect(await eventRegistrations(app, event.eventId)).toEqual([]);
  });

  it('answers 404 EVENTS.USER_NOT_FOUND for an unknown user of a full event without a waitlist', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 1 });
    await register(app, event.eventId, (await createUser(app)).userId);

    const res = await send(app, event.eventId, uniqueId('nobody'));

    await expectProblem(res, 404, 'EVENTS.USER_NOT_FOUND');
  });

  it('answers 422 for a userId with a space', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app);

    const res = await send(app, event.eventId, 'user 123');

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual(
      expect.arrayContaining([{ path: 'body.userId', message: expect.any(String) }]),
    );
  });
});

describe.each(unregisterStyles)('$route', ({ send }) => {
  it('unregisters a confirmed user and frees the seat when nobody waits', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 2, hasWaitlist: true });
    const [leaving, staying, newcomer] = await createUsers(app, 3);
    await registerAll(app, event.eventId, [leaving, staying]);

    const res = await send(app, event.eventId, leaving.userId);

    expect(await bodyOf(res, 200)).toEqual({
      message: expect.any(String),
      eventId: event.eventId,
      userId: leaving.userId,
      promoted: [],
      offered: [],
    });
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 1,
      waitlistCount: 0,
    });
    expect(summary(await eventRegistrations(app, event.eventId))).toEqual([
      `${staying.userId}:confirmed`,
    ]);
    expect(await userRegistrations(app, leaving.userId)).toEqual([]);
    expect((await register(app, event.eventId, newcomer.userId)).status).toBe('confirmed');
  });

  it('gives the freed seat to the earliest waitlisted user', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [leaving, head, behind] = await createUsers(app, 3);
    const [, waiting] = await registerAll(app, event.eventId, [leaving, head, behind]);

    const res = await send(app, event.eventId, leaving.userId);

    expect(await bodyOf(res, 200)).toMatchObject({
      userId: leaving.userId,
      promoted: [
        {
          registrationId: waiting.registrationId,
          userId: head.userId,
          eventId: event.eventId,
          status: 'confirmed',
          registeredAt: waiting.registeredAt,
          promotedAt: isoTimestamp(),
        },
      ],
    });
    expect(summary(await eventRegistrations(app, event.eventId))).toEqual([
      `${head.userId}:confirmed`,
      `${behind.userId}:waitlisted:1`,
    ]);
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 1,
      waitlistCount: 1,
    });
  });

  it('counts confirmations, waitlistings, cancellations and promotions as metrics', async () => {
    const metrics = new MemoryMetrics();
    const app = await createEventsApp({ ports: { metrics } });
    const event = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [leaving, head, behind] = await createUsers(app, 3);
    await registerAll(app, event.eventId, [leaving, head, behind]);

    await bodyOf(await send(app, event.eventId, leaving.userId), 200);

    expect(metrics.snapshot()).toEqual({
      'events.RegistrationConfirmed': 1,
      'events.RegistrationWaitlisted': 2,
      'events.RegistrationCancelled': 1,
      'events.WaitlistPromoted': 1,
    });
  });

  it('answers 404 EVENTS.REGISTRATION_NOT_FOUND for a user who is not registered', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 2 });
    const [registered, stranger] = await createUsers(app, 2);
    await register(app, event.eventId, registered.userId);
    const before = await getEvent(app, event.eventId);

    const res = await send(app, event.eventId, stranger.userId);

    await expectProblem(res, 404, 'EVENTS.REGISTRATION_NOT_FOUND');
    expect(await getEvent(app, event.eventId)).toEqual(before);
  });

  it('answers 404 for an unknown event', async () => {
    const app = await createEventsApp();
    const user = await createUser(app);

    const res = await send(app, uniqueId('missing'), user.userId);

    await expectProblem(res, 404);
  });
});

describe('GET /events/{eventId}/registrations', () => {
  it('lists confirmed registrations in join order, then the waitlist by position', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 2, hasWaitlist: true });
    const users = await createUsers(app, 5);
    const registrations = await registerAll(app, event.eventId, users);

    const listed = await eventRegistrations(app, event.eventId);

    expect(summary(listed)).toEqual([
      `${users[0].userId}:confirmed`,
      `${users[1].userId}:confirmed`,
      `${users[2].userId}:waitlisted:1`,
      `${users[3].userId}:waitlisted:2`,
      `${users[4].userId}:waitlisted:3`,
    ]);
    expect(listed.map((r) => r.registrationId)).toEqual(registrations.map((r) => r.registrationId));
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 2,
      waitlistCount: 3,
    });
  });

  it('continues waitlist positions across pages', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 2, hasWaitlist: true });
    const users = await createUsers(app, 5);
    await registerAll(app, event.eventId, users);

    const pages = await allPages<Registration>(
      app,
      `/events/${event.eventId}/registrations?limit=2`,
    );

    expect(pages.map(summary)).toEqual([
      [`${users[0].userId}:confirmed`, `${users[1].userId}:confirmed`],
      [`${users[2].userId}:waitlisted:1`, `${users[3].userId}:waitlisted:2`],
      [`${users[4].userId}:waitlisted:3`],
    ]);
  });

  it('answers 404 EVENTS.EVENT_NOT_FOUND for an unknown event', async () => {
    const app = await createEventsApp();

    const res = await app.call(`/events/${uniqueId('missing')}/registrations`);

    await expectProblem(res, 404, 'EVENTS.EVENT_NOT_FOUND');
  });

  it.each([
    ['limit=0', '?limit=0'],
    ['limit=201', '?limit=201'],
  ])('answers 422 for %s', async (_, query) => {
    const app = await createEventsApp();
    const event = await createEvent(app);

    const res = await app.call(`/events/${event.eventId}/registrations${query}`);

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual([{ path: 'query.limit', message: expect.any(String) }]);
  });

  it('answers 400 for a garbage cursor and for a cursor from another event', async () => {
    const app = await createEventsApp();
    const [a, b] = [await createEvent(app), await createEvent(app)];
    const users = await createUsers(app, 2);
    await registerAll(app, a.eventId, users);
    await registerAll(app, b.eventId, users);
    const cursorOfA = await firstCursor(app, `/events/${a.eventId}/registrations?limit=1`);

    const garbage = await app.call(`/events/${b.eventId}/registrations?cursor=%%%`);
    const foreign = await app.call(`/events/${b.eventId}/registrations?cursor=${cursorOfA}`);

    await expectProblem(garbage, 400, 'PAGINATION.CURSOR_INVALID');
    await expectProblem(foreign, 400, 'PAGINATION.CURSOR_INVALID');
  });
});

describe('GET /users/{userId}/registrations', () => {
  it('lists the user’s registrations newest first, each with its event and waitlist position', async () => {
    const app = await createEventsApp();
    const user = await createUser(app);
    const [ahead1, ahead2] = await createUsers(app, 2, 'ahead');
    const first = await createEvent(app, { eventId: uniqueId('a'), capacity: 3 });
    const second = await createEvent(app, {
      eventId: uniqueId('b'),
      capacity: 1,
      hasWaitlist: true,
    });
    const third = await createEvent(app, { eventId: uniqueId('c'), capacity: 3 });
    await register(app, second.eventId, ahead1.userId);
    await register(app, second.eventId, ahead2.userId);
    const r1 = await register(app, first.eventId, user.userId);
    const r2 = await register(app, second.eventId, user.userId);
    const r3 = await register(app, third.eventId, user.userId);

    const listed = await userRegistrations(app, user.userId);

    expect(listed).toEqual([
      { ...r3, event: await getEvent(app, third.eventId) },
      { ...r2, waitlistPosition: 2, event: await getEvent(app, second.eventId) },
      { ...r1, event: await getEvent(app, first.eventId) },
    ]);
  });

  it('pages the user’s registrations through Link rel="next"', async () => {
    const app = await createEventsApp();
    const user = await createUser(app);
    const events: Event[] = [];
    for (const label of ['a', 'b', 'c']) {
      events.push(await createEvent(app, { eventId: uniqueId(label) }));
    }
    for (const event of events) await register(app, event.eventId, user.userId);

    const pages = await allPages<Registration>(app, `/users/${user.userId}/registrations?limit=2`);

    expect(pages.flat().map((r) => r.eventId)).toEqual(events.map((e) => e.eventId).reverse());
    expect(pages[0]).toHaveLength(2);
  });

  it('shows a promoted registration as confirmed, without a waitlist position', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [leaving, waiting] = await createUsers(app, 2);
    await registerAll(app, event.eventId, [leaving, waiting]);

    await bodyOf(
      await app.call(`/registrations/${leaving.userId}/${event.eventId}`, { method: 'DELETE' }),
      200,
    );

    const [only, ...rest] = await userRegistrations(app, waiting.userId);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ status: 'confirmed', promotedAt: isoTimestamp() });
    expect(only).not.toHaveProperty('waitlistPosition');
    expect(only?.event).toMatchObject({ registeredCount: 1, waitlistCount: 0 });
  });

  it('answers 400 for a cursor from another user', async () => {
    const app = await createEventsApp();
    const [a, b] = await createUsers(app, 2);
    for (const user of [a, b]) {
      for (let i = 0; i < 2; i++)
        await register(app, (await createEvent(app)).eventId, user.userId);
    }
    const cursorOfA = await firstCursor(app, `/users/${a.userId}/registrations?limit=1`);

    const res = await app.call(`/users/${b.userId}/registrations?cursor=${cursorOfA}`);

    await expectProblem(res, 400, 'PAGINATION.CURSOR_INVALID');
  });
});

describe('waitlist promotion and positions', () => {
  it('promotes the earliest two of three waiting when capacity rises from 2 to 4', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 2, hasWaitlist: true });
    const users = await createUsers(app, 5);
    await registerAll(app, event.eventId, users);

    const res = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { capacity: 4 },
    });

    expect(await bodyOf<Event>(res, 200)).toMatchObject({
      capacity: 4,
      registeredCount: 4,
      waitlistCount: 1,
    });
    expect(summary(await eventRegistrations(app, event.eventId))).toEqual([
      ...ids(users.slice(0, 4)).map((id) => `${id}:confirmed`),
      `${users[4].userId}:waitlisted:1`,
    ]);
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 4,
      waitlistCount: 1,
    });
    const [promoted] = await userRegistrations(app, users[2].userId);
    expect(promoted).toMatchObject({ status: 'confirmed', promotedAt: isoTimestamp() });
  });

  it('promotes everyone waiting when capacity rises past the waitlist', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const users = await createUsers(app, 3);
    await registerAll(app, event.eventId, users);

    const res = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { capacity: 10 },
    });

    expect(await bodyOf<Event>(res, 200)).toMatchObject({ registeredCount: 3, waitlistCount: 0 });
    expect(summary(await eventRegistrations(app, event.eventId))).toEqual(
      ids(users).map((id) => `${id}:confirmed`),
    );
  });

  it('moves everyone behind a leaving waitlisted user up one place', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [seated, w1, w2, w3] = await createUsers(app, 4);
    await registerAll(app, event.eventId, [seated, w1, w2, w3]);

    const res = await app.call(`/events/${event.eventId}/registrations/${w2.userId}`, {
      method: 'DELETE',
    });

    expect(await bodyOf(res, 200)).toMatchObject({ promoted: [] });
    expect(summary(await eventRegistrations(app, event.eventId))).toEqual([
      `${seated.userId}:confirmed`,
      `${w1.userId}:waitlisted:1`,
      `${w3.userId}:waitlisted:2`,
    ]);
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 1,
      waitlistCount: 2,
    });
    const [mine] = await userRegistrations(app, w3.userId);
    expect(mine).toMatchObject({ status: 'waitlisted', waitlistPosition: 2 });
  });

  it('puts a newcomer behind the waitlist, not into a seat, while people wait', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [seated, waiting, newcomer] = await createUsers(app, 3);
    await registerAll(app, event.eventId, [seated, waiting]);
    await bodyOf(
      await app.call(`/events/${event.eventId}/register/${seated.userId}`, { method: 'DELETE' }),
      200,
    );

    const late = await register(app, event.eventId, newcomer.userId);

    expect(late).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
    expect(summary(await eventRegistrations(app, event.eventId))).toEqual([
      `${waiting.userId}:confirmed`,
      `${newcomer.userId}:waitlisted:1`,
    ]);
  });
});
