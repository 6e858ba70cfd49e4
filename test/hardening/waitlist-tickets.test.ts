import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { eventsKeys } from '../../src/modules/events/events.dynamo.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import {
  countsUnusedTickets,
  unusedTickets,
} from '../../src/modules/events/events.waitlist.rules.js';
import { createLogger } from '../../src/platform/logger.js';
import { LocalQueues } from '../../src/runtime/local/queue.js';
import { localTasks } from '../../src/runtime/local/tasks.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUsers,
  eventRegistrations,
  expectProblem,
  type Registration,
  registerAll,
  uniqueId,
} from '../events/fixtures.js';
import type { TestApp } from '../support/app.js';
import { commandIs, failCalls, transactionConflict } from '../support/faults.js';

/**
 * A waitlist join is two writes: it takes a ticket (the event's counter), then commits the
 * registration with it. Positions count every ticket issued and not yet left, so a join that
 * takes a ticket and never commits must give it back, or everyone behind it is told a place too
 * far back — found by the crash test (test/hardening/crash.test.ts), whose SIGKILL fell between
 * the two writes of a join.
 */

async function fullEvent(app: TestApp) {
  const { eventId } = await createEvent(app, {
    eventId: uniqueId('tickets'),
    capacity: 1,
    hasWaitlist: true,
  });
  const [seated, ...waiting] = await createUsers(app, 4);
  await registerAll(app, eventId, [seated]);
  return { eventId, waiting };
}

const positions = async (app: TestApp, eventId: string) =>
  (await eventRegistrations(app, eventId))
    .filter((r) => r.status === 'waitlisted')
    .map((r) => r.waitlistPosition);

/** `user` joins the waitlist behind one person: told place 2, and the list agrees. */
async function joinsSecond(app: TestApp, eventId: string, userId: string | undefined) {
  const res = await app.call(`/events/${eventId}/registrations`, {
    method: 'POST',
    json: { userId },
  });
  expect(await bodyOf<Registration>(res, 201)).toMatchObject({
    status: 'waitlisted',
    waitlistPosition: 2,
  });
  expect(await positions(app, eventId)).toEqual([1, 2]);
}

describe('waitlist tickets that a join took and never used', () => {
  it('tells the next waitlisted user place 2, not 3, after a join failed with 503 BUSY', async () => {
    let failing = false;
    const app = await createEventsApp({
      dynamo: (clients) => {
        failCalls(clients, {
          when: (call) => failing && commandIs('TransactWrite')(call),
          times: Number.POSITIVE_INFINITY,
          error: transactionConflict(),
        });
        return clients;
      },
    });
    const { eventId, waiting } = await fullEvent(app);
    const [ahead, unlucky, next] = waiting;
    // Waitlisted: this process now knows the event is full, and the next join takes a ticket.
    await registerAll(app, eventId, [ahead]);
    failing = true;
    const busy = await app.call(`/events/${eventId}/registrations`, {
      method: 'POST',
      json: { userId: unlucky?.userId },
    });
    await expectProblem(busy, 503, 'EVENTS.BUSY');
    failing = false;

    await joinsSecond(app, eventId, next?.userId);
  });

  it('tells the next waitlisted user place 2, not 3, after a process died between the two writes', async () => {
    const app = await createEventsApp();
    const { eventId, waiting } = await fullEvent(app);
    const [ahead, , next] = waiting;
    await registerAll(app, eventId, [ahead]);
    await takeTicketAndDie(app, eventId, new Date());
    // The runtime starts again: its start-up tasks run.
    const tasks = localTasks(app, createLogger('silent'), { queues: new LocalQueues() });
    await tasks.start();
    await tasks.stop();

    await joinsSecond(app, eventId, next?.userId);
  });

  it('leaves a ticket issued in the last five minutes alone when run other than at start-up', async () => {
    let now = new Date('2030-01-01T10:00:00.000Z');
    const app = await createEventsApp({ clock: () => now });
    const { eventId, waiting } = await fullEvent(app);
    const [ahead, , next] = waiting;
    await registerAll(app, eventId, [ahead]);
    await takeTicketAndDie(app, eventId, now);
    const release = eventsModule.tasks?.find((task) => task.name === 'release-unused-tickets');
    const services = app.servicesOf(eventsModule);

    now = new Date('2030-01-01T10:04:00.000Z');
    expect(await release?.run(services, { trigger: 'manual' })).toBe(0);
    now = new Date('2030-01-01T10:06:00.000Z');
    expect(await release?.run(services, { trigger: 'manual' })).toBe(1);

    await registerAll(app, eventId, [next]);
    expect(await positions(app, eventId)).toEqual([1, 2]);
  });

  it('finds the unused tickets between the frontier and the last issued', () => {
    const waitlist = { issued: 9, frontier: 3, holes: [2, 5] };

    expect(unusedTickets(waitlist, [4, 7, 9])).toEqual([6, 8]);
    expect(countsUnusedTickets({ waitlist, waitlistCount: 3 })).toBe(true);
    expect(unusedTickets(waitlist, [4, 6, 7, 8, 9])).toEqual([]);
    expect(countsUnusedTickets({ waitlist, waitlistCount: 5 })).toBe(false);
  });
});

/** What the first write of a join leaves when the process dies right after it. */
async function takeTicketAndDie(app: TestApp, eventId: string, at: Date): Promise<void> {
  await app.dynamo.doc.send(
    new UpdateCommand({
      TableName: app.config.tables.events,
      Key: eventsKeys.event(eventId),
      UpdateExpression: 'ADD waitlistIssued :one SET waitlistTicketAt = :at',
      ExpressionAttributeValues: { ':one': 1, ':at': at.toISOString() },
    }),
  );
}
