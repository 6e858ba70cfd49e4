import { describe, expect, it } from 'vitest';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUsers,
  registerAll,
} from '../events/fixtures.js';

/*
 * On AWS the API function's answer is buffered (6 MB at most) while the `.csv` twins stream from a
 * function of their own: there the API function sends a list's `Accept: text/csv` variant to its
 * twin (307) rather than buffer a file that may not fit. Locally both variants stream.
 */

describe('a list asked for as CSV where answers are buffered', () => {
  it('redirects to the .csv twin with the same query, which answers the file', async () => {
    const app = await createEventsApp({ api: { csvVariant: 'redirect' } });
    const event = await createEvent(app, { capacity: 1, hasWaitlist: true });
    await registerAll(app, event.eventId, await createUsers(app, 2));

    const res = await app.call(`/events/${event.eventId}/registrations?status=waitlisted`, {
      headers: { accept: 'text/csv' },
    });

    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('registrations.csv?status=waitlisted');
    expect(res.headers.get('vary')).toMatch(/accept/i);
    const twin = await app.call(
      new URL(res.headers.get('location') ?? '', `http://x/events/${event.eventId}/registrations`)
        .pathname + '?status=waitlisted',
    );
    expect(twin.status).toBe(200);
    expect(twin.headers.get('content-type')).toMatch(/^text\/csv/);
  });

  it('answers JSON as before, and the twin itself, without a redirect', async () => {
    const app = await createEventsApp({ api: { csvVariant: 'redirect' } });
    const event = await createEvent(app);

    const json = await app.call(`/events/${event.eventId}/registrations`);
    const twin = await app.call(`/events/${event.eventId}/registrations.csv`);

    expect(await bodyOf(json, 200)).toEqual([]);
    expect(twin.status).toBe(200);
  });

  it('streams the CSV variant itself where answers stream (the local runtime)', async () => {
    const app = await createEventsApp();
    const event = await createEvent(app);

    const res = await app.call(`/events/${event.eventId}/registrations`, {
      headers: { accept: 'text/csv' },
    });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
  });
});
