import { beforeAll, describe, expect, it } from 'vitest';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { expectProblem, uniqueId } from '../support/fixture-app.js';

/**
 * Conditional GET (RFC 9110 §13.1.2) on the API's JSON answers, lists and single items alike:
 * each 200 carries an ETag, and an If-None-Match that matches it — `*` included — is a 304.
 */

describe('conditional GET on JSON routes', () => {
  let app: TestApp;
  let eventId: string;

  const createEvent = async (id: string) => {
    const res = await app.call('/events', {
      method: 'POST',
      json: {
        eventId: id,
        title: 'Conditional',
        description: 'ETag checks',
        date: '2030-01-01',
        location: 'Here',
        capacity: 5,
        organizer: 'tests',
      },
    });
    expect(res.status).toBe(201);
  };

  beforeAll(async () => {
    app = await createTestApp({ modules: [eventsModule] });
    eventId = uniqueId('etag');
    await createEvent(eventId);
  });

  it.each(['/events', '/users'])(
    'gives the list %s an ETag and answers 304 to it',
    async (path) => {
      const first = await app.call(path);
      const etag = first.headers.get('etag') ?? '';

      const again = await app.call(path, { headers: { 'if-none-match': etag } });

      expect(first.status).toBe(200);
      expect(etag).toMatch(/^"[\w-]+"$/);
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
      expect(again.headers.get('etag')).toBe(etag);
      expect(again.headers.get('x-request-id')).toBeTruthy();
    },
  );

  it('answers 200 with a new ETag once the list has changed', async () => {
    const before = await app.call('/events?limit=200');
    const etag = before.headers.get('etag') ?? '';
    await createEvent(uniqueId('etag'));

    const after = await app.call('/events?limit=200', { headers: { 'if-none-match': etag } });

    expect(after.status).toBe(200);
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(after.headers.get('etag')).toMatch(/^"[\w-]+"$/);
    expect(after.headers.get('etag')).not.toBe(etag);
  });

  it('answers 304 to If-None-Match: * on a resource that exists', async () => {
    const res = await app.call(`/events/${eventId}`, { headers: { 'if-none-match': '*' } });

    expect(res.status).toBe(304);
    expect(await res.text()).toBe('');
  });

  it('answers 404 to If-None-Match: * on a resource that does not exist', async () => {
    const res = await app.call(`/events/${uniqueId('absent')}`, {
      headers: { 'if-none-match': '*' },
    });

    await expectProblem(res, 404);
  });

  it('matches an ETag among several, and a weak one (W/) by its opaque part', async () => {
    const path = `/events/${eventId}`;
    const etag = (await app.call(path)).headers.get('etag') ?? '';

    const listed = await app.call(path, { headers: { 'if-none-match': `"nope", ${etag}` } });
    const weak = await app.call(path, { headers: { 'if-none-match': `W/${etag}` } });
    const other = await app.call(path, { headers: { 'if-none-match': '"nope"' } });

    expect([listed.status, weak.status, other.status]).toEqual([304, 304, 200]);
  });

  it('answers HEAD like GET: the same ETag, and 304 when it matches', async () => {
    const get = await app.call(`/events/${eventId}`);
    const etag = get.headers.get('etag') ?? '';

    const head = await app.call(`/events/${eventId}`, { method: 'HEAD' });
    const headMatch = await app.call(`/events/${eventId}`, {
      method: 'HEAD',
      headers: { 'if-none-match': etag },
    });

    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(etag);
    expect(headMatch.status).toBe(304);
  });

  it('lets a script on another origin send If-None-Match and read the ETag', async () => {
    const preflight = await app.call('/events', {
      method: 'OPTIONS',
      key: null,
      headers: {
        origin: 'https://elsewhere.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'if-none-match,x-api-key',
      },
    });
    const res = await app.call('/events', { headers: { origin: 'https://elsewhere.example' } });

    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'if-none-match',
    );
    expect(res.headers.get('access-control-expose-headers')).toContain('etag');
  });

  it('still asks for credentials before answering 304', async () => {
    const res = await app.call('/events', { key: null, headers: { 'if-none-match': '*' } });

    await expectProblem(res, 401);
  });
});
