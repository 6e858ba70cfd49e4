import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { eventsKeys } from '../../src/modules/events/events.dynamo.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import type {
  EventResponse as Event,
  RegistrationResponse as Registration,
  UserResponse as User,
  UserRegistrationResponse as UserRegistration,
} from '../../src/modules/events/events.schemas.js';
import { createTestApp, type TestApp, type TestAppOptions } from '../support/app.js';
import { bodyOf, nextLink, uniqueId } from '../support/fixture-app.js';

export {
  allPages,
  bodyOf,
  expectProblem,
  nextLink,
  uniqueId,
} from '../support/fixture-app.js';
export type { Event, Registration, User, UserRegistration };

/** The real app with the events module (and only its tables) on DynamoDB Local. */
export const createEventsApp = (options: Omit<TestAppOptions, 'modules'> = {}) =>
  createTestApp({ ...options, modules: [eventsModule] });

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const isoTimestamp = () => expect.stringMatching(ISO_UTC);

/** A valid create-event body (the tech conference of docs/seeds.md); override what a test is about. */
export function eventBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Tech Conference 2024',
    description: 'Annual technology conference',
    date: '2024-12-15',
    location: 'San Francisco, CA',
    capacity: 100,
    organizer: 'Tech Corp',
    status: 'active',
    ...overrides,
  };
}

export async function createEvent(
  app: TestApp,
  overrides: Record<string, unknown> = {},
): Promise<Event> {
  const res = await app.call('/events', { method: 'POST', json: eventBody(overrides) });
  return bodyOf<Event>(res, 201);
}

export async function createUser(app: TestApp, userId = uniqueId('user')): Promise<User> {
  const res = await app.call('/users', {
    method: 'POST',
    json: { userId, name: `Name ${userId}` },
  });
  return bodyOf<User>(res, 201);
}

/** A tuple of N, so that `const [a, b] = await createUsers(app, 2)` needs no undefined checks. */
export type Tuple<T, N extends number, R extends T[] = []> = R['length'] extends N
  ? R
  : Tuple<T, N, [...R, T]>;

export async function createUsers<N extends number>(
  app: TestApp,
  count: N,
  label = 'user',
): Promise<Tuple<User, N>> {
  const users: User[] = [];
  // One after another: the order they are created in is the order tests expect.
  for (let i = 0; i < count; i++) users.push(await createUser(app, uniqueId(`${label}${i + 1}`)));
  return users as Tuple<User, N>;
}

export async function register(app: TestApp, eventId: string, userId: string) {
  const res = await app.call('/registrations', { method: 'POST', json: { userId, eventId } });
  return bodyOf<Registration>(res, 201);
}

/** Registers the users one after another, in the order given (join order). */
export async function registerAll<const T extends readonly User[]>(
  app: TestApp,
  eventId: string,
  users: T,
): Promise<{ -readonly [K in keyof T]: Registration }> {
  const registrations: Registration[] = [];
  for (const user of users) registrations.push(await register(app, eventId, user.userId));
  return registrations as { -readonly [K in keyof T]: Registration };
}

export async function getEvent(app: TestApp, eventId: string): Promise<Event> {
  return bodyOf<Event>(await app.call(`/events/${eventId}`), 200);
}

export async function eventRegistrations(app: TestApp, eventId: string) {
  return bodyOf<Registration[]>(await app.call(`/events/${eventId}/registrations`), 200);
}

export async function userRegistrations(app: TestApp, userId: string) {
  return bodyOf<UserRegistration[]>(await app.call(`/users/${userId}/registrations`), 200);
}

/** `userId:status:position` per registration, the compact view most assertions compare. */
export const summary = (registrations: readonly Registration[]) =>
  registrations.map((r) =>
    [r.userId, r.status, r.waitlistPosition].filter((part) => part !== undefined).join(':'),
  );

/** The cursor of the first page's `rel="next"` link. */
export async function firstCursor(app: TestApp, path: string): Promise<string> {
  const res = await app.call(path);
  expect(res.status).toBe(200);
  const next = nextLink(res, path);
  const cursor = next ? new URL(next, 'http://roster.test').searchParams.get('cursor') : null;
  expect(cursor, `${path} gave no next cursor`).toBeTruthy();
  return cursor ?? '';
}

/**
 * Items as the previous release wrote them (no `version`), put straight into the events table, for
 * tests that this release keeps working on them.
 */
export function previousRelease(app: TestApp, eventId: string, at = '2026-01-10T09:00:00.000Z') {
  const store = (item: Record<string, unknown>) =>
    app.dynamo.doc.send(new PutCommand({ TableName: app.config.tables.events, Item: item }));
  return {
    /** The event item, with the counters and waitlist bookkeeping the test gives. */
    event: (fields: Record<string, unknown>) =>
      store({
        ...eventsKeys.event(eventId),
        type: 'event',
        eventId,
        title: 'Written by the previous release',
        date: '2026-02-01',
        location: 'Online',
        capacity: 1,
        organizer: 'Roster',
        status: 'active',
        hasWaitlist: true,
        createdAt: at,
        updatedAt: at,
        GSI1PK: 'STATUS#active',
        GSI1SK: `${at}#${eventId}`,
        GSI2PK: 'EVENTS',
        GSI2SK: `${at}#${eventId}`,
        ...fields,
      }),
    /** A registration row: confirmed, or waitlisted under `ticket`; `n` makes its id. */
    registration: async (userId: string, n: number, ticket?: number) => {
      const registrationId = `0190f000-0000-7000-8000-00000000000${n}`;
      const item = {
        ...eventsKeys.registration(eventId, userId),
        type: 'registration',
        registrationId,
        eventId,
        userId,
        status: ticket === undefined ? 'confirmed' : 'waitlisted',
        registeredAt: at,
        ...(ticket === undefined ? {} : { ticket }),
        LSI1SK:
          ticket === undefined
            ? eventsKeys.confirmedSort(registrationId)
            : eventsKeys.waitlistSort(ticket),
        GSI2PK: `USER#${userId}#REGS`,
        GSI2SK: `${at}#${eventId}`,
      };
      await store(item);
      return item;
    },
  };
}
