import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import {
  allPages,
  bodyOf,
  createEvent,
  createEventsApp,
  expectProblem,
  type Registration,
  register,
  type User,
  uniqueId,
} from './fixtures.js';

const HEADER = [
  'registrationId',
  'userId',
  'userName',
  'status',
  'waitlistPosition',
  'registeredAt',
  'promotedAt',
  'offeredAt',
  'offerExpiresAt',
];

const CAPACITY = 120;
const PEOPLE = 300;
const FORMULA_NAME = '=HYPERLINK("http://x","y")';

/** Runs `work` over `items`, `concurrency` at a time. */
async function inParallel<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return results;
}

/** The rows of a CSV answer, checked for its framing (header, CRLF) on the way. */
async function csvRows(res: Response): Promise<Record<string, string>[]> {
  const text = await res.text();
  expect({ status: res.status, start: text.slice(0, 200) }).toMatchObject({ status: 200 });
  expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  expect(text.startsWith(`${HEADER.join(',')}\r\n`)).toBe(true);
  expect(text.endsWith('\r\n')).toBe(true);
  return parse(text, { columns: true, record_delimiter: '\r\n' });
}

/** What the CSV should say of each registration the JSON list answers. */
const expectedRow = (registration: Registration, names: ReadonlyMap<string, string>) => ({
  registrationId: registration.registrationId,
  userId: registration.userId,
  userName: names.get(registration.userId),
  status: registration.status,
  waitlistPosition: registration.waitlistPosition?.toString() ?? '',
  registeredAt: registration.registeredAt,
  promotedAt: registration.promotedAt ?? '',
  offeredAt: registration.offeredAt ?? '',
  offerExpiresAt: registration.offerExpiresAt ?? '',
});

describe('GET /events/{eventId}/registrations as CSV', () => {
  let app: TestApp;
  let eventId: string;
  /** Each user's name as the CSV shows it (formulas neutralised). */
  const shownNames = new Map<string, string>();
  let formulaUser: User;

  beforeAll(async () => {
    app = await createEventsApp();
    const event = await createEvent(app, { capacity: CAPACITY, hasWaitlist: true });
    eventId = event.eventId;
    const names = Array.from({ length: PEOPLE }, (_, i) =>
      i === 7 ? FORMULA_NAME : i === 8 ? 'Zoë "Z" Ñúñez, 李小龍' : `Person ${i}`,
    );
    const users = await inParallel(names, 12, async (name) => {
      const res = await app.call('/users', {
        method: 'POST',
        json: { userId: uniqueId('csv-user'), name },
      });
      return bodyOf<User>(res, 201);
    });
    for (const user of users) {
      shownNames.set(user.userId, user.name === FORMULA_NAME ? `'${FORMULA_NAME}` : user.name);
    }
    formulaUser = users[7] as User;
    await inParallel(users, 12, (user) => register(app, eventId, user.userId));
    // Two confirmed leave (two waitlisted are promoted: promotedAt), one waitlisted leaves (the
    // places behind move up).
    const listed = (await allPages<Registration>(app, `/events/${eventId}/registrations?limit=200`))
      .flat()
      .filter((r) => r.userId !== formulaUser.userId);
    const confirmed = listed.filter((r) => r.status === 'confirmed').slice(0, 2);
    const waiting = listed.filter((r) => r.status === 'waitlisted').slice(5, 6);
    for (const r of [...confirmed, ...waiting]) {
      const res = await app.call(`/events/${eventId}/registrations/${r.userId}`, {
        method: 'DELETE',
      });
      expect(res.status).toBe(200);
    }
  }, 60_000);

  it('streams every registration, confirmed then waitlisted, with the columns of the JSON list', async () => {
    const json = (
      await allPages<Registration>(app, `/events/${eventId}/registrations?limit=200`)
    ).flat();
    expect(json).toHaveLength(PEOPLE - 3);
    expect(json.filter((r) => r.status === 'confirmed')).toHaveLength(CAPACITY);
    expect(json.filter((r) => r.promotedAt !== undefined)).toHaveLength(2);

    const rows = await csvRows(
      await app.call(`/events/${eventId}/registrations`, { headers: { accept: 'text/csv' } }),
    );
    expect(rows).toEqual(json.map((r) => expectedRow(r, shownNames)));
    // Waitlisted places count 1, 2, 3, … with no gap and no repeat.
    const places = rows.filter((r) => r.status === 'waitlisted').map((r) => r.waitlistPosition);
    expect(places).toEqual(places.map((_, i) => String(i + 1)));
  });

  it('answers the same file at /events/{eventId}/registrations.csv, as a download', async () => {
    const res = await app.call(`/events/${eventId}/registrations.csv`);
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="registrations-${eventId}.csv"`,
    );
    const viaAccept = await csvRows(
      await app.call(`/events/${eventId}/registrations`, { headers: { accept: 'text/csv' } }),
    );
    expect(await csvRows(res)).toEqual(viaAccept);
  });

  it('neutralises a name a spreadsheet would run as a formula', async () => {
    const res = await app.call(`/events/${eventId}/registrations.csv`);
    const text = await res.clone().text();
    const row = (await csvRows(res)).find((r) => r.userId === formulaUser.userId);
    expect(row?.userName).toBe(`'${FORMULA_NAME}`);
    expect(text).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(text).not.toMatch(/(^|,)"?=HYPERLINK/m);
  });

  it('keeps answering JSON, one page, without Accept: text/csv (and says the answer varies)', async () => {
    const res = await app.call(`/events/${eventId}/registrations?limit=5`, {
      headers: { accept: 'application/json, text/csv;q=0.5' },
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('vary')).toMatch(/Accept/);
    expect(await bodyOf<Registration[]>(res, 200)).toHaveLength(5);
  });

  it('answers a 404 problem, not a CSV, for an event that does not exist', async () => {
    const missing = uniqueId('no-such-event');
    await expectProblem(
      await app.call(`/events/${missing}/registrations`, { headers: { accept: 'text/csv' } }),
      404,
      'EVENTS.EVENT_NOT_FOUND',
    );
    await expectProblem(
      await app.call(`/events/${missing}/registrations.csv`),
      404,
      'EVENTS.EVENT_NOT_FOUND',
    );
  });

  it('asks for credentials like the JSON list', async () => {
    await expectProblem(
      await app.call(`/events/${eventId}/registrations`, {
        key: null,
        headers: { accept: 'text/csv' },
      }),
      401,
    );
    await expectProblem(await app.call(`/events/${eventId}/registrations.csv`, { key: null }), 401);
  });

  it('answers only the header row for an event nobody registered for', async () => {
    const event = await createEvent(app);
    const res = await app.call(`/events/${event.eventId}/registrations.csv`);
    expect(await res.text()).toBe(`${HEADER.join(',')}\r\n`);
  });

  it('declares text/csv in the OpenAPI document', async () => {
    const doc = await bodyOf<{
      paths: Record<string, { get?: { responses: Record<string, { content?: object }> } }>;
    }>(await app.call('/openapi.json'), 200);
    const list = doc.paths['/events/{eventId}/registrations']?.get?.responses['200']?.content;
    expect(Object.keys(list ?? {})).toEqual(['application/json', 'text/csv']);
    const download = doc.paths['/events/{eventId}/registrations.csv']?.get?.responses['200'];
    expect(Object.keys(download?.content ?? {})).toEqual(['text/csv']);
  });
});
