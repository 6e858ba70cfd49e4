import { randomUUID } from 'node:crypto';
import { eventsModule, eventsTable } from '../../../src/modules/events/events.module.js';
import { commandIs, failCalls } from '../faults.js';
import { Recent } from './recent.js';
import { byIndex, queryAll } from './tables.js';
import type {
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

export const exercise: Exercise = {
  access: {
    scenarios: () => [
      {
        title: 'the routes stay within the API’s grants (and the platform’s)',
        functions: ['api'],
        run: async ({ appFor, ok, within }) => {
          const { app, during } = await appFor([eventsModule]);
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
            await ok(app, '/health', { key: null });
          });
          within(calls, 'api', { platform: true });
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
