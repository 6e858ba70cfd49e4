import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { eventsKeys } from '../../../src/modules/events/events.dynamo.js';
import { eventsModule, eventsTable } from '../../../src/modules/events/events.module.js';
import type { DynamoClients } from '../../../src/platform/dynamo/client.js';
import type { Ports } from '../../../src/platform/module.js';
import { LocalQueues } from '../../../src/runtime/local/queue.js';
import { LocalTimers } from '../../../src/runtime/local/timers.js';
import type { TestApp } from '../app.js';
import { commandIs, failCalls, inputMentions } from '../faults.js';
import { Recent } from './recent.js';
import { byIndex, queryAll } from './tables.js';
import type {
  AccessHarness,
  AccessScenario,
  AfterRestart,
  Exercise,
  LedgerEntry,
  LoadOperation,
  LoadPlan,
  SoakRoute,
  SoakRun,
  StoredTables,
} from './types.js';

/** An event body (no status: the API makes it active). */
export const eventBody = (eventId: string, capacity: number, hasWaitlist: boolean) => ({
  eventId,
  title: `Crash ${eventId}`,
  description: 'An event created under load',
  date: '2030-06-01',
  location: 'Test Hall',
  capacity,
  organizer: 'hardening',
  hasWaitlist,
});

/** An event's item and registration rows, read consistently from the events table. */
export async function eventState(tables: StoredTables, eventId: string) {
  const items = await queryAll(tables.dynamo, {
    TableName: tables.name(eventsTable),
    KeyConditionExpression: 'PK = :pk',
    ExpressionAttributeValues: { ':pk': `EVENT#${eventId}` },
    ConsistentRead: true,
  });
  const event = items.find((item) => item.SK === 'EVENT') as
    | { capacity: number; registeredCount: number; waitlistCount: number; deleting?: unknown }
    | undefined;
  const rows = items.filter((item) => String(item.SK).startsWith('REG#')) as {
    userId: string;
    status: string;
  }[];
  return { event, rows };
}

/** Fisher–Yates, with the run's generator. */
function shuffled<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/**
 * Registrations of (user, event) pairs never tried before, so a retry of one left in flight must
 * succeed; unregistrations of pairs acknowledged as registered; creates of new ids; deletions of
 * the doomed events, each once.
 */
function operations(plan: LoadPlan): LoadOperation[] {
  const { random, runId } = plan;
  const pairs = shuffled(
    plan.users.flatMap((userId) =>
      plan.events.map((eventId) => [userId, eventId] as [string, string]),
    ),
    random,
  );
  const registered: [string, string][] = [];
  /** Pairs an unregistration was sent for: whether they are still registered is not known. */
  const leaving = new Set<string>();
  const doomed = [...plan.doomedEvents];
  const found = async (runtime: AfterRestart, path: string) =>
    (await runtime.get(path)).status === 200;

  return [
    {
      op: 'delete-event',
      weight: 30,
      ready: () => doomed.length > 0,
      build: () => {
        const eventId = doomed.shift() ?? `${runId}-none`;
        return { method: 'DELETE', path: `/events/${eventId}`, subject: { eventId } };
      },
      verify: async ({ subject }, { tables }) => {
        const { event, rows } = await eventState(tables, subject.eventId ?? '');
        return event || rows.length > 0 ? [`the deletion of ${subject.eventId}`] : [];
      },
    },
    {
      op: 'register',
      weight: 270,
      ready: () => pairs.length > 0,
      build: (_, idempotencyKey) => {
        const [userId, eventId] = pairs.pop() ?? ['', ''];
        return {
          method: 'POST',
          path: `/events/${eventId}/registrations`,
          body: { userId },
          idempotencyKey,
          subject: { userId, eventId },
        };
      },
      answered: (entry: LedgerEntry) => {
        if (entry.status === 201) {
          registered.push([entry.subject.userId ?? '', entry.subject.eventId ?? '']);
        }
      },
      create: { retried: 201 },
      verify: async ({ subject }, runtime) => {
        if (leaving.has(`${subject.userId} ${subject.eventId}`)) return [];
        const { body } = await runtime.get(`/users/${subject.userId}/registrations`);
        return JSON.stringify(body).includes(`"${subject.eventId}"`)
          ? []
          : [`the registration of ${subject.userId} to ${subject.eventId}`];
      },
    },
    {
      op: 'unregister',
      weight: 120,
      ready: () => registered.length > 0,
      build: () => {
        const index = Math.floor(random() * registered.length);
        const [userId, eventId] = registered.splice(index, 1)[0] ?? ['', ''];
        leaving.add(`${userId} ${eventId}`);
        return {
          method: 'DELETE',
          path: `/events/${eventId}/registrations/${userId}`,
          subject: { userId, eventId },
        };
      },
    },
    {
      op: 'create-event',
      weight: 80,
      build: (n, idempotencyKey) => {
        const eventId = `${runId}-ev-${n}`;
        return {
          method: 'POST',
          path: '/events',
          body: eventBody(eventId, 1 + Math.floor(random() * 5), random() < 0.5),
          idempotencyKey,
          subject: { eventId },
        };
      },
      create: { retried: 201 },
      verify: async ({ subject }, runtime) =>
        (await found(runtime, `/events/${subject.eventId}`)) ? [] : [`event ${subject.eventId}`],
    },
    {
      op: 'create-user',
      weight: 80,
      build: (n, idempotencyKey) => {
        const userId = `${runId}-u-${n}`;
        return {
          method: 'POST',
          path: '/users',
          body: { userId, name: `User ${n}` },
          idempotencyKey,
          subject: { userId },
        };
      },
      create: { retried: 201 },
      verify: async ({ subject }, runtime) =>
        (await found(runtime, `/users/${subject.userId}`)) ? [] : [`user ${subject.userId}`],
    },
  ];
}

function soakRoutes({ events, users, runId }: SoakRun): SoakRoute[] {
  const registered = new Recent<[string, string]>(5000);
  const any = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)] as T;
  let pair = 0;
  return [
    {
      kind: 'get-event',
      weight: 16,
      build: () => ({
        route: 'GET /events/{eventId}',
        method: 'GET',
        path: `/events/${any(events)}`,
      }),
    },
    {
      kind: 'list-events',
      weight: 4,
      build: () => ({ route: 'GET /events', method: 'GET', path: '/events?limit=50' }),
    },
    {
      kind: 'create-event',
      weight: 3,
      build: (i) => ({
        route: 'POST /events',
        method: 'POST',
        path: '/events',
        idempotent: true,
        body: {
          eventId: `${runId}-e${i}`,
          title: `Soak ${i}`,
          description: 'Made by the soak',
          date: '2031-01-01',
          location: 'Soak Hall',
          capacity: 100,
          organizer: 'soak',
          hasWaitlist: true,
        },
      }),
    },
    {
      kind: 'create-user',
      weight: 4,
      build: (i) => ({
        route: 'POST /users',
        method: 'POST',
        path: '/users',
        idempotent: true,
        body: { userId: `${runId}-u${i}`, name: `Soak user ${i}` },
      }),
    },
    {
      kind: 'register',
      weight: 10,
      build: () => {
        // Every (user, event) pair once, in an order that spreads over the events.
        const k = pair++;
        const userId = users[k % users.length] as string;
        const eventId = events[(k + Math.floor(k / users.length)) % events.length] as string;
        return {
          route: 'POST /events/{eventId}/registrations',
          method: 'POST',
          path: `/events/${eventId}/registrations`,
          idempotent: true,
          body: { userId },
          onSuccess: () => registered.add([userId, eventId]),
        };
      },
    },
    {
      kind: 'unregister',
      weight: 4,
      orElse: 'get-event',
      build: () => {
        const found = registered.take();
        if (!found) return undefined;
        const [userId, eventId] = found;
        return {
          route: 'DELETE /events/{eventId}/registrations/{userId}',
          method: 'DELETE',
          path: `/events/${eventId}/registrations/${userId}`,
        };
      },
    },
    {
      kind: 'event-registrations',
      weight: 5,
      build: () => ({
        route: 'GET /events/{eventId}/registrations',
        method: 'GET',
        path: `/events/${any(events)}/registrations?limit=50`,
      }),
    },
    {
      kind: 'user-registrations',
      weight: 3,
      build: () => ({
        route: 'GET /users/{userId}/registrations',
        method: 'GET',
        path: `/users/${any(users)}/registrations?limit=20`,
      }),
    },
    {
      kind: 'list-users',
      weight: 2,
      build: () => ({ route: 'GET /users', method: 'GET', path: '/users?limit=50' }),
    },
  ];
}

const event = (eventId: string, capacity: number, hasWaitlist: boolean) => ({
  eventId,
  title: 'Access',
  description: 'least privilege',
  date: '2030-01-01',
  location: 'here',
  capacity,
  organizer: 'ops',
  status: 'active',
  hasWaitlist,
});

/** The local timer port (its messages go to a queue nobody reads: the scenario lapses offers). */
const localTimers = (): Ports => ({ timers: new LocalTimers(new LocalQueues()) });

/** An offer-mode event whose offers are open for years. */
const offerEvent = (eventId: string, capacity: number) => ({
  ...event(eventId, capacity, true),
  date: '2030-06-01',
  promotion: 'offer',
  offerWindowSeconds: 60,
});

async function offerTokenOf(app: TestApp, eventId: string, userId: string): Promise<string> {
  const res = await app.call(`/events/${eventId}/registrations`);
  const found = ((await res.json()) as { userId: string; offerToken?: string }[]).find(
    (r) => r.userId === userId,
  );
  if (!found?.offerToken) throw new Error(`${userId} holds no offer for ${eventId}`);
  return found.offerToken;
}

/** The offer functions: each passes a seat on the way it does in production. */
function offerScenarios(): AccessScenario[] {
  /** An offer out for u2 of event `eventId`, on an app whose clock the scenario moves. */
  const withOffer = async (harness: AccessHarness, eventId: string, options = {}) => {
    let now = Date.now();
    const recorded = await harness.appFor([eventsModule], {
      clock: () => new Date(now),
      ...options,
    });
    const { app } = recorded;
    await harness.ok(app, '/events', { method: 'POST', json: offerEvent(eventId, 1) });
    for (const userId of ['u1', 'u2', 'u3']) {
      await harness.ok(app, '/users', { method: 'POST', json: { userId, name: userId } });
      await harness.ok(app, `/events/${eventId}/registrations`, {
        method: 'POST',
        json: { userId },
      });
    }
    await harness.ok(app, `/events/${eventId}/registrations/u1`, { method: 'DELETE' });
    return { ...recorded, later: () => (now += 61_000) };
  };
  return [
    {
      title: 'the offer timer’s consumer stays within its grants',
      functions: ['expire-offers'],
      run: async (harness) => {
        const { app, during, later } = await withOffer(harness, 'o2');
        const rows = (await (await app.call('/events/o2/registrations')).json()) as {
          userId: string;
          status: string;
        }[];
        harness.expect(rows.map((r) => r.status)).toEqual(['offered', 'waitlisted']);
        const offerId = await offerIdOf(app, 'o2', 'u2');
        later();
        const calls = await during(async () => {
          harness
            .expect(
              await harness.runTask(app, 'expire-offers', {
                id: 'm1',
                body: JSON.stringify({ eventId: 'o2', userId: 'u2', offerId }),
                receiveCount: 1,
              }),
            )
            .toBe('lapsed');
        });
        harness.within(calls, 'expire-offers');
      },
    },
    {
      title: 'the offer sweep stays within its grants',
      functions: ['sweep-offers'],
      run: async (harness) => {
        const { app, during, later } = await withOffer(harness, 'o3');
        later();
        const calls = await during(async () => {
          harness
            .expect(await harness.runTask(app, 'sweep-offers', { trigger: 'schedule' }))
            .toEqual({ lapsed: 1, rearmed: 0 });
        });
        harness.within(calls, 'sweep-offers');
      },
    },
    {
      title: 'the seat sweep stays within its grants',
      functions: ['fill-free-seats'],
      run: async (harness) => {
        let failing = true;
        // The offer after the unregister fails: the freed seat is left for the sweep.
        const { app, during } = await withOffer(harness, 'o4', {
          faults: (clients: DynamoClients) =>
            failCalls(clients, {
              when: (call) => failing && inputMentions('"offered"')(call),
              times: Number.POSITIVE_INFINITY,
              error: () => Object.assign(new Error('down'), { name: 'InternalServerError' }),
            }),
        });
        failing = false;
        const calls = await during(async () => {
          harness
            .expect(await harness.runTask(app, 'fill-free-seats', { trigger: 'schedule' }))
            .toBe(1);
        });
        harness.within(calls, 'fill-free-seats');
      },
    },
  ];
}

/** The offer id behind a registration's current offer (as the timer's message names it). */
async function offerIdOf(app: TestApp, eventId: string, userId: string): Promise<string> {
  const registration = await app
    .servicesOf(eventsModule)
    .offers.view(await offerTokenOf(app, eventId, userId));
  return registration.registration.offerId as string;
}

export const exercise: Exercise = {
  access: {
    scenarios: () => [
      {
        title: 'the routes stay within the API’s grants (and the platform’s)',
        functions: ['api'],
        run: async ({ appFor, ok, within }) => {
          const { app, during } = await appFor([eventsModule], { ports: localTimers() });
          const calls = await during(async () => {
            await ok(app, '/events', {
              method: 'POST',
              json: event('e1', 1, true),
              headers: { 'idempotency-key': randomUUID() },
            });
            await ok(app, '/events');
            await ok(app, '/events?status=active');
            await ok(app, '/events/e1');
            for (const userId of ['u1', 'u2']) {
              await ok(app, '/users', { method: 'POST', json: { userId, name: userId } });
              await ok(app, '/events/e1/registrations', { method: 'POST', json: { userId } });
            }
            await ok(app, '/users');
            await ok(app, '/users/u1');
            await ok(app, '/users/u1/registrations');
            await ok(app, '/events/e1/registrations');
            await ok(app, '/events/e1', { method: 'PUT', json: { capacity: 2 } });
            await ok(app, '/events/e1/registrations/u1', { method: 'DELETE' });
            await ok(app, '/events/e1', { method: 'DELETE' });
            // Offers: made by an unregister, seen, accepted and declined through their links.
            await ok(app, '/events', { method: 'POST', json: offerEvent('o1', 1) });
            await ok(app, '/users', { method: 'POST', json: { userId: 'u3', name: 'u3' } });
            for (const userId of ['u1', 'u2', 'u3']) {
              await ok(app, '/events/o1/registrations', { method: 'POST', json: { userId } });
            }
            await ok(app, '/events/o1/registrations/u1', { method: 'DELETE' });
            await ok(app, `/offers/${await offerTokenOf(app, 'o1', 'u2')}`, { key: null });
            await ok(app, `/offers/${await offerTokenOf(app, 'o1', 'u2')}/decline`, {
              method: 'POST',
              key: null,
            });
            await ok(app, '/events/o1/registrations/u3/offer/accept', { method: 'POST' });
            // The dashboard's numbers of an event.
            await ok(app, '/events/o1/stats');
            await ok(app, '/events/o1/stats?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z');
            // Tickets and check-in: a ticket, a scan and its replay, the log, a revert, the door's manifest.
            const { ticket } = (await ok(app, '/events/o1/registrations/u3/ticket')) as {
              ticket: string;
            };
            const scan = { ticket, nonce: 'access-scan-1', device: 'door' };
            const admitted = (await ok(app, '/events/o1/checkins', {
              method: 'POST',
              json: scan,
            })) as { registrationId: string };
            await ok(app, '/events/o1/checkins', { method: 'POST', json: scan });
            await ok(app, '/events/o1/checkins');
            await ok(app, '/events/o1/checkins/stats');
            await ok(app, `/events/o1/checkins/${admitted.registrationId}`, { method: 'DELETE' });
            await ok(app, '/events/o1/tickets/manifest');
            await ok(app, '/events/o1/tickets/revocations?since=2020-01-01T00:00:00Z');
            await ok(app, '/health', { key: null });
          });
          within(calls, 'api', { platform: true });
        },
      },
      ...offerScenarios(),
      {
        title: 'the ticket index backfill stays within its grants',
        functions: ['backfill-ticket-index'],
        run: async ({ appFor, ok, runTask, within, expect }) => {
          const { app, during } = await appFor([eventsModule]);
          await ok(app, '/events', { method: 'POST', json: event('t1', 2, false) });
          await ok(app, '/users', { method: 'POST', json: { userId: 'u9', name: 'u9' } });
          await ok(app, '/events/t1/registrations', { method: 'POST', json: { userId: 'u9' } });
          // As the previous release left it: confirmed, not in the ticket index.
          await app.dynamo.doc.send(
            new UpdateCommand({
              TableName: app.config.tables.events,
              Key: eventsKeys.registration('t1', 'u9'),
              UpdateExpression: 'REMOVE GSI3PK, GSI3SK',
            }),
          );
          const calls = await during(async () => {
            expect(await runTask(app, 'backfill-ticket-index', { trigger: 'schedule' })).toBe(1);
          });
          within(calls, 'backfill-ticket-index');
        },
      },
      {
        title: 'the deletion sweep stays within its grants',
        functions: ['finish-deletions'],
        run: async ({ appFor, ok, runTask, within, expect }) => {
          let failing = false;
          const { app, during } = await appFor([eventsModule], {
            faults: (clients) =>
              failCalls(clients, {
                when: (call) => failing && commandIs('BatchWrite')(call),
                times: 1,
                error: () => Object.assign(new Error('down'), { name: 'InternalServerError' }),
              }),
          });
          await ok(app, '/events', {
            method: 'POST',
            json: {
              eventId: 'e2',
              title: 't',
              description: 'd',
              date: '2030-01-01',
              location: 'l',
              capacity: 5,
              organizer: 'o',
              status: 'active',
              hasWaitlist: false,
            },
          });
          await ok(app, '/users', { method: 'POST', json: { userId: 'u3', name: 'u3' } });
          await ok(app, '/events/e2/registrations', { method: 'POST', json: { userId: 'u3' } });
          failing = true; // the DELETE marks the event, then fails: the sweep finishes it
          expect(
            (await app.call('/events/e2', { method: 'DELETE' })).status,
          ).toBeGreaterThanOrEqual(500);
          failing = false;

          const calls = await during(async () => {
            expect(await runTask(app, 'finish-deletions')).toBe(1);
          });
          within(calls, 'finish-deletions');
        },
      },
      {
        title: 'the sweep of unused waitlist tickets stays within its grants',
        functions: ['release-unused-tickets'],
        run: async ({ appFor, ok, runTask, within, expect }) => {
          let failing = false;
          const { app, during } = await appFor([eventsModule], {
            faults: (clients) =>
              failCalls(clients, {
                when: (call) => failing && commandIs('TransactWrite')(call),
                times: 1,
                error: () => Object.assign(new Error('down'), { name: 'InternalServerError' }),
              }),
          });
          await ok(app, '/events', { method: 'POST', json: event('e3', 1, true) });
          for (const userId of ['u4', 'u5', 'u6']) {
            await ok(app, '/users', { method: 'POST', json: { userId, name: userId } });
          }
          // A seat, then the waitlist: the next join takes a ticket before its commit.
          await ok(app, '/events/e3/registrations', { method: 'POST', json: { userId: 'u4' } });
          await ok(app, '/events/e3/registrations', { method: 'POST', json: { userId: 'u5' } });
          failing = true; // the commit fails in a way that may have landed: the ticket stays
          const join = await app.call('/events/e3/registrations', {
            method: 'POST',
            json: { userId: 'u6' },
          });
          expect(join.status).toBeGreaterThanOrEqual(500);
          failing = false;

          const calls = await during(async () => {
            expect(await runTask(app, 'release-unused-tickets', { trigger: 'startup' })).toBe(1);
          });
          within(calls, 'release-unused-tickets');
        },
      },
    ],
  },
  load: {
    operations,
    leftovers: async (tables) => ({
      eventsBeingDeleted: (
        await byIndex(tables.dynamo, tables.name(eventsTable), 'gsi1', 'GSI1PK', 'DELETING')
      ).length,
    }),
  },
  soak: { routes: soakRoutes },
  bench: {
    run: async (stack, tools) =>
      (await import('../../../bench/support/events.js')).eventsSection(stack, tools),
  },
};
