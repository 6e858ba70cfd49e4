import { createHash } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import type { QueueDefinition, QueuePort } from '../queue/queue.js';
import type { TimerPort, Timers } from './timers.js';

/** Where the timers of one queue go on AWS: what the stack built for it (platform/config reads it). */
export interface TimerTarget {
  /** The app's schedule group (one per stage): every timer's schedule is created in it. */
  readonly scheduleGroup: string;
  /** The queue: the schedule's target. */
  readonly queueArn: string;
  /** Its dead-letter queue: where Scheduler puts a delivery it gave up on (the DLQ alarm sees it). */
  readonly deadLetterArn: string;
  /** The role Scheduler assumes to send to those two, and nowhere else. */
  readonly roleArn: string;
}

const MINUTE_MS = 60_000;
/** Scheduler's own limits on a schedule name: 1–64 of [0-9a-zA-Z-_.]. */
const NAME_LENGTH = 64;
const HASH_LENGTH = 40;
const DESCRIPTION_LENGTH = 512;

/**
 * The timer port on EventBridge Scheduler: one one-time schedule per timer, which sends the body to
 * the queue and then deletes itself. A deadline Scheduler cannot serve better than SQS goes
 * straight to the queue instead (see `set`).
 */
export class SchedulerTimers implements TimerPort {
  constructor(
    private readonly client: SchedulerClient,
    /** The queues, for deadlines that need no schedule. */
    private readonly queues: QueuePort,
    /** What the stack built for a queue; throws, naming what is missing, where it built nothing. */
    private readonly targetOf: (queue: QueueDefinition) => TimerTarget,
    private readonly now: () => number = Date.now,
  ) {}

  timers(queue: QueueDefinition): Timers {
    // Asked for once per queue when the module's services are built: a function missing its
    // configuration fails as it starts, not on its first deadline.
    const target = this.targetOf(queue);
    const client = this.client;
    const queues = this.queues;
    const now = this.now;
    return {
      async set(name, at, body) {
        const due = at.getTime();
        if (Number.isNaN(due)) throw new RangeError(`timer "${name}": its time is not a date`);
        const wait = due - now();
        // Past: deliver now. Within a minute — Scheduler's precision, and a schedule whose minute
        // is about to start could be refused as past — an SQS delay (whole seconds, rounded up)
        // is exact and never early. Either way no schedule, so a second `set` sends again: the
        // port allows a repeated message, and the consumer checks the deadline itself.
        if (wait <= 0) return queues.queue(queue).send(body);
        if (wait <= MINUTE_MS) {
          return queues.queue(queue).send(body, { delaySeconds: Math.ceil(wait / 1000) });
        }
        try {
          await client.send(
            new CreateScheduleCommand({
              Name: scheduleName(queue.id, name),
              GroupName: target.scheduleGroup,
              Description: `${queue.id}: ${name}`.slice(0, DESCRIPTION_LENGTH),
              ScheduleExpression: atExpression(at),
              ScheduleExpressionTimezone: 'UTC',
              FlexibleTimeWindow: { Mode: 'OFF' },
              ActionAfterCompletion: 'DELETE',
              Target: {
                Arn: target.queueArn,
                RoleArn: target.roleArn,
                Input: body,
                // Scheduler's maxima (also its defaults): a send SQS refuses for a while is tried
                // for a day; a late delivery is still one the consumer can act on.
                RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
                DeadLetterConfig: { Arn: target.deadLetterArn },
              },
            }),
          );
        } catch (error) {
          // The name is derived from (queue, name): a schedule by that name is this timer, set
          // before and still pending. The port keeps the first one.
          if (error instanceof ConflictException) return;
          throw error;
        }
      },
    };
  }
}

/**
 * The schedule's name for the timer `name` on the queue `queueId`: the queue id (as far as it
 * fits) and a hash of both — deterministic, so setting a timer again meets the first schedule
 * (ConflictException), within Scheduler's 64 characters of [0-9a-zA-Z-_.] whatever the name.
 */
export function scheduleName(queueId: string, name: string): string {
  const hash = createHash('sha256')
    .update(queueId)
    .update('\u0000')
    .update(name)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  const prefix = queueId.replace(/[^0-9A-Za-z_.-]/g, '_').slice(0, NAME_LENGTH - HASH_LENGTH - 1);
  return prefix ? `${prefix}-${hash}` : hash;
}

/**
 * `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the whole minute: Scheduler invokes a target
 * with 60-second precision (anywhere in the minute it is given), so only a whole minute at or
 * after `at` guarantees the message never arrives early. It may arrive up to about two minutes
 * late.
 */
function atExpression(at: Date): string {
  const minute = new Date(Math.ceil(at.getTime() / MINUTE_MS) * MINUTE_MS);
  return `at(${minute.toISOString().slice(0, 19)})`;
}
