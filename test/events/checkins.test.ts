import { createPublicKey, randomBytes, verify as verifySignature } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { loggedEvents, type TestApp } from '../support/app.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUsers,
  expectProblem,
  previousRelease,
  registerAll,
  uniqueId,
} from './fixtures.js';

/*
 * Tickets and check-ins on DynamoDB Local with the real app: signed tickets, scans answered by
 * result and kept by nonce, one admission per registration under any concurrency, revocation,
 * key rotation, the manifest a door device syncs (and verifies tickets with, offline).
 */

interface Answer {
  result: string;
  registrationId?: string;
  userId?: string;
  userName?: string;
  admittedAt?: string;
  admittedBy?: string;
}

interface Manifest {
  admissions: { registrationId: string; inside: boolean; admittedBy?: string; changedAt: string }[];
  eventTag: string;
  keys: { version: number; publicKey: string }[];
  tickets: { registrationId: string; userId: string; userName?: string; ticketAt: string }[];
  revoked: { registrationId: string; revokedAt: string }[];
  cursor: string;
}

const nonce = () => randomBytes(12).toString('base64url');

async function ticketOf(app: TestApp, eventId: string, userId: string): Promise<string> {
  const res = await app.call(`/events/${eventId}/registrations/${userId}/ticket`);
  return (await bodyOf<{ ticket: string }>(res, 200)).ticket;
}

async function scan(app: TestApp, eventId: string, body: Record<string, unknown>) {
  const res = await app.call(`/events/${eventId}/checkins`, {
    method: 'POST',
    json: { nonce: nonce(), ...body },
  });
  return bodyOf<Answer>(res, 200);
}

async function partition(app: TestApp, eventId: string, prefix: string) {
  const out = await app.dynamo.doc.send(
    new QueryCommand({
      TableName: app.config.tables.events,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
      ExpressionAttributeValues: { ':pk': `EVENT#${eventId}`, ':p': prefix },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

/** An event with two confirmed users and one waitlisted. */
async function withAttendees(app: TestApp) {
  const event = await createEvent(app, { capacity: 2, hasWaitlist: true, date: '2030-01-01' });
  const [a, b, c] = await createUsers(app, 3);
  await registerAll(app, event.eventId, [a, b, c]);
  return { event, a, b, c };
}

describe('tickets', () => {
  it('gives a confirmed registration a signed ticket, as JSON, PNG or SVG', async () => {
    const app = await createEventsApp();
    const { event, a, c } = await withAttendees(app);
    const path = `/events/${event.eventId}/registrations/${a.userId}/ticket`;
    const json = await bodyOf<{ ticket: string; keyVersion: number }>(await app.call(path), 200);
    expect(json.ticket).toMatch(/^[A-Za-z0-9_-]{118}$/);
    expect(json.keyVersion).toBe(1);
    // Deterministic: the same registration, the same ticket.
    expect(await ticketOf(app, event.eventId, a.userId)).toBe(json.ticket);
    const png = await app.call(path, { headers: { accept: 'image/png' } });
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    const svg = await app.call(path, { headers: { accept: 'image/svg+xml' } });
    expect(await svg.text()).toMatch(/^<svg /);
    await expectProblem(
      await app.call(`/events/${event.eventId}/registrations/${c.userId}/ticket`),
      409,
      'EVENTS.NO_TICKET',
    );
  });
});

describe('check-in', () => {
  it('admits once; the same nonce answers the same, another scan says when and where', async () => {
    const app = await createEventsApp();
    const { event, a } = await withAttendees(app);
    const ticket = await ticketOf(app, event.eventId, a.userId);
    const first = { ticket, nonce: nonce(), device: 'door-1' };
    const admitted = await scan(app, event.eventId, first);
    expect(admitted).toMatchObject({
      result: 'admitted',
      userId: a.userId,
      userName: `Name ${a.userId}`,
    });
    expect(await scan(app, event.eventId, first)).toEqual(admitted);
    expect(await scan(app, event.eventId, { ticket, device: 'door-2' })).toMatchObject({
      result: 'already_admitted',
      admittedBy: 'door-1',
      admittedAt: admitted.admittedAt,
    });
    expect(await partition(app, event.eventId, 'CHECKLOG#')).toHaveLength(1);
    const announced = (await loggedEvents(app)).filter((e) => e.type === 'checkin.created');
    expect(announced.map((e) => e.data)).toEqual([
      expect.objectContaining({ type: 'entry', userId: a.userId, device: 'door-1' }),
    ]);
  });

  it('50 concurrent scans of one ticket: one admitted, 49 already admitted; a repeated nonce adds no row', async () => {
    const app = await createEventsApp();
    const { event, a } = await withAttendees(app);
    const ticket = await ticketOf(app, event.eventId, a.userId);
    const nonces = Array.from({ length: 50 }, nonce);
    const answers = await Promise.all(
      nonces.map((n) => scan(app, event.eventId, { ticket, nonce: n })),
    );
    const results = answers.map((answer) => answer.result).sort();
    expect(results.filter((r) => r === 'admitted')).toHaveLength(1);
    expect(results.filter((r) => r === 'already_admitted')).toHaveLength(49);
    const rows = async () => ({
      log: (await partition(app, event.eventId, 'CHECKLOG#')).length,
      answers: (await partition(app, event.eventId, 'NONCE#')).length,
    });
    expect(await rows()).toEqual({ log: 1, answers: 50 });
    // Every scan again, same nonces (an offline device uploading twice): same answers, no rows.
    const again = await Promise.all(
      nonces.map((n) => scan(app, event.eventId, { ticket, nonce: n })),
    );
    expect(again).toEqual(answers);
    expect(await rows()).toEqual({ log: 1, answers: 50 });
  });

  it('refuses forged, altered, other-event and revoked tickets', async () => {
    const app = await createEventsApp();
    const { event, a, b } = await withAttendees(app);
    const other = await withAttendees(app);
    const ticket = await ticketOf(app, event.eventId, a.userId);
    const flipped = `${ticket.slice(0, 50)}${ticket[50] === 'A' ? 'B' : 'A'}${ticket.slice(51)}`;
    const forged = randomBytes(88).toString('base64url');
    for (const bad of [flipped, forged, 'not-a-ticket']) {
      expect((await scan(app, event.eventId, { ticket: bad })).result).toBe('unknown');
    }
    const elsewhere = await ticketOf(app, other.event.eventId, other.a.userId);
    expect((await scan(app, event.eventId, { ticket: elsewhere })).result).toBe('wrong_event');
    // Unregistered: revoked (and its seat's next holder has a ticket of their own).
    const bTicket = await ticketOf(app, event.eventId, b.userId);
    await bodyOf(
      await app.call(`/events/${event.eventId}/registrations/${b.userId}`, { method: 'DELETE' }),
      200,
    );
    expect((await scan(app, event.eventId, { ticket: bTicket })).result).toBe('revoked');
    // Nothing was admitted by any of them.
    expect(await partition(app, event.eventId, 'CHECKLOG#')).toHaveLength(0);
    // A cancelled event revokes every ticket.
    await bodyOf(
      await app.call(`/events/${event.eventId}`, { method: 'PUT', json: { status: 'cancelled' } }),
      200,
    );
    expect((await scan(app, event.eventId, { ticket })).result).toBe('revoked');
  });

  it('verifies tickets signed before a key rotation until that key is retired', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}`;
    const v1 = await createEventsApp({ env: { TABLE_PREFIX: prefix } });
    const { event, a, b } = await withAttendees(v1);
    const old = await ticketOf(v1, event.eventId, a.userId);
    const rotated = await createEventsApp({
      env: { TABLE_PREFIX: prefix, EVENTS_TICKET_KEY_VERSION: '2' },
    });
    const fresh = await bodyOf<{ ticket: string; keyVersion: number }>(
      await rotated.call(`/events/${event.eventId}/registrations/${b.userId}/ticket`),
      200,
    );
    expect(fresh.keyVersion).toBe(2);
    expect((await scan(rotated, event.eventId, { ticket: old })).result).toBe('admitted');
    expect((await scan(rotated, event.eventId, { ticket: fresh.ticket })).result).toBe('admitted');
    const retired = await createEventsApp({
      env: {
        TABLE_PREFIX: prefix,
        EVENTS_TICKET_KEY_VERSION: '2',
        EVENTS_TICKET_KEYS_RETIRED_BELOW: '2',
      },
    });
    expect((await scan(retired, event.eventId, { ticket: old, type: 'exit' })).result).toBe(
      'unknown',
    );
    const manifest = await bodyOf<Manifest>(
      await retired.call(`/events/${event.eventId}/tickets/manifest`),
      200,
    );
    expect(manifest.keys.map((k) => k.version)).toEqual([2]);
  });

  it('lets people out and in again, reverts a mistaken admission, and counts', async () => {
    const app = await createEventsApp();
    const { event, a, b } = await withAttendees(app);
    expect((await scan(app, event.eventId, { userId: a.userId })).result).toBe('admitted');
    expect((await scan(app, event.eventId, { userId: a.userId, type: 'exit' })).result).toBe(
      'exited',
    );
    expect((await scan(app, event.eventId, { userId: a.userId, type: 'exit' })).result).toBe(
      'not_inside',
    );
    expect((await scan(app, event.eventId, { userId: a.userId })).result).toBe('admitted');
    const admittedB = await scan(app, event.eventId, { userId: b.userId });
    const revert = await app.call(`/events/${event.eventId}/checkins/${admittedB.registrationId}`, {
      method: 'DELETE',
    });
    expect(await bodyOf(revert, 200)).toMatchObject({ type: 'revert', userId: b.userId });
    await expectProblem(
      await app.call(`/events/${event.eventId}/checkins/${admittedB.registrationId}`, {
        method: 'DELETE',
      }),
      409,
      'EVENTS.NOT_CHECKED_IN',
    );
    const log = await bodyOf<{ type: string; userId: string }[]>(
      await app.call(`/events/${event.eventId}/checkins`),
      200,
    );
    expect(log.map((e) => `${e.userId === a.userId ? 'a' : 'b'}:${e.type}`)).toEqual([
      'a:entry',
      'a:exit',
      'a:entry',
      'b:entry',
      'b:revert',
    ]);
    const stats = await bodyOf<{
      confirmed: number;
      checkedIn: number;
      inside: number;
      arrivals: { count: number }[];
    }>(await app.call(`/events/${event.eventId}/checkins/stats`), 200);
    expect(stats).toMatchObject({ confirmed: 2, checkedIn: 1, inside: 1 });
    expect(stats.arrivals.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(3);
    expect((await loggedEvents(app)).filter((e) => e.type === 'checkin.reverted')).toHaveLength(1);
    // A user without a confirmed registration is unknown at the door.
    const [stranger] = await createUsers(app, 1, 'stranger');
    expect((await scan(app, event.eventId, { userId: stranger.userId })).result).toBe('unknown');
  });

  it('refuses a scan body that names neither or both, or a bad nonce, and changes nothing', async () => {
    const app = await createEventsApp();
    const { event, a } = await withAttendees(app);
    const ticket = await ticketOf(app, event.eventId, a.userId);
    for (const json of [
      { nonce: nonce() },
      { nonce: nonce(), ticket, userId: a.userId },
      { nonce: 'short', ticket },
      { nonce: nonce(), ticket, type: 'sideways' },
    ]) {
      await expectProblem(
        await app.call(`/events/${event.eventId}/checkins`, { method: 'POST', json }),
        422,
        'REQUEST.VALIDATION_FAILED',
      );
    }
    expect(await partition(app, event.eventId, 'NONCE#')).toHaveLength(0);
    await expectProblem(
      await app.call(`/events/${uniqueId('nope')}/checkins`, {
        method: 'POST',
        json: { nonce: nonce(), ticket },
      }),
      404,
      'EVENTS.EVENT_NOT_FOUND',
    );
  });
});

describe('the door manifest', () => {
  it('lists the tickets with names and the keys to verify them offline, then only what changed', async () => {
    const app = await createEventsApp();
    const { event, a, b, c } = await withAttendees(app);
    const path = `/events/${event.eventId}/tickets/manifest`;
    const full = await bodyOf<Manifest>(await app.call(path), 200);
    expect(full.tickets.map((t) => t.userId).sort()).toEqual([a.userId, b.userId].sort());
    expect(full.tickets[0]?.userName).toMatch(/^Name /);
    // A device verifies a scanned ticket with nothing but the manifest.
    const ticket = Buffer.from(await ticketOf(app, event.eventId, a.userId), 'base64url');
    const key = full.keys.find((k) => k.version === ticket[1]);
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: key?.publicKey as string },
      format: 'jwk',
    });
    expect(verifySignature(null, ticket.subarray(0, 24), publicKey, ticket.subarray(24))).toBe(
      true,
    );
    expect(ticket.subarray(2, 8).toString('base64url')).toBe(full.eventTag);
    // a leaves (revoked), c takes the seat (a new ticket): the delta says both.
    await bodyOf(
      await app.call(`/events/${event.eventId}/registrations/${a.userId}`, { method: 'DELETE' }),
      200,
    );
    const registrations = await bodyOf<{ userId: string; registrationId: string }[]>(
      await app.call(`/events/${event.eventId}/registrations`),
      200,
    );
    const delta = await bodyOf<Manifest>(
      await app.call(`${path}?since=${encodeURIComponent(full.cursor)}`),
      200,
    );
    expect(delta.tickets.map((t) => t.userId)).toContain(c.userId);
    expect(delta.revoked.map((r) => r.registrationId)).toEqual([
      full.tickets.find((t) => t.userId === a.userId)?.registrationId,
    ]);
    expect(registrations.map((r) => r.userId)).not.toContain(a.userId);
    const revocations = await bodyOf<{ revoked: { registrationId: string }[]; cursor: string }>(
      await app.call(
        `/events/${event.eventId}/tickets/revocations?since=${encodeURIComponent(full.cursor)}`,
      ),
      200,
    );
    expect(revocations.revoked).toEqual(delta.revoked);
    // Admissions made at another door come with the next delta (and a full download).
    const admitted = await scan(app, event.eventId, { userId: b.userId, device: 'Entrée Nord' });
    expect(admitted.result).toBe('admitted');
    const later = await bodyOf<Manifest>(
      await app.call(`${path}?since=${encodeURIComponent(delta.cursor)}`),
      200,
    );
    expect(later.admissions).toEqual([
      expect.objectContaining({
        registrationId: admitted.registrationId,
        inside: true,
        admittedBy: 'Entrée Nord',
      }),
    ]);
    expect((await bodyOf<Manifest>(await app.call(path), 200)).admissions).toHaveLength(1);
  });

  it('indexes the tickets of registrations the previous release wrote (a migration task)', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('old');
    const old = previousRelease(app, eventId);
    const [a] = await createUsers(app, 1);
    await old.event({ registeredCount: 1, waitlistCount: 0, capacity: 5, date: '2030-01-01' });
    await old.registration(a.userId, 1);
    const path = `/events/${eventId}/tickets/manifest`;
    expect((await bodyOf<Manifest>(await app.call(path), 200)).tickets).toEqual([]);
    const task = eventsModule.tasks?.find((t) => t.name === 'backfill-ticket-index');
    const services = app.servicesOf(eventsModule);
    expect(await task?.run(services, { trigger: 'startup' })).toBe(1);
    expect(await task?.run(services, { trigger: 'startup' })).toBe(0);
    expect((await bodyOf<Manifest>(await app.call(path), 200)).tickets).toEqual([
      expect.objectContaining({ userId: a.userId, ticketAt: '2026-01-10T09:00:00.000Z' }),
    ]);
    // And its ticket admits.
    const ticket = await ticketOf(app, eventId, a.userId);
    expect((await scan(app, eventId, { ticket })).result).toBe('admitted');
  });
});
