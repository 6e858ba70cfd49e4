import { describe, expect, it } from 'vitest';
import {
  allPages,
  bodyOf,
  createEvent,
  createEventsApp,
  createUsers,
  type Event,
  eventBody,
  eventRegistrations,
  expectProblem,
  firstCursor,
  getEvent,
  isoTimestamp,
  registerAll,
  UUID,
  uniqueId,
  userRegistrations,
} from './fixtures.js';

describe('POST /events', () => {
  it('creates an event with the given eventId and answers 201 with it and its Location', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('conf');
    const input = eventBody({ eventId, capacity: 40, hasWaitlist: true, status: 'scheduled' });

    const res = await app.call('/events', { method: 'POST', json: input });

    const created = await bodyOf<Event>(res, 201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('location')).toBe(`/events/${eventId}`);
    expect(created).toEqual({
      ...input,
      // Seats freed go to the waitlist at once unless the event says otherwise.
      promotion: 'instant',
      offerWindowSeconds: 86_400,
      offersCloseBefore: 0,
      offerBatch: 1,
      registeredCount: 0,
      waitlistCount: 0,
      offeredCount: 0,
      shards: 1,
      createdAt: isoTimestamp(),
      updatedAt: created.createdAt,
    });
    expect(await getEvent(app, eventId)).toEqual(created);
  });

  it('generates a UUID eventId, status active and no waitlist when they are omitted', async () => {
    const app = await createEventsApp();
    const { status: _, ...input } = eventBody();

    const res = await app.call('/events', { method: 'POST', json: input });

    const created = await bodyOf<Event>(res, 201);
    expect(created.eventId).toMatch(UUID);
    expect(created).toMatchObject({ status: 'active', hasWaitlist: false });
    expect(res.headers.get('location')).toBe(`/events/${created.eventId}`);
    expect(await getEvent(app, created.eventId)).toEqual(created);
  });

  it('accepts waitlistEnabled as the alias of hasWaitlist', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('alias');

    const res = await app.call('/events', {
      method: 'POST',
      json: eventBody({ eventId, waitlistEnabled: true }),
    });

    const created = await bodyOf<Event>(res, 201);
    expect(created.hasWaitlist).toBe(true);
    expect(created).not.toHaveProperty('waitlistEnabled');
    expect((await getEvent(app, eventId)).hasWaitlist).toBe(true);
  });

  it('accepts hasWaitlist and waitlistEnabled together when they agree', async () => {
    const app = await createEventsApp();

    const created = await createEvent(app, { hasWaitlist: true, waitlistEnabled: true });

    expect(created.hasWaitlist).toBe(true);
  });

  it('refuses read-only counters and timestamps sent by the client with 422, creating nothing', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('read-only');

    const res = await app.call('/events', {
      method: 'POST',
      json: eventBody({
        eventId,
        registeredCount: 7,
        waitlistCount: 3,
        createdAt: '2000-01-01T00:00:00.000Z',
      }),
    });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^unknown fields "registeredCount", "waitlistCount", "createdAt" \(the fields are /,
      ),
    ]);
    expect((await app.call(`/events/${eventId}`)).status).toBe(404);
  });

  it('accepts an ISO date-time as the date', async () => {
    const app = await createEventsApp();

    const created = await createEvent(app, { date: '2026-11-21T10:00:00.000Z' });

    expect(created.date).toBe('2026-11-21T10:00:00.000Z');
  });

  it('answers 409 EVENTS.EVENT_EXISTS for a taken eventId and keeps the first event', async () => {
    const app = await createEventsApp();
    const first = await createEvent(app, { eventId: uniqueId('dup'), title: 'First' });

    const res = await app.call('/events', {
      method: 'POST',
      json: eventBody({ eventId: first.eventId, title: 'Second' }),
    });

    await expectProblem(res, 409, 'EVENTS.EVENT_EXISTS');
    expect(await getEvent(app, first.eventId)).toEqual(first);
  });

  it.each([
    ['capacity 0', { capacity: 0 }, 'body.capacity'],
    ['capacity 100001', { capacity: 100_001 }, 'body.capacity'],
    ['a fractional capacity', { capacity: 2.5 }, 'body.capacity'],
    ['a title of 201 characters', { title: 't'.repeat(201) }, 'body.title'],
    ['a blank title', { title: '   ' }, 'body.title'],
    ['a description of 2001 characters', { description: 'd'.repeat(2001) }, 'body.description'],
    ['an unknown status', { status: 'postponed' }, 'body.status'],
    ['a date that is not a date', { date: '2024-13-45' }, 'body.date'],
    ['a date in words', { date: 'next tuesday' }, 'body.date'],
    ['an eventId with a space', { eventId: 'tech conf' }, 'body.eventId'],
    ['an eventId of 101 characters', { eventId: 'e'.repeat(101) }, 'body.eventId'],
    [
      'hasWaitlist and waitlistEnabled that disagree',
      { hasWaitlist: true, waitlistEnabled: false },
      'body.waitlistEnabled',
    ],
    ['a missing title', { title: undefined }, 'body.title'],
  ])('answers 422 with errors[] for %s and creates nothing', async (_, overrides, path) => {
    const app = await createEventsApp();

    const res = await app.call('/events', { method: 'POST', json: eventBody(overrides) });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual(expect.arrayContaining([{ path, message: expect.any(String) }]));
    expect(await bodyOf<Event[]>(await app.call('/events'), 200)).toEqual([]);
  });

  it('says what a date must look like, for a wrong date and a missing one', async () => {
    const app = await createEventsApp();

    const wrong = await expectProblem(
      await app.call('/events', { method: 'POST', json: eventBody({ date: 'next tuesday' }) }),
      422,
      'REQUEST.VALIDATION_FAILED',
    );
    const missing = await expectProblem(
      await app.call('/events', { method: 'POST', json: eventBody({ date: undefined }) }),
      422,
      'REQUEST.VALIDATION_FAILED',
    );

    expect(wrong.errors).toEqual([
      { path: 'body.date', message: expect.stringMatching(/YYYY-MM-DD.*ISO 8601/) },
    ]);
    expect(missing.errors).toEqual([
      { path: 'body.date', message: expect.stringMatching(/YYYY-MM-DD.*received undefined/) },
    ]);
  });

  it('accepts the boundaries: capacity 1 and 100000, a 200-character title, a 100-character eventId', async () => {
    const app = await createEventsApp();

    const small = await createEvent(app, { capacity: 1, title: 't'.repeat(200) });
    const large = await createEvent(app, { capacity: 100_000, eventId: 'e'.repeat(100) });

    expect(small).toMatchObject({ capacity: 1, title: 't'.repeat(200) });
    expect(large).toMatchObject({ capacity: 100_000, eventId: 'e'.repeat(100) });
  });
});

describe('GET /events', () => {
  it('lists every event in creation order', async () => {
    const app = await createEventsApp();
    const a = await createEvent(app, { eventId: uniqueId('a') });
    const b = await createEvent(app, { eventId: uniqueId('b') });

    const res = await app.call('/events');

    expect(await bodyOf<Event[]>(res, 200)).toEqual([a, b]);
    expect(res.headers.get('link')).toBeNull();
  });

  it('filters by ?status=', async () => {
    const app = await createEventsApp();
    await createEvent(app, { status: 'active' });
    const scheduled = await createEvent(app, { status: 'scheduled' });
    await createEvent(app, { status: 'cancelled' });

    const res = await app.call('/events?status=scheduled');

    expect(await bodyOf<Event[]>(res, 200)).toEqual([scheduled]);
  });

  it('pages 5 events 2 at a time through Link rel="next", each once, in creation order', async () => {
    const app = await createEventsApp();
    const created: Event[] = [];
    for (let i = 1; i <= 5; i++) created.push(await createEvent(app, { title: `Event ${i}` }));

    const first = await app.call('/events?limit=2');
    const pages = await allPages<Event>(app, '/events?limit=2');

    expect(await bodyOf<Event[]>(first, 200)).toHaveLength(2);
    expect(first.headers.get('link')).toMatch(/^<\?limit=2&cursor=[^>]+>; rel="next"$/);
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((event) => event.eventId)).toEqual(created.map((e) => e.eventId));
  });

  it('keeps ?status= on the next link and pages within the status', async () => {
    const app = await createEventsApp();
    const active: Event[] = [];
    for (let i = 1; i <= 3; i++) {
      active.push(await createEvent(app, { status: 'active' }));
      await createEvent(app, { status: 'completed' });
    }

    const pages = await allPages<Event>(app, '/events?status=active&limit=2');

    expect(pages.flat().map((e) => e.eventId)).toEqual(active.map((e) => e.eventId));
  });

  it('lists newest first with ?order=newest, paging and filtering the same way', async () => {
    const app = await createEventsApp();
    const active: Event[] = [];
    for (let i = 1; i <= 3; i++) {
      active.push(await createEvent(app, { status: 'active' }));
      await createEvent(app, { status: 'completed' });
    }

    const all = await allPages<Event>(app, '/events?order=newest&limit=4');
    const filtered = await allPages<Event>(app, '/events?status=active&order=newest&limit=2');

    expect(all.map((page) => page.length)).toEqual([4, 2]);
    const created = all.flat().map((e) => e.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    expect(filtered.flat().map((e) => e.eventId)).toEqual(active.map((e) => e.eventId).reverse());
  });

  it('refuses a cursor of one order in the other', async () => {
    const app = await createEventsApp();
    await createEvent(app);
    await createEvent(app);
    const cursor = await firstCursor(app, '/events?limit=1');

    const res = await app.call(`/events?order=newest&cursor=${cursor}`);

    await expectProblem(res, 400, 'PAGINATION.CURSOR_INVALID');
  });

  it.each([
    ['an unknown status', '?status=postponed', 'query.status'],
    ['limit=0', '?limit=0', 'query.limit'],
    ['limit=201', '?limit=201', 'query.limit'],
    ['a limit that is not a number', '?limit=ten', 'query.limit'],
    ['an unknown order', '?order=random', 'query.order'],
  ])('answers 422 for %s', async (_, query, path) => {
    const app = await createEventsApp();

    const res = await app.call(`/events${query}`);

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual([{ path, message: expect.any(String) }]);
  });

  it('answers 400 PAGINATION.CURSOR_INVALID for a garbage cursor', async () => {
    const app = await createEventsApp();
    await createEvent(app);

    const res = await app.call('/events?cursor=not-a-cursor');

    await expectProblem(res, 400, 'PAGINATION.CURSOR_INVALID');
  });

  it('answers 400 for a cursor taken from the users list', async () => {
    const app = await createEventsApp();
    await createUsers(app, 2);
    await createEvent(app);
    const cursor = await firstCursor(app, '/users?limit=1');

    const res = await app.call(`/events?cursor=${cursor}`);

    await expectProblem(res, 400, 'PAGINATION.CURSOR_INVALID');
  });

  it('answers 400 for a cursor taken from another status filter', async () => {
    const app = await createEventsApp();
    await createEvent(app, { status: 'active' });
    await createEvent(app, { status: 'active' });
    const cursor = await firstCursor(app, '/events?status=active&limit=1');

    const res = await app.call(`/events?cursor=${cursor}`);

    await expectProblem(res, 400, 'PAGINATION.CURSOR_INVALID');
  });
});

describe('GET /events/{eventId}', () => {
  it('answers 404 EVENTS.EVENT_NOT_FOUND for an unknown event', async () => {
    const app = await createEventsApp();

    const res = await app.call(`/events/${uniqueId('missing')}`);

    await expectProblem(res, 404, 'EVENTS.EVENT_NOT_FOUND');
  });

  it('answers 422 for an eventId outside the allowed characters', async () => {
    const app = await createEventsApp();

    const res = await app.call('/events/tech%20conf');

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual([{ path: 'path.eventId', message: expect.any(String) }]);
  });
});

describe('PUT /events/{eventId}', () => {
  it('changes only the given fields and moves updatedAt', async () => {
    const app = await createEventsApp();
    const before = await createEvent(app, { eventId: uniqueId('put') });

    const res = await app.call(`/events/${before.eventId}`, {
      method: 'PUT',
      json: { title: 'Renamed', capacity: 120 },
    });

    const updated = await bodyOf<Event>(res, 200);
    expect(updated).toEqual({
      ...before,
      title: 'Renamed',
      capacity: 120,
      updatedAt: isoTimestamp(),
    });
    expect(updated.updatedAt >= before.updatedAt).toBe(true);
    expect(await getEvent(app, before.eventId)).toEqual(updated);
  });

  it('refuses a change that sends the counters with 422, changing nothing', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 5 });
    await registerAll(app, event.eventId, await createUsers(app, 2));

    const res = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { title: 'Renamed', registeredCount: 0, waitlistCount: 9 },
    });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.message)).toEqual([
      expect.stringMatching(/^unknown fields "registeredCount", "waitlistCount" /),
    ]);
    expect(await getEvent(app, event.eventId)).toMatchObject({
      title: event.title,
      registeredCount: 2,
      waitlistCount: 0,
    });
  });

  it('accepts waitlistEnabled as the alias of hasWaitlist', async () => {
    const app = await createEventsApp();
    const before = await createEvent(app, { hasWaitlist: false });

    const res = await app.call(`/events/${before.eventId}`, {
      method: 'PUT',
      json: { waitlistEnabled: true },
    });

    expect((await bodyOf<Event>(res, 200)).hasWaitlist).toBe(true);
    expect((await getEvent(app, before.eventId)).hasWaitlist).toBe(true);
  });

  it('moves an event between the ?status= lists when its status changes', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { status: 'active' });
    const ids = async (status: string) =>
      (await bodyOf<Event[]>(await app.call(`/events?status=${status}`), 200)).map(
        (e) => e.eventId,
      );
    expect(await ids('active')).toEqual([event.eventId]);

    const res = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { status: 'ongoing' },
    });

    expect((await bodyOf<Event>(res, 200)).status).toBe('ongoing');
    expect(await ids('active')).toEqual([]);
    expect(await ids('ongoing')).toEqual([event.eventId]);
  });

  it('allows lowering capacity to exactly the confirmed count', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 5 });
    await registerAll(app, event.eventId, await createUsers(app, 2));

    const res = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { capacity: 2 },
    });

    expect(await bodyOf<Event>(res, 200)).toMatchObject({ capacity: 2, registeredCount: 2 });
  });

  it('answers 409 EVENTS.CAPACITY_BELOW_REGISTERED and changes nothing', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 5 });
    await registerAll(app, event.eventId, await createUsers(app, 3));
    const before = await getEvent(app, event.eventId);

    const res = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { capacity: 2, title: 'Smaller' },
    });

    await expectProblem(res, 409, 'EVENTS.CAPACITY_BELOW_REGISTERED');
    expect(await getEvent(app, event.eventId)).toEqual(before);
  });

  it('answers 404 EVENTS.EVENT_NOT_FOUND for an unknown event and creates none', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('missing');

    const res = await app.call(`/events/${eventId}`, { method: 'PUT', json: { title: 'x' } });

    await expectProblem(res, 404, 'EVENTS.EVENT_NOT_FOUND');
    await expectProblem(await app.call(`/events/${eventId}`), 404, 'EVENTS.EVENT_NOT_FOUND');
  });

  it.each([
    ['an empty body', {}, 'body'],
    ['capacity 0', { capacity: 0 }, 'body.capacity'],
    ['capacity 100001', { capacity: 100_001 }, 'body.capacity'],
    ['a title of 201 characters', { title: 't'.repeat(201) }, 'body.title'],
    ['an unknown status', { status: 'postponed' }, 'body.status'],
    ['a bad date', { date: '2024-02-30T25:00' }, 'body.date'],
    [
      'hasWaitlist and waitlistEnabled that disagree',
      { hasWaitlist: true, waitlistEnabled: false },
      'body.waitlistEnabled',
    ],
  ])('answers 422 with errors[] for %s and changes nothing', async (_, json, path) => {
    const app = await createEventsApp();
    const before = await createEvent(app);

    const res = await app.call(`/events/${before.eventId}`, { method: 'PUT', json });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual(expect.arrayContaining([{ path, message: expect.any(String) }]));
    expect(await getEvent(app, before.eventId)).toEqual(before);
  });
});

describe('DELETE /events/{eventId}', () => {
  it('deletes the event and its registrations', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [confirmed, waitlisted] = await createUsers(app, 2);
    await registerAll(app, event.eventId, [confirmed, waitlisted]);

    const res = await app.call(`/events/${event.eventId}`, { method: 'DELETE' });

    expect(await bodyOf(res, 200)).toEqual({
      message: expect.any(String),
      eventId: event.eventId,
      deletedRegistrations: 2,
    });
    await expectProblem(await app.call(`/events/${event.eventId}`), 404, 'EVENTS.EVENT_NOT_FOUND');
    await expectProblem(
      await app.call(`/events/${event.eventId}/registrations`),
      404,
      'EVENTS.EVENT_NOT_FOUND',
    );
    expect(await userRegistrations(app, confirmed.userId)).toEqual([]);
    expect(await userRegistrations(app, waitlisted.userId)).toEqual([]);
    expect(await bodyOf<Event[]>(await app.call('/events?status=active'), 200)).toEqual([]);
  });

  it('leaves no registration behind for an event created again under the same id', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app, { eventId: uniqueId('again') });
    const users = await createUsers(app, 2);
    await registerAll(app, event.eventId, users);
    await bodyOf(await app.call(`/events/${event.eventId}`, { method: 'DELETE' }), 200);

    const again = await createEvent(app, { eventId: event.eventId });

    expect(again).toMatchObject({ registeredCount: 0, waitlistCount: 0 });
    expect(await eventRegistrations(app, event.eventId)).toEqual([]);
  });

  it('answers 404 EVENTS.EVENT_NOT_FOUND for an unknown event', async () => {
    const app = await createEventsApp();

    const res = await app.call(`/events/${uniqueId('missing')}`, { method: 'DELETE' });

    await expectProblem(res, 404, 'EVENTS.EVENT_NOT_FOUND');
  });
});
