import { randomBytes } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { shardedRegistrationRows } from '../../src/modules/events/events.shards.readers.dynamo.js';
import { shardOf } from '../../src/modules/events/events.shards.rules.js';
import { createCursorCodec } from '../../src/platform/dynamo/cursor.js';
import { DynamoTable } from '../../src/platform/dynamo/table.js';
import type { TestApp } from '../support/app.js';
import {
  allPages,
  bodyOf,
  createEvent,
  createEventsApp,
  createUser,
  expectProblem,
  firstCursor,
  type Registration,
  uniqueId,
} from './fixtures.js';

/*
 * The readers of a whole sharded event (docs/decisions/sharded-capacity.md, *Readers*): its rows
 * are in N partitions `EVENT#<id>#S<ss>`, so the list and the export merge N queries in the
 * unsharded order, the stats tally N, a ticket is checked in its row's shard, and the door
 * manifest reads N ticket index keys.
 */

const SHARDING = { EVENTS_SHARDING: 'on' };
const SHARDS = 4;

interface Manifest {
  tickets: { registrationId: string; userId: string; userName?: string }[];
  revoked: { registrationId: string }[];
  admissions: { registrationId: string; inside: boolean }[];
  cursor: string;
}

interface Answer {
  result: string;
  registrationId?: string;
  userId?: string;
}

/** A 4-shard event with `count` registrations made one after another through the API. */
async function shardedWithRegistrations(app: TestApp, count: number, capacity = count) {
  const { eventId } = await createEvent(app, {
    eventId: uniqueId('hot'),
    shards: SHARDS,
    capacity,
    date: '2030-01-01',
  });
  const registrations: Registration[] = [];
  for (let i = 0; i < count; i++) {
    const { userId } = await createUser(app, uniqueId(`fan${i}`));
    const res = await app.call(`/events/${eventId}/registrations`, {
      method: 'POST',
      json: { userId },
    });
    registrations.push(await bodyOf<Registration>(res, 201));
  }
  // Rows in several shards, or the merge is not what is tested.
  expect(new Set(registrations.map((r) => shardOf(r.registrationId))).size).toBeGreaterThan(1);
  return { eventId, registrations };
}

const unregister = (app: TestApp, eventId: string, userId: string) =>
  app.call(`/events/${eventId}/registrations/${userId}`, { method: 'DELETE' });

async function ticketOf(app: TestApp, eventId: string, userId: string): Promise<string> {
  const res = await app.call(`/events/${eventId}/registrations/${userId}/ticket`, {
    headers: { accept: 'application/json' },
  });
  return (await bodyOf<{ ticket: string }>(res, 200)).ticket;
}

async function scan(app: TestApp, eventId: string, body: Record<string, unknown>) {
  const res = await app.call(`/events/${eventId}/checkins`, {
    method: 'POST',
    json: { nonce: randomBytes(12).toString('base64url'), ...body },
  });
  return bodyOf<Answer>(res, 200);
}

/** The list's order: confirmed by registration id (join order across shards). */
const byId = (registrations: readonly Registration[]) =>
  registrations.map((r) => r.registrationId).sort();

describe("the list of a sharded event's registrations", () => {
  it('pages through every registration once, in join order, across the shards', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId, registrations } = await shardedWithRegistrations(app, 9, 12);
    const [gone, ...kept] = registrations as [Registration, ...Registration[]];
    await bodyOf(await unregister(app, eventId, gone.userId), 200);

    for (const limit of [1, 2, 4, 50]) {
      const pages = await allPages<Registration>(
        app,
        `/events/${eventId}/registrations?limit=${limit}`,
      );
      const listed = pages.flat();
      expect(
        listed.map((r) => r.registrationId),
        `limit ${limit}`,
      ).toEqual(byId(kept));
      expect(listed.every((r) => r.status === 'confirmed' && r.eventId === eventId)).toBe(true);
      for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
    }
  });

  it("refuses another list's cursor and a tampered one", async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId } = await shardedWithRegistrations(app, 4);
    const other = await shardedWithRegistrations(app, 4);
    const plain = await createEvent(app, { eventId: uniqueId('plain') });
    const cursor = await firstCursor(app, `/events/${eventId}/registrations?limit=1`);

    for (const listed of [other.eventId, plain.eventId]) {
      await expectProblem(
        await app.call(`/events/${listed}/registrations?limit=1&cursor=${cursor}`),
        400,
        'PAGINATION.CURSOR_INVALID',
      );
    }
    const tampered = `${cursor.slice(0, -2)}${cursor.endsWith('AA') ? 'AB' : 'AA'}`;
    await expectProblem(
      await app.call(`/events/${eventId}/registrations?limit=1&cursor=${tampered}`),
      400,
      'PAGINATION.CURSOR_INVALID',
    );
    // And an unsharded list refuses the sharded list's cursor the other way round too.
    const plainCursor = await (async () => {
      for (let i = 0; i < 2; i++) {
        const { userId } = await createUser(app, uniqueId('plainfan'));
        await bodyOf(
          await app.call(`/events/${plain.eventId}/registrations`, {
            method: 'POST',
            json: { userId },
          }),
          201,
        );
      }
      return firstCursor(app, `/events/${plain.eventId}/registrations?limit=1`);
    })();
    await expectProblem(
      await app.call(`/events/${eventId}/registrations?limit=1&cursor=${plainCursor}`),
      400,
      'PAGINATION.CURSOR_INVALID',
    );
  });
});

describe("the export of a sharded event's registrations", () => {
  it('has a row for every registration, in the order of the list', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId, registrations } = await shardedWithRegistrations(app, 7);

    const res = await app.call(`/events/${eventId}/registrations.csv`);
    expect(res.status).toBe(200);
    const rows: Record<string, string>[] = parse(await res.text(), {
      columns: true,
      record_delimiter: '\r\n',
    });

    expect(rows.map((row) => row.registrationId)).toEqual(byId(registrations));
    for (const row of rows) expect(row.userName).toBe(`Name ${row.userId}`);
  });

  it('streams the merge page by page: full pages, every row once, in order', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId, registrations } = await shardedWithRegistrations(app, 7);
    const table = new DynamoTable(
      app.config.tables.events as string,
      app.dynamo.doc,
      createCursorCodec(Buffer.alloc(32, 1)),
    );

    for (const pageSize of [1, 2, 3, 100]) {
      const pages: Record<string, unknown>[][] = [];
      for await (const page of shardedRegistrationRows(
        table,
        { eventId, shards: SHARDS },
        pageSize,
      )) {
        pages.push(page);
      }
      expect(
        pages.flat().map((row) => row.registrationId),
        `page size ${pageSize}`,
      ).toEqual(byId(registrations));
      for (const page of pages.slice(0, -1)) expect(page).toHaveLength(pageSize);
    }
  });
});

describe('the stats of a sharded event', () => {
  it("counts every shard's registrations in the hours", async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId, registrations } = await shardedWithRegistrations(app, 6, 8);

    const stats = await bodyOf<{
      confirmed: number;
      hours: { registered: number; confirmed: number }[];
    }>(await app.call(`/events/${eventId}/stats`), 200);

    expect(stats.confirmed).toBe(registrations.length);
    expect(stats.hours.reduce((n, hour) => n + hour.registered, 0)).toBe(registrations.length);
    expect(stats.hours.at(-1)?.confirmed).toBe(registrations.length);
  });
});

describe('the door, for a sharded event', () => {
  it('admits a ticket (and a user id) from any shard, and refuses a revoked one', async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId, registrations } = await shardedWithRegistrations(app, 4);
    const [a, b, gone] = registrations as [Registration, Registration, Registration];
    const [ticketA, ticketGone] = [
      await ticketOf(app, eventId, a.userId),
      await ticketOf(app, eventId, gone.userId),
    ];
    await bodyOf(await unregister(app, eventId, gone.userId), 200);

    expect(await scan(app, eventId, { ticket: ticketA })).toMatchObject({
      result: 'admitted',
      registrationId: a.registrationId,
    });
    expect(await scan(app, eventId, { ticket: ticketA })).toMatchObject({
      result: 'already_admitted',
    });
    expect(await scan(app, eventId, { userId: b.userId })).toMatchObject({
      result: 'admitted',
      registrationId: b.registrationId,
    });
    expect(await scan(app, eventId, { ticket: ticketGone })).toMatchObject({
      result: 'revoked',
      registrationId: gone.registrationId,
    });

    const checkins = await bodyOf<{ checkedIn: number; confirmed: number; inside: number }>(
      await app.call(`/events/${eventId}/checkins/stats`),
      200,
    );
    expect(checkins).toMatchObject({ checkedIn: 2, inside: 2, confirmed: 3 });
  });

  it("syncs every shard's tickets and revocations, and the admissions", async () => {
    const app = await createEventsApp({ env: SHARDING });
    const { eventId, registrations } = await shardedWithRegistrations(app, 6, 8);
    const [gone, inside, ...rest] = registrations as [Registration, Registration, Registration];
    await bodyOf(await unregister(app, eventId, gone.userId), 200);
    await scan(app, eventId, { userId: inside.userId });
    const path = `/events/${eventId}/tickets/manifest`;

    const full = await bodyOf<Manifest>(await app.call(path), 200);

    expect(full.tickets.map((t) => t.registrationId).sort()).toEqual(byId([inside, ...rest]));
    expect(full.tickets.every((t) => t.userName === `Name ${t.userId}`)).toBe(true);
    expect(full.revoked.map((r) => r.registrationId)).toEqual([gone.registrationId]);
    expect(full.admissions).toEqual([
      expect.objectContaining({ registrationId: inside.registrationId, inside: true }),
    ]);
    const revocations = await bodyOf<{ revoked: { registrationId: string }[] }>(
      await app.call(`/events/${eventId}/tickets/revocations`),
      200,
    );
    expect(revocations.revoked.map((r) => r.registrationId)).toEqual([gone.registrationId]);
    // A delta since a time after everything: nothing.
    const later = new Date(Date.now() + 60_000).toISOString();
    const delta = await bodyOf<Manifest>(
      await app.call(`${path}?since=${encodeURIComponent(later)}`),
      200,
    );
    expect([delta.tickets, delta.revoked, delta.admissions]).toEqual([[], [], []]);
  });
});
