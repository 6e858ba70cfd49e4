import { createHmac, randomBytes } from 'node:crypto';
import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { TEST_SECRETS, type TestApp } from '../support/app.js';
import { bodyOf, createEvent, createEventsApp, expectProblem, uniqueId } from './fixtures.js';

/**
 * Calendar exports, through the real app on DynamoDB Local: what the API answers is parsed back
 * with ical.js (an RFC 5545 parser that shares no code with the generator), so the assertions are
 * about the calendar a client reads, not about the text.
 */

interface ParsedEvent {
  readonly uid: string;
  readonly summary: string;
  readonly description: string;
  readonly location: string;
  readonly start: string;
  readonly startIsDate: boolean;
  readonly end: string | undefined;
  readonly sequence: number;
  readonly status: string;
  readonly organizer: string | undefined;
  readonly dtstamp: string;
  readonly lastModified: string;
}

function parseCalendar(text: string): ParsedEvent[] {
  const calendar = new ICAL.Component(ICAL.parse(text));
  return calendar.getAllSubcomponents('vevent').map((vevent) => {
    const event = new ICAL.Event(vevent);
    const time = (name: string) => {
      const value = vevent.getFirstPropertyValue(name);
      return value instanceof ICAL.Time ? value.toJSDate().toISOString() : undefined;
    };
    const organizer = vevent.getFirstProperty('organizer');
    return {
      uid: event.uid,
      summary: event.summary,
      description: event.description,
      location: event.location,
      start: event.startDate.toString(),
      startIsDate: event.startDate.isDate,
      end: vevent.hasProperty('dtend') ? event.endDate.toString() : undefined,
      sequence: event.sequence,
      status: String(vevent.getFirstPropertyValue('status')),
      organizer: organizer ? String(organizer.getParameter('cn')) : undefined,
      dtstamp: time('dtstamp') ?? '',
      lastModified: time('last-modified') ?? '',
    };
  });
}

/** iCalendar date-times have whole seconds. */
const toSeconds = (iso: string) => iso.replace(/\.\d{3}Z$/, '.000Z');

async function calendarOf(res: Response): Promise<ParsedEvent[]> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status: 200 });
  expect(res.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
  expect(res.headers.get('etag')).toMatch(/^"[^"]+"$/);
  return parseCalendar(text);
}

async function feedLink(app: TestApp, body?: unknown): Promise<URL> {
  const res = await app.call('/calendar/feed-link', {
    method: 'POST',
    ...(body === undefined ? {} : { json: body }),
  });
  const { url } = await bodyOf<{ url: string }>(res, 200);
  return new URL(url);
}

async function feedLinkBody(app: TestApp): Promise<{ url: string; linkId: string }> {
  return bodyOf<{ url: string; linkId: string }>(
    await app.call('/calendar/feed-link', { method: 'POST' }),
    200,
  );
}

/** The feed at `url`, fetched as a calendar client does: no API key. */
const fetchFeed = (app: TestApp, url: URL) =>
  app.call(`${url.pathname}${url.search}`, { key: null });

describe('GET /events/{eventId}.ics', () => {
  it('answers one all-day VEVENT that parses back to the event', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('ics');
    const event = await createEvent(app, {
      eventId,
      title: 'Tech Conference 2024',
      date: '2024-12-15',
      location: 'San Francisco, CA',
      organizer: 'Tech Corp',
    });

    const [parsed, ...others] = await calendarOf(await app.call(`/events/${eventId}.ics`));

    expect(others).toEqual([]);
    expect(parsed).toMatchObject({
      uid: `${eventId}@roster`,
      summary: 'Tech Conference 2024',
      description: 'Annual technology conference',
      location: 'San Francisco, CA',
      start: '2024-12-15',
      startIsDate: true,
      end: '2024-12-16',
      sequence: 0,
      status: 'CONFIRMED',
      dtstamp: toSeconds(event.updatedAt),
      lastModified: toSeconds(event.updatedAt),
    });
  });

  it('raises SEQUENCE with every change of the event, and DTSTAMP with it', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { eventId: uniqueId('seq') });
    const [before] = await calendarOf(await app.call(`/events/${eventId}.ics`));

    await app.call(`/events/${eventId}`, { method: 'PUT', json: { title: 'Renamed' } });
    const updated = await bodyOf<{ updatedAt: string }>(
      await app.call(`/events/${eventId}`, { method: 'PUT', json: { location: 'Lisbon' } }),
      200,
    );
    const [after] = await calendarOf(await app.call(`/events/${eventId}.ics`));

    expect(before?.sequence).toBe(0);
    expect(after).toMatchObject({
      sequence: 2,
      summary: 'Renamed',
      location: 'Lisbon',
      dtstamp: toSeconds(updated.updatedAt),
    });
  });

  it('marks a cancelled event STATUS:CANCELLED', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { eventId: uniqueId('cancel') });

    await app.call(`/events/${eventId}`, { method: 'PUT', json: { status: 'cancelled' } });
    const [parsed] = await calendarOf(await app.call(`/events/${eventId}.ics`));

    expect(parsed).toMatchObject({ status: 'CANCELLED', sequence: 1 });
  });

  it('keeps commas, semicolons, backslashes and line breaks of the text as they were', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('text');
    const text = {
      title: 'Talks; panels, and "Q&A" \\ more',
      description: 'Line one, with a comma;\nline two; with a semicolon\n\nEND:VEVENT\nBEGIN:X',
      location: 'Room 1; Building A, Floor 2',
    };
    await createEvent(app, { eventId, ...text });

    const [parsed] = await calendarOf(await app.call(`/events/${eventId}.ics`));

    expect(parsed).toMatchObject({
      summary: text.title,
      description: text.description,
      location: text.location,
    });
  });

  it('starts at the instant of an event with a time, in UTC', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, {
      eventId: uniqueId('timed'),
      date: '2024-12-15T18:30:00+02:00',
    });

    const [parsed] = await calendarOf(await app.call(`/events/${eventId}.ics`));

    expect(parsed).toMatchObject({ start: '2024-12-15T16:30:00Z', startIsDate: false });
  });

  it('names the organizer with a mailto address when it is one, and leaves it out otherwise', async () => {
    const app = await createEventsApp();
    const withEmail = await createEvent(app, {
      eventId: uniqueId('org'),
      organizer: 'events@example.com',
    });
    const withName = await createEvent(app, { eventId: uniqueId('org'), organizer: 'Tech Corp' });

    const [mailed] = await calendarOf(await app.call(`/events/${withEmail.eventId}.ics`));
    const named = await app.call(`/events/${withName.eventId}.ics`);
    const namedText = await named.clone().text();
    const [unnamed] = await calendarOf(named);

    expect(mailed?.organizer).toBe('events@example.com');
    expect(unnamed?.organizer).toBeUndefined();
    expect(namedText).not.toMatch(/ORGANIZER/);
  });

  it('is a 404 problem for an unknown event and a 422 for an id that is not one', async () => {
    const app = await createEventsApp();

    const unknown = await expectProblem(
      await app.call('/events/nobody-here.ics'),
      404,
      'EVENTS.EVENT_NOT_FOUND',
    );
    await expectProblem(await app.call('/events/a%2Fb.ics'), 422, 'REQUEST.VALIDATION_FAILED');
    await expectProblem(
      await app.call(`/events/${'x'.repeat(101)}.ics`),
      422,
      'REQUEST.VALIDATION_FAILED',
    );

    expect(unknown.detail).toBe('Event nobody-here does not exist.');
  });

  it('answers 304 to If-None-Match with its ETag until the event changes', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { eventId: uniqueId('etag') });
    const etag = (await app.call(`/events/${eventId}.ics`)).headers.get('etag') ?? '';

    const unchanged = await app.call(`/events/${eventId}.ics`, {
      headers: { 'if-none-match': etag },
    });
    await app.call(`/events/${eventId}`, { method: 'PUT', json: { title: 'Changed' } });
    const changed = await app.call(`/events/${eventId}.ics`, {
      headers: { 'if-none-match': etag },
    });

    expect(etag).not.toBe('');
    expect(unchanged.status).toBe(304);
    expect(changed.status).toBe(200);
  });

  it('needs the API key like the other event routes', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { eventId: uniqueId('auth') });

    await expectProblem(await app.call(`/events/${eventId}.ics`, { key: null }), 401);
    expect(await calendarOf(await app.call(`/events/${eventId}.ics`))).toHaveLength(1);
  });

  it('keeps the JSON of an event whose id has dots at /events/{eventId}, its calendar at .ics', async () => {
    const app = await createEventsApp();
    const eventId = `${uniqueId('conf')}.2024`;
    await createEvent(app, { eventId });

    const json = await app.call(`/events/${eventId}`);
    const [parsed] = await calendarOf(await app.call(`/events/${eventId}.ics`));

    expect(await bodyOf<{ eventId: string }>(json, 200)).toMatchObject({ eventId });
    expect(parsed?.uid).toBe(`${eventId}@roster`);
  });
});

describe('GET /calendar.ics', () => {
  it('lists the events, cancelled ones included, with a link from POST /calendar/feed-link', async () => {
    const app = await createEventsApp();
    const first = await createEvent(app, { eventId: uniqueId('feed'), title: 'First' });
    const second = await createEvent(app, { eventId: uniqueId('feed'), title: 'Second' });
    await app.call(`/events/${second.eventId}`, { method: 'PUT', json: { status: 'cancelled' } });

    const url = await feedLink(app);
    const parsed = await calendarOf(await fetchFeed(app, url));

    expect(url.pathname).toBe('/calendar.ics');
    expect(url.searchParams.get('token')).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(
      parsed
        .map(({ uid, summary, status }) => ({ uid, summary, status }))
        .sort((a, b) => a.uid.localeCompare(b.uid)),
    ).toEqual(
      [
        { uid: `${first.eventId}@roster`, summary: 'First', status: 'CONFIRMED' },
        { uid: `${second.eventId}@roster`, summary: 'Second', status: 'CANCELLED' },
      ].sort((a, b) => a.uid.localeCompare(b.uid)),
    );
  });

  it('lists events past the first page of the index it reads', async () => {
    const app = await createEventsApp();
    const prefix = uniqueId('many');
    const ids = Array.from({ length: 130 }, (_, i) => `${prefix}-${i}`);
    for (let i = 0; i < ids.length; i += 13) {
      await Promise.all(ids.slice(i, i + 13).map((eventId) => createEvent(app, { eventId })));
    }

    const parsed = await calendarOf(await fetchFeed(app, await feedLink(app)));

    expect(parsed.map((event) => event.uid).sort()).toEqual(ids.map((id) => `${id}@roster`).sort());
  });

  it('keeps no API key in the link', async () => {
    const app = await createEventsApp();

    const url = await feedLink(app);

    expect(url.toString()).not.toContain('test-key');
    expect([...url.searchParams.keys()]).toEqual(['token']);
  });

  it('refuses a forged, an altered, a missing-signature and an expired token, listing nothing', async () => {
    let now = new Date('2026-01-01T00:00:00.000Z');
    const app = await createEventsApp({ clock: () => now });
    await createEvent(app, { eventId: uniqueId('secret'), title: 'Not for strangers' });
    const token = (await feedLink(app, { expiresInDays: 1 })).searchParams.get('token') ?? '';
    const [payload = '', signature = ''] = token.split('.');
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    const longer = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
        e: 4_102_444_800,
      }),
    ).toString('base64url');

    const refused = [
      'forged',
      `${payload}.${flipped}`,
      `${longer}.${signature}`,
      payload,
      `${payload}.`,
      `.${signature}`,
    ];
    for (const forged of refused) {
      const res = await app.call(`/calendar.ics?token=${encodeURIComponent(forged)}`, {
        key: null,
      });
      const text = await res.clone().text();
      expect(text).not.toContain('Not for strangers');
      await expectProblem(res, 404, 'EVENTS.CALENDAR_FEED_NOT_FOUND');
    }
    expect(
      (await calendarOf(await fetchFeed(app, new URL(`http://x/calendar.ics?token=${token}`))))
        .length,
    ).toBe(1);

    now = new Date('2026-01-02T00:00:01.000Z');
    await expectProblem(
      await app.call(`/calendar.ics?token=${token}`, { key: null }),
      404,
      'EVENTS.CALENDAR_FEED_NOT_FOUND',
    );
  });

  it('refuses a token of the same shape signed with another key', async () => {
    const app = await createEventsApp();
    const token = (await feedLink(app)).searchParams.get('token') ?? '';
    const [payload = ''] = token.split('.');
    const otherKey = createHmac('sha256', randomBytes(32)).update(payload).digest('base64url');

    await expectProblem(
      await app.call(`/calendar.ics?token=${payload}.${otherKey}`, { key: null }),
      404,
      'EVENTS.CALENDAR_FEED_NOT_FOUND',
    );
  });

  it('is a 422 problem without a token', async () => {
    const app = await createEventsApp();

    await expectProblem(
      await app.call('/calendar.ics', { key: null }),
      422,
      'REQUEST.VALIDATION_FAILED',
    );
  });
});

describe('revoking a calendar feed link', () => {
  it('closes the link it names, and only that one', async () => {
    const app = await createEventsApp();
    await createEvent(app, { eventId: uniqueId('revoke'), title: 'Listed' });
    const kept = await feedLinkBody(app);
    const revoked = await feedLinkBody(app);
    expect(revoked.linkId).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(revoked.linkId).not.toBe(kept.linkId);
    expect((await calendarOf(await fetchFeed(app, new URL(revoked.url)))).length).toBe(1);

    const res = await app.call(`/calendar/feed-links/${revoked.linkId}`, { method: 'DELETE' });

    expect(res.status).toBe(204);
    await expectProblem(
      await fetchFeed(app, new URL(revoked.url)),
      404,
      'EVENTS.CALENDAR_FEED_NOT_FOUND',
    );
    expect((await calendarOf(await fetchFeed(app, new URL(kept.url)))).length).toBe(1);
    // Again: still revoked, no error.
    expect(
      (await app.call(`/calendar/feed-links/${revoked.linkId}`, { method: 'DELETE' })).status,
    ).toBe(204);
  });

  it('is a 404 for an id no link was issued with, a 422 for a malformed one, a 401 without a key', async () => {
    const app = await createEventsApp();
    await expectProblem(
      await app.call('/calendar/feed-links/AAAAAAAAAAAAAAAA', { method: 'DELETE' }),
      404,
      'EVENTS.CALENDAR_FEED_LINK_NOT_FOUND',
    );
    await expectProblem(
      await app.call('/calendar/feed-links/short', { method: 'DELETE' }),
      422,
      'REQUEST.VALIDATION_FAILED',
    );
    const { linkId } = await feedLinkBody(app);
    await expectProblem(
      await app.call(`/calendar/feed-links/${linkId}`, { method: 'DELETE', key: null }),
      401,
    );
  });

  it('still opens a link the previous release made (no id), which only a new secret closes', async () => {
    const app = await createEventsApp();
    await createEvent(app, { eventId: uniqueId('legacy'), title: 'Old link' });
    const payload = Buffer.from(
      JSON.stringify({ p: 'calendar-feed', i: Math.floor(Date.now() / 1000) }),
    ).toString('base64url');
    const mac = createHmac('sha256', TEST_SECRETS.key('calendar-feed'))
      .update(payload)
      .digest()
      .subarray(0, 16)
      .toString('base64url');

    const feed = await fetchFeed(app, new URL(`http://x/calendar.ics?token=${payload}.${mac}`));

    expect((await calendarOf(feed)).length).toBe(1);
  });
});

describe('POST /calendar/feed-link', () => {
  it('needs the API key', async () => {
    const app = await createEventsApp();

    await expectProblem(await app.call('/calendar/feed-link', { method: 'POST', key: null }), 401);
    expect((await feedLink(app)).pathname).toBe('/calendar.ics');
  });

  it('refuses an expiry out of range and unknown fields', async () => {
    const app = await createEventsApp();

    for (const json of [{ expiresInDays: 0 }, { expiresInDays: 1.5 }, { forever: true }]) {
      await expectProblem(
        await app.call('/calendar/feed-link', { method: 'POST', json }),
        422,
        'REQUEST.VALIDATION_FAILED',
      );
    }
  });
});

describe('the OpenAPI document', () => {
  it('declares the calendar routes with text/calendar answers, the feed without a key', async () => {
    const app = await createEventsApp();

    const document = await bodyOf<{
      paths: Record<
        string,
        Record<
          string,
          { security?: unknown[]; responses: Record<string, { content?: Record<string, unknown> }> }
        >
      >;
    }>(await app.call('/openapi.json'), 200);

    expect(
      Object.keys(document.paths['/events/{eventId}.ics']?.get?.responses['200']?.content ?? {}),
    ).toEqual(['text/calendar']);
    expect(
      Object.keys(document.paths['/calendar.ics']?.get?.responses['200']?.content ?? {}),
    ).toEqual(['text/calendar']);
    expect(document.paths['/calendar.ics']?.get?.security).toEqual([]);
    expect(document.paths['/calendar/feed-link']?.post).toBeDefined();
  });
});

it('refuses a new event id ending in .ics, which GET would read as the calendar', async () => {
  const app = await createEventsApp();
  const response = await app.call('/events', {
    method: 'POST',
    json: {
      eventId: 'party.ICS',
      title: 'Party',
      description: 'd',
      date: '2030-01-01',
      location: 'Hall',
      capacity: 5,
      organizer: 'Roster',
    },
  });
  expect(response.status).toBe(422);
  expect(JSON.stringify(await response.json())).toContain('.ics');
});
