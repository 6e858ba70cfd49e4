import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUser,
  createUsers,
  type Event,
  eventBody,
  eventRegistrations,
  expectProblem,
  getEvent,
  register,
  type User,
  uniqueId,
  userRegistrations,
} from './fixtures.js';

type Variant = 'first' | 'other';

interface Arranged {
  /** The create request; `other` differs from `first` in its body only. */
  readonly request: (variant: Variant) => { path: string; json: unknown };
  /** What a duplicate execution would change. */
  readonly counts: () => Promise<Record<string, number>>;
}

async function arrangeRegistration(app: TestApp, path: (eventId: string) => string) {
  const event = await createEvent(app, { capacity: 5 });
  const [first, other] = await createUsers(app, 2);
  const users: Record<Variant, User> = { first, other };
  const withEventId = path(event.eventId) === '/registrations';
  return {
    request: (variant: Variant) => ({
      path: path(event.eventId),
      json: withEventId
        ? { userId: users[variant].userId, eventId: event.eventId }
        : { userId: users[variant].userId },
    }),
    counts: async () => {
      const { registeredCount, waitlistCount } = await getEvent(app, event.eventId);
      return {
        registeredCount,
        waitlistCount,
        rows: (await eventRegistrations(app, event.eventId)).length,
        ofFirstUser: (await userRegistrations(app, first.userId)).length,
        ofOtherUser: (await userRegistrations(app, other.userId)).length,
      };
    },
  };
}

const createRoutes: { route: string; arrange: (app: TestApp) => Promise<Arranged> }[] = [
  {
    route: 'POST /events',
    arrange: async (app) => ({
      request: (variant) => ({ path: '/events', json: eventBody({ title: `Event ${variant}` }) }),
      counts: async () => ({
        events: (await bodyOf<Event[]>(await app.call('/events'), 200)).length,
      }),
    }),
  },
  {
    route: 'POST /users',
    arrange: async (app) => ({
      request: (variant) => ({ path: '/users', json: { name: `User ${variant}` } }),
      counts: async () => ({
        users: (await bodyOf<User[]>(await app.call('/users'), 200)).length,
      }),
    }),
  },
  {
    route: 'POST /registrations',
    arrange: (app) => arrangeRegistration(app, () => '/registrations'),
  },
  {
    route: 'POST /events/{eventId}/registrations',
    arrange: (app) => arrangeRegistration(app, (eventId) => `/events/${eventId}/registrations`),
  },
  {
    route: 'POST /events/{eventId}/register',
    arrange: (app) => arrangeRegistration(app, (eventId) => `/events/${eventId}/register`),
  },
];

describe.each(createRoutes)('Idempotency-Key on $route', ({ arrange }) => {
  const post = (app: TestApp, request: { path: string; json: unknown }, key: string) =>
    app.call(request.path, {
      method: 'POST',
      json: request.json,
      headers: { 'idempotency-key': key },
    });

  it('replays the first response to the same key and body, and creates once', async () => {
    const app = await createEventsApp();
    const { request, counts } = await arrange(app);
    const key = uniqueId('key');
    const before = await counts();
    const first = await post(app, request('first'), key);
    const firstBody = await first.text();
    const once = await counts();

    const replay = await post(app, request('first'), key);

    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(once).not.toEqual(before);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe(first.headers.get('location'));
    expect(await replay.text()).toBe(firstBody);
    expect(await counts()).toEqual(once);
  });

  it('answers 422 IDEMPOTENCY.KEY_REUSED to the same key with another body, and creates nothing', async () => {
    const app = await createEventsApp();
    const { request, counts } = await arrange(app);
    const key = uniqueId('key');
    expect((await post(app, request('first'), key)).status).toBe(201);
    const once = await counts();

    const res = await post(app, request('other'), key);

    await expectProblem(res, 422, 'IDEMPOTENCY.KEY_REUSED');
    expect(await counts()).toEqual(once);
  });

  it('treats a different key as a different request', async () => {
    const app = await createEventsApp();
    const { request, counts } = await arrange(app);
    expect((await post(app, request('first'), uniqueId('key'))).status).toBe(201);
    const once = await counts();

    const res = await post(app, request('other'), uniqueId('key'));

    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(await counts()).not.toEqual(once);
  });
});

describe('Idempotency-Key and conflicts', () => {
  it('replays a 409 for a taken eventId even after the event is gone', async () => {
    const app = await createEventsApp();
    const taken = await createEvent(app, { eventId: uniqueId('taken') });
    const key = uniqueId('key');
    const request = {
      method: 'POST',
      json: eventBody({ eventId: taken.eventId }),
      headers: { 'idempotency-key': key },
    };
    const first = await app.call('/events', request);
    const firstBody = await first.text();
    await bodyOf(await app.call(`/events/${taken.eventId}`, { method: 'DELETE' }), 200);

    const replay = await app.call('/events', request);

    expect(first.status).toBe(409);
    expect(replay.status).toBe(409);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await replay.text()).toBe(firstBody);
    expect(JSON.parse(firstBody)).toMatchObject({ code: 'EVENTS.EVENT_EXISTS' });
    await expectProblem(await app.call(`/events/${taken.eventId}`), 404, 'EVENTS.EVENT_NOT_FOUND');
  });

  it('replays a 409 for a second registration even after the first is cancelled', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 5 });
    const user = await createUser(app);
    await register(app, event.eventId, user.userId);
    const request = {
      method: 'POST',
      json: { userId: user.userId },
      headers: { 'idempotency-key': uniqueId('key') },
    };
    const first = await app.call(`/events/${event.eventId}/register`, request);
    const firstBody = await first.text();
    await bodyOf(
      await app.call(`/events/${event.eventId}/register/${user.userId}`, { method: 'DELETE' }),
      200,
    );

    const replay = await app.call(`/events/${event.eventId}/register`, request);

    expect(first.status).toBe(409);
    expect(JSON.parse(firstBody)).toMatchObject({ code: 'EVENTS.ALREADY_REGISTERED' });
    expect(replay.status).toBe(409);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.text()).toBe(firstBody);
    expect(await eventRegistrations(app, event.eventId)).toEqual([]);
  });
  it('treats the same key and body sent to two different events as two requests', async () => {
    const app = await createEventsApp();
    const [e1, e2] = [await createEvent(app), await createEvent(app)];
    const user = await createUser(app);
    const request = {
      method: 'POST',
      json: { userId: user.userId },
      headers: { 'idempotency-key': uniqueId('key') },
    };

    const first = await app.call(`/events/${e1.eventId}/register`, request);
    const second = await app.call(`/events/${e2.eventId}/register`, request);

    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(((await second.json()) as { eventId: string }).eventId).toBe(e2.eventId);
    expect((await userRegistrations(app, user.userId)).map((r) => r.eventId).sort()).toEqual(
      [e1.eventId, e2.eventId].sort(),
    );
  });
});
