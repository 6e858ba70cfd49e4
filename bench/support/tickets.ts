import { gzipSync } from 'node:zlib';
import { v7 as uuidv7 } from 'uuid';
import { eventsKeys } from '../../src/modules/events/events.dynamo.js';
import { median } from './measure.js';
import { seedEventRows } from './seed-rows.js';
import { BENCH_API_KEY, type BenchStack, startStack } from './stack.js';

/*
 * `npm run bench -- --only=tickets`: the door manifest of an event with 10,000 confirmed
 * registrations, over HTTP from the real app on DynamoDB Local — its size raw and gzipped (the
 * issue's limit: 2 MB gzipped) and how long it takes; then deltas (`?since=` the last cursor)
 * after a few changes and after none, which a door device asks for every few seconds (the limit:
 * 1 s).
 */

const ATTENDEES = 10_000;
const DELTA_ROUNDS = 7;
const CHANGES_PER_ROUND = 20;

export interface TicketsFigures {
  readonly attendees: number;
  readonly manifestBytes: number;
  readonly manifestGzipBytes: number;
  readonly manifestMs: number;
  readonly deltaMs: { readonly changed: number; readonly unchanged: number; readonly max: number };
  readonly deltaBytes: number;
}

interface Manifest {
  tickets: unknown[];
  revoked: unknown[];
  cursor: string;
}

export async function ticketsBench(log: (line: string) => void): Promise<TicketsFigures> {
  const stack = await startStack();
  try {
    const started = performance.now();
    const { eventId, userIds } = await seed(stack);
    log(
      `  seeded ${ATTENDEES} confirmed registrations in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${stack.appUrl}${path}`, {
        ...init,
        headers: {
          'x-api-key': BENCH_API_KEY,
          'content-type': 'application/json',
          ...init.headers,
        },
      });
    const manifestPath = `/events/${eventId}/tickets/manifest`;
    // Warm: code compiled, connections open.
    await (await call(manifestPath)).arrayBuffer();
    const fullTimes: number[] = [];
    let body = '';
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      body = await (await call(manifestPath)).text();
      fullTimes.push(performance.now() - t);
    }
    const full = JSON.parse(body) as Manifest;
    if (full.tickets.length !== ATTENDEES) {
      throw new Error(`the manifest lists ${full.tickets.length} tickets, not ${ATTENDEES}`);
    }
    let cursor = full.cursor;
    const changed: number[] = [];
    const unchanged: number[] = [];
    let deltaBytes = 0;
    let next = 0;
    for (let round = 0; round < DELTA_ROUNDS; round++) {
      // A few leave (revocations) and as many new people take their seats (new tickets).
      for (let i = 0; i < CHANGES_PER_ROUND; i++) {
        const leaving = userIds[next++] as string;
        await (
          await call(`/events/${eventId}/registrations/${leaving}`, { method: 'DELETE' })
        ).arrayBuffer();
        const newcomer = `${eventId}-late-${round}-${i}`;
        await (
          await call('/users', {
            method: 'POST',
            body: JSON.stringify({ userId: newcomer, name: newcomer }),
          })
        ).arrayBuffer();
        await (
          await call(`/events/${eventId}/registrations`, {
            method: 'POST',
            body: JSON.stringify({ userId: newcomer }),
          })
        ).arrayBuffer();
      }
      // The index is eventually consistent: a device asks a few seconds later.
      await new Promise((done) => setTimeout(done, 200));
      let t = performance.now();
      const text = await (await call(`${manifestPath}?since=${encodeURIComponent(cursor)}`)).text();
      changed.push(performance.now() - t);
      deltaBytes = Math.max(deltaBytes, Buffer.byteLength(text));
      const delta = JSON.parse(text) as Manifest;
      if (delta.revoked.length < CHANGES_PER_ROUND || delta.tickets.length < CHANGES_PER_ROUND) {
        throw new Error(
          `a delta missed changes: ${delta.revoked.length} revoked, ${delta.tickets.length} tickets`,
        );
      }
      cursor = delta.cursor;
      t = performance.now();
      await (
        await call(`${manifestPath}?since=${encodeURIComponent(new Date().toISOString())}`)
      ).text();
      unchanged.push(performance.now() - t);
    }
    return {
      attendees: ATTENDEES,
      manifestBytes: Buffer.byteLength(body),
      manifestGzipBytes: gzipSync(body).length,
      manifestMs: median(fullTimes),
      deltaMs: {
        changed: median(changed),
        unchanged: median(unchanged),
        max: Math.max(...changed, ...unchanged),
      },
      deltaBytes,
    };
  } finally {
    await stack.stop();
  }
}

/** One event with ATTENDEES confirmed registrations and their users, as the app writes them. */
async function seed(stack: BenchStack): Promise<{ eventId: string; userIds: string[] }> {
  const eventId = `tickets-${uuidv7()}`;
  const userIds = Array.from({ length: ATTENDEES }, (_, i) => `${eventId}-u${i}`);
  await seedEventRows(stack, {
    eventId,
    title: 'Benchmark door manifest',
    description: 'Written by npm run bench -- --only=tickets',
    capacity: ATTENDEES,
    rows: ATTENDEES,
    itemsOf: (i) => {
      const userId = userIds[i] as string;
      const now = new Date().toISOString();
      const registrationId = uuidv7();
      return [
        {
          ...eventsKeys.user(userId),
          type: 'user',
          userId,
          name: `Attendee ${i} Longname-Example`,
          createdAt: now,
          GSI2PK: 'USERS',
          GSI2SK: `${now}#${userId}`,
        },
        {
          ...eventsKeys.registration(eventId, userId),
          type: 'registration',
          registrationId,
          eventId,
          userId,
          status: 'confirmed',
          registeredAt: now,
          version: 1,
          LSI1SK: eventsKeys.confirmedSort(registrationId),
          GSI2PK: `USER#${userId}#REGS`,
          GSI2SK: `${now}#${eventId}`,
          ...eventsKeys.ticketKeys(eventId, registrationId, now),
        },
      ];
    },
    counters: { registeredCount: ATTENDEES },
  });
  return { eventId, userIds };
}
