import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';
import { LocalQueues } from '../../src/runtime/local/queue.js';
import { localTasks } from '../../src/runtime/local/tasks.js';
import { commandIs, failCalls, throttled } from '../support/faults.js';
import { sleep } from '../support/poll.js';
import {
  bodyOf,
  createEventsApp,
  createUsers,
  eventBody,
  expectProblem,
  registerAll,
  uniqueId,
} from './fixtures.js';

/**
 * The events module's background work (`events/finish-deletions`) as the local runtime runs it:
 * once at start-up and on its schedule, through the same task definition a task Lambda runs.
 */
describe('finishing event deletions a failure interrupted', () => {
  async function interruptedDeletion(env: Record<string, string> = {}) {
    let failing = true;
    const app = await createEventsApp({
      env,
      dynamo: (clients) => {
        failCalls(clients, {
          when: (call) => failing && commandIs('BatchWriteItem')(call),
          times: Number.POSITIVE_INFINITY,
          error: throttled(),
        });
        return clients;
      },
    });
    const eventId = uniqueId('doomed');
    await bodyOf(
      await app.call('/events', {
        method: 'POST',
        json: eventBody({ eventId, capacity: 5, hasWaitlist: true }),
      }),
      201,
    );
    const users = await createUsers(app, 8);
    await registerAll(app, eventId, users);

    // The deletion marks the event, then fails removing its registrations.
    await expectProblem(await app.call(`/events/${eventId}`, { method: 'DELETE' }), 503);
    return { app, eventId, heal: () => (failing = false) };
  }

  it('keeps the id taken and the event gone while its registrations remain', async () => {
    const { app, eventId } = await interruptedDeletion();

    await expectProblem(await app.call(`/events/${eventId}`), 404, 'EVENTS.EVENT_NOT_FOUND');
    const again = await app.call('/events', { method: 'POST', json: eventBody({ eventId }) });
    await expectProblem(again, 409, 'EVENTS.EVENT_BEING_DELETED');
  });

  it('finishes the deletion at start-up, after which the id can be used again', async () => {
    const { app, eventId, heal } = await interruptedDeletion();
    heal();

    const tasks = localTasks(app, createLogger('silent'), { queues: new LocalQueues() });
    await tasks.start();
    await tasks.stop();

    const created = await app.call('/events', { method: 'POST', json: eventBody({ eventId }) });
    const event = await bodyOf<{ registeredCount: number }>(created, 201);
    expect(event.registeredCount).toBe(0);
    expect(await bodyOf(await app.call(`/events/${eventId}/registrations`), 200)).toEqual([]);
  });

  it('finishes it on its schedule when start-up could not', async () => {
    const { app, eventId, heal } = await interruptedDeletion({
      EVENTS_DELETION_SWEEP: 'rate(1 second)',
    });

    const tasks = localTasks(app, createLogger('silent'), { queues: new LocalQueues() });
    await tasks.start(); // the start-up run meets the same failure, and is logged
    heal();
    let status = 0;
    for (let i = 0; i < 40 && status !== 201; i++) {
      await sleep(250);
      const res = await app.call('/events', { method: 'POST', json: eventBody({ eventId }) });
      status = res.status;
    }
    await tasks.stop();

    expect(status).toBe(201);
  });
});
