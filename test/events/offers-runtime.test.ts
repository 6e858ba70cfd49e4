import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';
import { LocalQueues } from '../../src/runtime/local/queue.js';
import { localTasks } from '../../src/runtime/local/tasks.js';
import { LocalTimers } from '../../src/runtime/local/timers.js';
import type { TestApp } from '../support/app.js';
import { until } from '../support/poll.js';
import { manualClock } from '../webhooks/fixtures.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUsers,
  eventRegistrations,
  type Registration,
  registerAll,
  summary,
} from './fixtures.js';

/*
 * Offers lapsing on their own, as the local runtime runs them: the real timers (setTimeout onto
 * the in-process queue), the `expire-offers` consumer and the start-up tasks, on DynamoDB Local.
 * Nothing but the clock is the test's: the app reads an injected one, and the timers one of their
 * own — the same, or running ahead of it, so that a 60-second window needs no 60-second wait. The
 * sweep's schedule is off: what lapses an offer here is a timer, or the start-up sweep.
 */

const WINDOW_SECONDS = 60;
const silent = createLogger('silent');

interface Runtime {
  readonly app: TestApp;
  readonly timers: LocalTimers;
  /** Stops consuming and drops every pending timer, as a process that dies does. */
  stop(): Promise<void>;
}

const running: Runtime[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((runtime) => runtime.stop()));
});

/**
 * One local runtime on the tables `prefix` names: its queues, its timers (on `timersNow`), its
 * tasks — the start-up ones run before this returns.
 */
async function startRuntime(
  prefix: string,
  clock: () => Date,
  timersNow: () => number,
): Promise<Runtime> {
  const queues = new LocalQueues();
  const timers = new LocalTimers(queues, silent, timersNow);
  const app = await createEventsApp({
    clock,
    env: { TABLE_PREFIX: prefix, EVENTS_OFFER_SWEEP: 'off' },
    ports: { queues, timers },
  });
  const tasks = localTasks(app, silent, { queues, consumer: { waitMs: 50 } });
  await tasks.start();
  const runtime: Runtime = {
    app,
    timers,
    stop: async () => {
      await tasks.stop();
      timers.stop();
    },
  };
  running.push(runtime);
  return runtime;
}

/** An offer-mode event of one seat: A takes it, B and C wait, A leaves — B holds an offer. */
async function offerToB(app: TestApp) {
  const event = await createEvent(app, {
    capacity: 1,
    hasWaitlist: true,
    date: '2030-06-01',
    promotion: 'offer',
    offerWindowSeconds: WINDOW_SECONDS,
  });
  const [a, b, c] = await createUsers(app, 3);
  await registerAll(app, event.eventId, [a, b, c]);
  await bodyOf(
    await app.call(`/events/${event.eventId}/registrations/${a.userId}`, { method: 'DELETE' }),
    200,
  );
  const registrations = await eventRegistrations(app, event.eventId);
  expect(summary(registrations)).toEqual([`${b.userId}:offered`, `${c.userId}:waitlisted:1`]);
  const offered = registrations[0] as Registration;
  return { eventId: event.eventId, b, c, deadline: Date.parse(offered.offerExpiresAt as string) };
}

const newPrefix = () => `t${randomBytes(6).toString('hex')}`;

describe('offers lapsing in the local runtime', () => {
  it('a timer lapses an offer at its deadline and the seat goes to the next person', async () => {
    const time = manualClock(Math.floor(Date.now() / 1000) * 1000);
    // The timers' clock stands 59.9 s ahead of the app's while the offer is made: the real
    // setTimeout is 0.1 s, and each time it fires it finds the deadline not reached on its own
    // clock and waits again — until the test brings both clocks to the deadline.
    let timersAhead = 0;
    const { app } = await startRuntime(newPrefix(), time.clock, () => time.now() + timersAhead);
    timersAhead = (WINDOW_SECONDS - 0.1) * 1000;
    const { eventId, b, c, deadline } = await offerToB(app);
    expect(deadline).toBe(time.now() + WINDOW_SECONDS * 1000);

    time.set(deadline);
    timersAhead = 0;

    const after = await until(
      () => eventRegistrations(app, eventId),
      (registrations) => registrations.some((r) => r.userId === c.userId && r.status === 'offered'),
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(summary(after)).toEqual([`${c.userId}:offered`, `${b.userId}:expired`]);
    // Offered at the deadline, by the app's clock, for a full window.
    expect(after[0]?.offerExpiresAt).toBe(new Date(deadline + WINDOW_SECONDS * 1000).toISOString());
  });

  it('sets the timer of an offer still out again when the runtime starts again', async () => {
    const prefix = newPrefix();
    const time = manualClock(Math.floor(Date.now() / 1000) * 1000);
    const first = await startRuntime(prefix, time.clock, time.now);
    const { eventId, b, c, deadline } = await offerToB(first.app);
    await first.stop();
    expect(first.timers.size).toBe(0);

    // Down for all but the last 0.2 s of the window: not due when the start-up sweep runs.
    time.set(deadline - 200);
    const second = await startRuntime(prefix, time.clock, time.now);
    expect(summary(await eventRegistrations(second.app, eventId))).toEqual([
      `${b.userId}:offered`,
      `${c.userId}:waitlisted:1`,
    ]);
    expect(second.timers.size).toBe(1);

    time.set(deadline);
    const after = await until(
      () => eventRegistrations(second.app, eventId),
      (registrations) => registrations.some((r) => r.userId === c.userId && r.status === 'offered'),
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(summary(after)).toEqual([`${c.userId}:offered`, `${b.userId}:expired`]);
  });

  it('lapses at start-up an offer whose deadline passed while the runtime was down', async () => {
    const prefix = newPrefix();
    const time = manualClock(Math.floor(Date.now() / 1000) * 1000);
    const first = await startRuntime(prefix, time.clock, time.now);
    const { eventId, b, c, deadline } = await offerToB(first.app);
    await first.stop();

    time.set(deadline + 5000);
    const second = await startRuntime(prefix, time.clock, time.now);

    // The start-up tasks have run: nothing to wait for.
    const after = await eventRegistrations(second.app, eventId);
    expect(summary(after)).toEqual([`${c.userId}:offered`, `${b.userId}:expired`]);
    expect(after[0]?.offerExpiresAt).toBe(
      new Date(deadline + 5000 + WINDOW_SECONDS * 1000).toISOString(),
    );
  });
});
