/**
 * The timer port: a message delivered to one of the queues at a set time, however far ahead — a
 * deadline that must be acted on (an offer that lapses) without polling for it. EventBridge
 * Scheduler one-time schedules on AWS (scheduler.ts beside this file: the schedule sends the body
 * to the queue, then deletes itself), a timer in the process locally
 * (src/runtime/local/timers.ts). What a consumer may rely on, on both sides:
 *
 * - the message arrives at or after `at` — on AWS within about a minute of it, locally within
 *   milliseconds — and then with the queue's own semantics (at least once, maybe twice);
 * - a timer can be lost (a local process that dies holds its timers in memory; a schedule that
 *   could not be created): whoever sets timers keeps the deadline in its own data too and sweeps
 *   for what is overdue, and its handler checks the deadline itself, so a late, early or repeated
 *   message changes nothing it shouldn't;
 * - setting a timer under a name already set keeps one timer (the first); names are the
 *   caller's, unique per deadline.
 */
import type { QueueDefinition } from '../queue/queue.js';

/** Timers on one queue. */
export interface Timers {
  /**
   * Sends `body` to the queue at `at` (right away when `at` has passed). `name`: unique per
   * deadline (at most 200 characters); setting it again while it is pending does nothing.
   */
  set(name: string, at: Date, body: string): Promise<void>;
}

/** The runtime's timers (a member of `Ports`). */
export interface TimerPort {
  /** Timers that deliver to `queue` (a queue some task of the module consumes). */
  timers(queue: QueueDefinition): Timers;
}

/**
 * The timers for `queue` from the runtime's port, or — where there is none (the CDK app builds
 * services offline) — ones whose every call fails, loudly.
 */
export function timersOf(port: TimerPort | undefined, queue: QueueDefinition): Timers {
  if (port) return port.timers(queue);
  return { set: () => Promise.reject(new Error('no timer port in this runtime')) };
}
