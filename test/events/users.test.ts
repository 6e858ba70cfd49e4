import { describe, expect, it } from 'vitest';
import {
  allPages,
  bodyOf,
  createEvent,
  createEventsApp,
  createUser,
  createUsers,
  expectProblem,
  firstCursor,
  isoTimestamp,
  type User,
  UUID,
  uniqueId,
} from './fixtures.js';

describe('POST /users', () => {
  it('creates a user with the given userId and answers 201 with it and its Location', async () => {
    const app = await createEventsApp();
    const userId = uniqueId('user');

    const res = await app.call('/users', { method: 'POST', json: { userId, name: 'John Doe' } });

    const created = await bodyOf<User>(res, 201);
    expect(created).toEqual({ userId, name: 'John Doe', createdAt: isoTimestamp() });
    expect(res.headers.get('location')).toBe(`/users/${userId}`);
    expect(await bodyOf<User>(await app.call(`/users/${userId}`), 200)).toEqual(created);
  });

  it('generates a UUID userId when it is omitted', async () => {
    const app = await createEventsApp();

    const res = await app.call('/users', { method: 'POST', json: { name: 'Jane Doe' } });

    const created = await bodyOf<User>(res, 201);
    expect(created.userId).toMatch(UUID);
    expect(res.headers.get('location')).toBe(`/users/${created.userId}`);
    expect(await bodyOf<User>(await app.call(`/users/${created.userId}`), 200)).toEqual(created);
  });

  it('accepts a 100-character userId and a 200-character name', async () => {
    const app = await createEventsApp();
    const json = { userId: 'u'.repeat(100), name: 'n'.repeat(200) };

    const res = await app.call('/users', { method: 'POST', json });

    expect(await bodyOf<User>(res, 201)).toMatchObject(json);
  });

  it('answers 409 EVENTS.USER_EXISTS for a taken userId and keeps the first user', async () => {
    const app = await createEventsApp();
    const first = await createUser(app);

    const res = await app.call('/users', {
      method: 'POST',
      json: { userId: first.userId, name: 'Someone Else' },
    });

    await expectProblem(res, 409, 'EVENTS.USER_EXISTS');
    expect(await bodyOf<User>(await app.call(`/users/${first.userId}`), 200)).toEqual(first);
  });

  it.each([
    ['a blank name', { name: '   ' }, 'body.name'],
    ['an empty name', { name: '' }, 'body.name'],
    ['a missing name', {}, 'body.name'],
    ['a name of 201 characters', { name: 'n'.repeat(201) }, 'body.name'],
    ['a userId with a space', { userId: 'user 123', name: 'John' }, 'body.userId'],
    ['a userId of 101 characters', { userId: 'u'.repeat(101), name: 'John' }, 'body.userId'],
  ])('answers 422 with errors[] for %s and creates nothing', async (_, json, path) => {
    const app = await createEventsApp();

    const res = await app.call('/users', { method: 'POST', json });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual(expect.arrayContaining([{ path, message: expect.any(String) }]));
    expect(await bodyOf<User[]>(await app.call('/users'), 200)).toEqual([]);
  });
});

describe('GET /users/{userId}', () => {
  it('answers 404 EVENTS.USER_NOT_FOUND for an unknown user', async () => {
    const app = await createEventsApp();

    const res = await app.call(`/users/${uniqueId('nobody')}`);

    await expectProblem(res, 404, 'EVENTS.USER_NOT_FOUND');
  });
});

describe('GET /users', () => {
  it('lists every user in creation order', async () => {
    const app = await createEventsApp();
    const users = await createUsers(app, 3);

    const res = await app.call('/users');

    expect(await bodyOf<User[]>(res, 200)).toEqual(users);
    expect(res.headers.get('link')).toBeNull();
  });

  it('pages 5 users 2 at a time through Link rel="next", each once, in creation order', async () => {
    const app = await createEventsApp();
    const users = await createUsers(app, 5);

    const first = await app.call('/users?limit=2');
    const pages = await allPages<User>(app, '/users?limit=2');

    expect(first.headers.get('link')).toMatch(/^<\?limit=2&cursor=[^>]+>; rel="next"$/);
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(users);
  });

  it.each([
    ['limit=0', '?limit=0'],
    ['limit=201', '?limit=201'],
  ])('answers 422 for %s', async (_, query) => {
    const app = await createEventsApp();

    const res = await app.call(`/users${query}`);

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual([{ path: 'query.limit', message: expect.any(String) }]);
  });

  it('answers 400 PAGINATION.CURSOR_INVALID for a garbage cursor', async () => {
    const app = await createEventsApp();

    const res = await app.call('/users?cursor=eyJub3QiOiJhIGN1cnNvciJ9');

    await expectProblem(res, 400, 'PAGINATION.CURSOR_INVALID');
  });

  it('answers 400 for a cursor taken from the events list', async () => {
    const app = await createEventsApp();
    await createEvent(app);
    await createEvent(app);
    await createUser(app);
    const cursor = await firstCursor(app, '/events?limit=1');

    const res = await app.call(`/users?cursor=${cursor}`);

    await expectProblem(res, 400, 'PAGINATION.CURSOR_INVALID');
  });
});

describe('GET /users/{userId}/registrations', () => {
  it('answers 404 EVENTS.USER_NOT_FOUND for an unknown user', async () => {
    const app = await createEventsApp();

    const res = await app.call(`/users/${uniqueId('nobody')}/registrations`);

    await expectProblem(res, 404, 'EVENTS.USER_NOT_FOUND');
  });

  it('answers 200 with an empty list for a user without registrations', async () => {
    const app = await createEventsApp();
    const user = await createUser(app);

    const res = await app.call(`/users/${user.userId}/registrations`);

    expect(await bodyOf(res, 200)).toEqual([]);
  });
});
