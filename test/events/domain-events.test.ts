import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { eventsKeys } from '../../src/modules/events/events.dynamo.js';
import type { DynamoClients } from '../../src/platform/dynamo/client.js';
import type { DomainEvent } from '../../src/platform/outbox/outbox.js';
import type { TestApp } from '../support/app.js';
import { failCalls, type SdkCall } from '../support/faults.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUser,
  createUsers,
  type Event,
  eventBody,
  eventRegistrations,
  expectProblem,
  getEvent,
  previousRelease,
  type Registration,
  register,
  registerAll,
  uniqueId,
} from './fixtures.js';

/*
 * Every change of the events module worth announcing commits its domain event in its own
 * transaction (platform/outbox): exactly one event per committed change, carrying the resource as
 * the API answers it and its version after the change; nothing for what was refused, replayed or
 * retried. Read back from the outbox's event log (each test app has its own tables).
 */

const OUTBOX = 'domain-events';

/** Every domain event the app has committed so far, oldest first. */
async function logged(app: TestApp): Promise<DomainEvent[]> {
  const events: DomainEvent[] = [];
  const from = new Date(Date.now() - 10 * 60_000);
  const to = new Date(Date.now() + 60_000);
  for await (const page of app.outbox.window(from, to)) events.push(...page);
  return events;
}

async function eventsOf(app: TestApp, aggregateId: string, type?: string) {
  return (await logged(app)).filter(
    (event) => event.aggregate.id === aggregateId && (type === undefined || event.type === type),
  );
}

const aggregate = (type: 'event' | 'registration', id: string, sequence: number) => ({
  type,
  id,
  sequence,
});

async function put(app: TestApp, eventId: string, json: Record<string, unknown>) {
  return bodyOf<Event>(await app.call(`/events/${eventId}`, { method: 'PUT', json }), 200);
}

async function unregister(app: TestApp, eventId: string, userId: string) {
  const res = await app.call(`/events/${eventId}/registrations/${userId}`, { method: 'DELETE' });
  return bodyOf<{ promoted: Registration[] }>(res, 200);
}

async function registrationOf(app: TestApp, eventId: string, userId: string) {
  const found = (await eventRegistrations(app, eventId)).find((r) => r.userId === userId);
  if (!found) throw new Error(`${userId} is not registered for ${eventId}`);
  return found;
}

/** The event's registration rows as stored (a consistent query of its partition). */
async function rows(app: TestApp, eventId: string) {
  const page = await app.dynamo.doc.send(
    new QueryCommand({
      TableName: app.config.tables.events,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :reg)',
      ExpressionAttributeValues: { ':pk': `EVENT#${eventId}`, ':reg': 'REG#' },
      ConsistentRead: true,
    }),
  );
  return (page.Items ?? []) as { registrationId: string; status: string }[];
}

/** Records how many items each TransactWriteItems carries. */
function transactionSizes(clients: DynamoClients): number[] {
  const sizes: number[] = [];
  clients.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand') {
        sizes.push((args.input as { TransactItems: unknown[] }).TransactItems.length);
      }
      return next(args);
    },
    { step: 'initialize', name: 'domainEventsTransactionSizes' },
  );
  return sizes;
}

describe('events announce their changes', () => {
  it('announces event.created with the event as POST /events answers it, as version 1', async () => {
    const app = await createEventsApp();

    const created = await createEvent(app, { eventId: uniqueId('created') });

    expect(await eventsOf(app, created.eventId)).toEqual([
      expect.objectContaining({
        type: 'event.created',
        aggregate: aggregate('event', created.eventId, 1),
        data: created,
      }),
    ]);
  });

  it('announces each update with the event as PUT answers it, one version further each time', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app);

    const retitled = await put(app, eventId, { title: 'Renamed' });
    const enlarged = await put(app, eventId, { capacity: 150 });

    expect(await getEvent(app, eventId)).toEqual(enlarged);
    expect(await eventsOf(app, eventId, 'event.updated')).toEqual([
      expect.objectContaining({ aggregate: aggregate('event', eventId, 2), data: retitled }),
      expect.objectContaining({ aggregate: aggregate('event', eventId, 3), data: enlarged }),
    ]);
  });

  it('announces event.cancelled, not event.updated, when the status becomes cancelled', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app);

    const cancelled = await put(app, eventId, { status: 'cancelled', title: 'Called off' });

    expect((await eventsOf(app, eventId)).map(({ type, aggregate }) => [type, aggregate])).toEqual([
      ['event.created', aggregate('event', eventId, 1)],
      ['event.cancelled', aggregate('event', eventId, 2)],
    ]);
    expect((await eventsOf(app, eventId, 'event.cancelled'))[0]?.data).toEqual(cancelled);
  });

  it('announces event.deleted with the event as it was, and nothing for its registrations', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [seated, waiting] = await createUsers(app, 2);
    await registerAll(app, eventId, [seated, waiting]);
    await put(app, eventId, { location: 'Elsewhere' });
    const before = await getEvent(app, eventId);
    const announcedBefore = (await logged(app)).length;

    expect((await app.call(`/events/${eventId}`, { method: 'DELETE' })).status).toBe(200);

    const after = (await logged(app)).slice(announcedBefore);
    expect(after).toEqual([
      expect.objectContaining({
        type: 'event.deleted',
        aggregate: aggregate('event', eventId, 3),
        data: before,
      }),
    ]);
    // A second DELETE finds nothing to delete, and announces nothing.
    await expectProblem(await app.call(`/events/${eventId}`, { method: 'DELETE' }), 404);
    expect(await logged(app)).toHaveLength(announcedBefore + 1);
  });
});

describe('registrations announce their changes', () => {
  it('announces registration.confirmed with the registration as the 201 answers it', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app);
    const user = await createUser(app);

    const registration = await register(app, eventId, user.userId);

    expect(await eventsOf(app, registration.registrationId)).toEqual([
      expect.objectContaining({
        type: 'registration.confirmed',
        aggregate: aggregate('registration', registration.registrationId, 1),
        data: registration,
      }),
    ]);
  });

  it('announces registration.waitlisted with the place the 201 told', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [seated, first, second] = await createUsers(app, 3);
    await register(app, eventId, seated.userId);

    const waitlisted = [
      await register(app, eventId, first.userId),
      await register(app, eventId, second.userId),
    ];

    expect(waitlisted.map((r) => r.waitlistPosition)).toEqual([1, 2]);
    for (const registration of waitlisted) {
      expect(await eventsOf(app, registration.registrationId)).toEqual([
        expect.objectContaining({
          type: 'registration.waitlisted',
          aggregate: aggregate('registration', registration.registrationId, 1),
          data: registration,
        }),
      ]);
    }
  });

  it('numbers one registration 1, 2, 3: waitlisted, promoted when a seat frees, cancelled', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [seated, waiting] = await createUsers(app, 2);
    const [seat, waitlisted] = await registerAll(app, eventId, [seated, waiting]);

    const { promoted } = await unregister(app, eventId, seated.userId);
    const asPromoted = await registrationOf(app, eventId, waiting.userId);
    await unregister(app, eventId, waiting.userId);

    const { registrationId } = waitlisted;
    expect(promoted).toEqual([asPromoted]);
    expect(await eventsOf(app, registrationId)).toEqual([
      expect.objectContaining({
        type: 'registration.waitlisted',
        aggregate: aggregate('registration', registrationId, 1),
        data: waitlisted,
      }),
      expect.objectContaining({
        type: 'registration.promoted',
        aggregate: aggregate('registration', registrationId, 2),
        data: asPromoted,
      }),
      expect.objectContaining({
        type: 'registration.cancelled',
        aggregate: aggregate('registration', registrationId, 3),
        data: asPromoted,
      }),
    ]);
    // The seat's holder: confirmed, then cancelled as it was.
    expect(await eventsOf(app, seat.registrationId)).toEqual([
      expect.objectContaining({ type: 'registration.confirmed', data: seat }),
      expect.objectContaining({
        type: 'registration.cancelled',
        aggregate: aggregate('registration', seat.registrationId, 2),
        data: seat,
      }),
    ]);
  });

  it('announces a waitlisted registration that leaves as it was, with its place', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [seated, first, second] = await createUsers(app, 3);
    await registerAll(app, eventId, [seated, first, second]);
    const leaving = await registrationOf(app, eventId, second.userId);

    await unregister(app, eventId, second.userId);

    expect(leaving.waitlistPosition).toBe(2);
    expect(await eventsOf(app, leaving.registrationId, 'registration.cancelled')).toEqual([
      expect.objectContaining({
        aggregate: aggregate('registration', leaving.registrationId, 2),
        data: leaving,
      }),
    ]);
  });

  it('a capacity raise promoting three writes three registration.promoted and one event.updated', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const users = await createUsers(app, 4);
    const [, ...waiting] = await registerAll(app, eventId, users);
    const announcedBefore = (await logged(app)).length;

    const raised = await put(app, eventId, { capacity: 4 });

    const after = (await logged(app)).slice(announcedBefore);
    expect(raised).toMatchObject({ registeredCount: 4, waitlistCount: 0 });
    expect(after.filter((event) => event.type === 'event.updated')).toEqual([
      expect.objectContaining({ aggregate: aggregate('event', eventId, 2), data: raised }),
    ]);
    const listed = await eventRegistrations(app, eventId);
    const promoted = after.filter((event) => event.type === 'registration.promoted');
    expect(promoted).toHaveLength(3);
    expect(after).toHaveLength(4);
    for (const { registrationId } of waiting) {
      expect(promoted.filter((event) => event.aggregate.id === registrationId)).toEqual([
        expect.objectContaining({
          aggregate: aggregate('registration', registrationId, 2),
          data: listed.find((r) => r.registrationId === registrationId),
        }),
      ]);
    }
  });

  it('announces the promotions that fill seats an interrupted promotion left free', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const [seated, waiting, newcomer] = await createUsers(app, 3);
    const [, waitlisted] = await registerAll(app, eventId, [seated, waiting]);
    // A capacity raise whose promotions never committed (a crash between them): a free seat
    // while someone waits, which the next registration fills first.
    await app.dynamo.doc.send(
      new UpdateCommand({
        TableName: app.config.tables.events,
        Key: eventsKeys.event(eventId),
        UpdateExpression: 'SET #capacity = :two',
        ExpressionAttributeNames: { '#capacity': 'capacity' },
        ExpressionAttributeValues: { ':two': 2 },
      }),
    );

    const latecomer = await register(app, eventId, newcomer.userId);

    expect(latecomer).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
    expect(await eventsOf(app, waitlisted.registrationId, 'registration.promoted')).toEqual([
      expect.objectContaining({
        aggregate: aggregate('registration', waitlisted.registrationId, 2),
        data: await registrationOf(app, eventId, waiting.userId),
      }),
    ]);
  });

  it('a raise promoting more than one transaction holds stays within 100 items per transaction', async () => {
    let sizes: number[] = [];
    const app = await createEventsApp({
      dynamo: (clients) => {
        sizes = transactionSizes(clients);
        return clients;
      },
    });
    const { eventId } = await createEvent(app, { capacity: 1, hasWaitlist: true });
    const seated = await createUser(app);
    await register(app, eventId, seated.userId);
    const waiting = await Promise.all(Array.from({ length: 60 }, () => createUser(app)));
    await Promise.all(waiting.map((user) => register(app, eventId, user.userId)));
    sizes.length = 0;

    const raised = await put(app, eventId, { capacity: 61 });

    expect(raised).toMatchObject({ registeredCount: 61, waitlistCount: 0 });
    // The change with 49 promotions, then the rest: two transactions at least, none over 100.
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    const all = await logged(app);
    const promoted = all.filter((event) => event.type === 'registration.promoted');
    expect(new Set(promoted.map((event) => event.aggregate.id)).size).toBe(60);
    expect(promoted).toHaveLength(60);
    expect(promoted.every((event) => event.aggregate.sequence === 2)).toBe(true);
    expect(all.filter((event) => event.type === 'event.updated')).toHaveLength(1);
  });
});

describe('nothing is announced that did not happen', () => {
  it('refused requests announce nothing', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { capacity: 1, hasWaitlist: false });
    const closed = await createEvent(app, { status: 'cancelled' });
    const [seated, other] = await createUsers(app, 2);
    await register(app, eventId, seated.userId);
    const announced = (await logged(app)).length;

    const refusals: [Response, number][] = [
      [await app.call('/events', { method: 'POST', json: eventBody({ eventId }) }), 409],
      [await app.call(`/events/${eventId}`, { method: 'PUT', json: { capacity: 0 } }), 422],
      [
        await app.call(`/events/${uniqueId('absent')}`, { method: 'PUT', json: { title: 'x' } }),
        404,
      ],
      [await app.call(`/events/${uniqueId('absent')}`, { method: 'DELETE' }), 404],
      [
        await app.call('/registrations', {
          method: 'POST',
          json: { userId: other.userId, eventId },
        }),
        409,
      ],
      [
        await app.call('/registrations', {
          method: 'POST',
          json: { userId: seated.userId, eventId },
        }),
        409,
      ],
      [
        await app.call('/registrations', {
          method: 'POST',
          json: { userId: uniqueId('nobody'), eventId },
        }),
        404,
      ],
      [
        await app.call('/registrations', {
          method: 'POST',
          json: { userId: other.userId, eventId: closed.eventId },
        }),
        409,
      ],
      [
        await app.call(`/events/${eventId}/registrations/${other.userId}`, { method: 'DELETE' }),
        404,
      ],
    ];
    for (const [res, status] of refusals) await expectProblem(res, status);

    // Capacity below the confirmed count: refused by the rules after reading.
    await put(app, eventId, { capacity: 2 });
    await register(app, eventId, other.userId);
    const before = (await logged(app)).length;
    await expectProblem(
      await app.call(`/events/${eventId}`, { method: 'PUT', json: { capacity: 1 } }),
      409,
    );

    expect((await logged(app)).length).toBe(before);
    expect(before).toBe(announced + 2);
  });

  it('an idempotent replay announces nothing new', async () => {
    const app = await createEventsApp();
    const headers = { 'idempotency-key': uniqueId('key') };
    const json = eventBody({ eventId: uniqueId('replayed') });
    const first = await bodyOf<Event>(
      await app.call('/events', { method: 'POST', json, headers }),
      201,
    );
    const again = await bodyOf<Event>(
      await app.call('/events', { method: 'POST', json, headers }),
      201,
    );
    const user = await createUser(app);
    const registration = { userId: user.userId, eventId: first.eventId };
    const registrationHeaders = { 'idempotency-key': uniqueId('key') };
    const seat = await bodyOf<Registration>(
      await app.call('/registrations', {
        method: 'POST',
        json: registration,
        headers: registrationHeaders,
      }),
      201,
    );
    const seatAgain = await bodyOf<Registration>(
      await app.call('/registrations', {
        method: 'POST',
        json: registration,
        headers: registrationHeaders,
      }),
      201,
    );

    expect(again).toEqual(first);
    expect(seatAgain).toEqual(seat);
    expect((await logged(app)).map((event) => event.type)).toEqual([
      'event.created',
      'registration.confirmed',
    ]);
  });

  it('20 registrations at once for 5 seats: 5 confirmed and 15 waitlisted announced, one per row', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { capacity: 5, hasWaitlist: true });
    const users = await Promise.all(Array.from({ length: 20 }, () => createUser(app)));

    const answers = await Promise.all(users.map((user) => register(app, eventId, user.userId)));

    const stored = await rows(app, eventId);
    const announced = (await logged(app)).filter(
      (event) => event.aggregate.type === 'registration',
    );
    expect(stored).toHaveLength(20);
    expect(announced).toHaveLength(stored.length);
    expect(announced.filter((event) => event.type === 'registration.confirmed')).toHaveLength(5);
    expect(announced.filter((event) => event.type === 'registration.waitlisted')).toHaveLength(15);
    expect(new Set(announced.map((event) => event.aggregate.id))).toEqual(
      new Set(stored.map((row) => row.registrationId)),
    );
    for (const answer of answers) {
      expect(announced.find((event) => event.aggregate.id === answer.registrationId)).toMatchObject(
        { aggregate: aggregate('registration', answer.registrationId, 1), data: answer },
      );
    }
  });

  it('updates racing each other and registrations never share a sequence, each announcing what it committed', async () => {
    const app = await createEventsApp();
    const { eventId } = await createEvent(app, { capacity: 5, hasWaitlist: true });
    const users = await Promise.all(Array.from({ length: 10 }, () => createUser(app)));
    const titles = Array.from({ length: 6 }, (_, i) => `Title ${i}`);

    const [updates] = await Promise.all([
      Promise.all(titles.map((title) => put(app, eventId, { title }))),
      Promise.all(users.map((user) => register(app, eventId, user.userId))),
    ]);

    const announced = await eventsOf(app, eventId, 'event.updated');
    expect(announced.map((event) => event.aggregate.sequence).sort((a, b) => a - b)).toEqual([
      2, 3, 4, 5, 6, 7,
    ]);
    for (const update of updates) {
      expect(
        announced.filter(
          (event) => event.data !== undefined && (event.data as Event).title === update.title,
        ),
      ).toEqual([expect.objectContaining({ data: update })]);
    }
  });

  it('a registration whose outbox write fails does not happen, and its retry announces it once', async () => {
    let failing = true;
    const app = await createEventsApp({
      dynamo: (clients) => {
        let seen: SdkCall | undefined;
        failCalls(clients, {
          when: (call) => {
            seen = call;
            return (
              failing &&
              call.command.startsWith('TransactWrite') &&
              JSON.stringify(call.input).includes(`-${OUTBOX}"`)
            );
          },
          times: Number.POSITIVE_INFINITY,
          // The outbox's table refuses its item: the whole transaction is cancelled.
          error: () => outboxThrottled(seen),
        });
        return clients;
      },
    });
    failing = false;
    const { eventId } = await createEvent(app, { capacity: 5 });
    const user = await createUser(app);
    const announced = (await logged(app)).length;
    failing = true;

    await expectProblem(
      await app.call('/registrations', { method: 'POST', json: { userId: user.userId, eventId } }),
      503,
      'EVENTS.BUSY',
    );

    expect(await getEvent(app, eventId)).toMatchObject({ registeredCount: 0, waitlistCount: 0 });
    expect(await rows(app, eventId)).toEqual([]);
    expect(await logged(app)).toHaveLength(announced);

    failing = false;
    const registration = await register(app, eventId, user.userId);
    expect(await eventsOf(app, registration.registrationId)).toEqual([
      expect.objectContaining({ type: 'registration.confirmed', data: registration }),
    ]);
  });
});

/** The cancellation DynamoDB answers when the outbox's item is over its table's throughput. */
function outboxThrottled(call: SdkCall | undefined) {
  const items = (call?.input as { TransactItems?: Record<string, { TableName?: string }>[] })
    ?.TransactItems;
  return new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: (items ?? []).map((item) =>
      Object.values(item).some((op) => op.TableName?.endsWith(`-${OUTBOX}`))
        ? {
            Code: 'ProvisionedThroughputExceeded',
            Message: 'Throughput exceeds the current capacity',
          }
        : { Code: 'None' },
    ),
  });
}

describe('data the previous release wrote', () => {
  it('an event and registrations stored without a version keep changing, their sequences increasing', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('legacy');
    const [seated, waiting] = await createUsers(app, 2, 'legacy');
    // As the previous release wrote them: no version on the event or its registrations.
    const previous = previousRelease(app, eventId);
    await previous.event({
      description: 'No version',
      registeredCount: 1,
      waitlistCount: 1,
      waitlistIssued: 1,
      waitlistFrontier: 0,
    });
    const seat = await previous.registration(seated.userId, 1);
    const waitlisted = await previous.registration(waiting.userId, 2, 1);

    await put(app, eventId, { title: 'Changed by this release' });
    await put(app, eventId, { capacity: 2 }); // promotes the one waiting
    await unregister(app, eventId, waiting.userId);
    await unregister(app, eventId, seated.userId);
    await put(app, eventId, { title: 'Once more' });

    const sequences = async (id: string) =>
      (await eventsOf(app, id)).map((event) => [event.type, event.aggregate.sequence]);
    // An item without a version counts as version 1: its creation, announced by no one.
    expect(await sequences(eventId)).toEqual([
      ['event.updated', 2],
      ['event.updated', 3],
      ['event.updated', 4],
    ]);
    expect(await sequences(waitlisted.registrationId)).toEqual([
      ['registration.promoted', 2],
      ['registration.cancelled', 3],
    ]);
    expect(await sequences(seat.registrationId)).toEqual([['registration.cancelled', 2]]);
    expect(await getEvent(app, eventId)).toMatchObject({ registeredCount: 0, waitlistCount: 0 });
  });
});
