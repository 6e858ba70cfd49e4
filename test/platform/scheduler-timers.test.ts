import {
  ConflictException,
  SchedulerClient,
  ServiceQuotaExceededException,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configVariables,
  loadConfig,
  timerTargetOf,
} from '../../src/platform/config.js';
import { defineModule } from '../../src/platform/module.js';
import type { QueueDefinition } from '../../src/platform/queue/queue.js';
import {
  SchedulerTimers,
  scheduleName,
  type TimerTarget,
} from '../../src/platform/timers/scheduler.js';
import { LocalQueues } from '../../src/runtime/local/queue.js';

const offers: QueueDefinition = {
  id: 'offer-expiries',
  maxReceiveCount: 5,
  consumerTimeoutSeconds: 30,
  batchSize: 10,
  timerTarget: true,
};
const target: TimerTarget = {
  scheduleGroup: 'roster-test-timers',
  queueArn: 'arn:aws:sqs:us-east-1:123456789012:offer-expiries',
  deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:offer-expiries-dlq',
  roleArn: 'arn:aws:iam::123456789012:role/offer-expiries-scheduler',
};

interface Sent {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/**
 * A real SchedulerClient whose calls are answered by a middleware at the front of its stack,
 * before endpoint resolution and signing: nothing leaves the process. `answer` plays Scheduler
 * (returns an output, or throws what Scheduler would).
 */
function schedulerClient(answer: (call: Sent) => unknown = () => ({ ScheduleArn: 'arn:x' })) {
  const sent: Sent[] = [];
  const client = new SchedulerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const call = {
        command: context.commandName ?? '',
        input: (args as { input: Record<string, unknown> }).input,
      };
      sent.push(call);
      return { output: { $metadata: {}, ...(answer(call) as object) }, response: {} } as never;
    },
    { step: 'initialize', name: 'playScheduler' },
  );
  return { client, sent };
}

/** A clock the test moves by hand, shared by the adapter and the local queue it falls back on. */
function manualClock(start: string) {
  let now = Date.parse(start);
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function timersAt(start: string, answer?: (call: Sent) => unknown) {
  const clock = manualClock(start);
  const { client, sent } = schedulerClient(answer);
  const queues = new LocalQueues({ now: clock.now });
  const port = new SchedulerTimers(client, queues, () => target, clock.now);
  return { timers: port.timers(offers), sent, queues, clock };
}

const conflict = () =>
  new ConflictException({
    message: 'Schedule offer-expiries-… already exists.',
    Message: 'Schedule offer-expiries-… already exists.',
    $metadata: { httpStatusCode: 409 },
  });

describe('SchedulerTimers (timers on EventBridge Scheduler one-time schedules)', () => {
  it('creates a one-time schedule in UTC, rounded up to the whole minute, that sends the body to the queue and deletes itself', async () => {
    const { timers, sent, queues } = timersAt('2030-01-02T00:00:00Z');

    await timers.set('offer:e1:r1', new Date('2030-01-02T03:04:05.123Z'), '{"offer":"r1"}');

    expect(sent).toEqual([
      {
        command: 'CreateScheduleCommand',
        input: {
          Name: scheduleName(offers.id, 'offer:e1:r1'),
          GroupName: 'roster-test-timers',
          Description: 'offer-expiries: offer:e1:r1',
          // Scheduler fires within the minute it is given (60-second precision): 03:05, never 03:04.
          ScheduleExpression: 'at(2030-01-02T03:05:00)',
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: target.queueArn,
            RoleArn: target.roleArn,
            Input: '{"offer":"r1"}',
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
            DeadLetterConfig: { Arn: target.deadLetterArn },
          },
        },
      },
    ]);
    expect(queues.depth(offers)).toBe(0);
  });

  it('keeps a deadline that falls on a whole minute on that minute', async () => {
    const { timers, sent } = timersAt('2030-01-02T00:00:00Z');

    await timers.set('n', new Date('2030-01-02T03:04:00.000Z'), 'b');

    expect(sent[0]?.input.ScheduleExpression).toBe('at(2030-01-02T03:04:00)');
  });

  it('names schedules deterministically: the same (queue, name) gives the same name, anything else another', () => {
    const other: QueueDefinition = { ...offers, id: 'reminders' };
    expect(scheduleName(offers.id, 'offer:e1:r1')).toBe(scheduleName(offers.id, 'offer:e1:r1'));
    expect(scheduleName(offers.id, 'offer:e1:r1')).not.toBe(scheduleName(offers.id, 'offer:e1:r2'));
    expect(scheduleName(offers.id, 'x')).not.toBe(scheduleName(other.id, 'x'));
    // The separator is not a character a queue id or a name could smuggle in.
    expect(scheduleName('a', 'b-c')).not.toBe(scheduleName('a-b', 'c'));
  });

  it('names every schedule with at most 64 of [0-9a-zA-Z-_.], whatever the queue id and the name', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 80 }),
        fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }),
        (queueId, name) => /^[0-9A-Za-z_.-]{1,64}$/.test(scheduleName(queueId, name)),
      ),
    );
    expect(scheduleName(offers.id, 'x'.repeat(200))).toMatch(/^offer-expiries-[0-9a-f]+$/);
  });

  it('takes a name already set (Scheduler answers ConflictException) as done: one schedule, no error, nothing sent now', async () => {
    const { timers, sent, queues } = timersAt('2030-01-02T00:00:00Z', (call) => {
      if (call.command === 'CreateScheduleCommand') throw conflict();
      return {};
    });

    await expect(
      timers.set('offer:e1:r1', new Date('2030-01-03T00:00:00Z'), 'b'),
    ).resolves.toBeUndefined();

    expect(sent.map((call) => call.command)).toEqual(['CreateScheduleCommand']);
    expect(queues.depth(offers)).toBe(0);
  });

  it('lets any other error of Scheduler reach the caller', async () => {
    const errors = [
      new ValidationException({ message: 'bad', Message: 'bad', $metadata: {} }),
      new ServiceQuotaExceededException({ message: 'quota', Message: 'quota', $metadata: {} }),
      new Error('socket hang up'),
    ];
    for (const error of errors) {
      const { timers, queues } = timersAt('2030-01-02T00:00:00Z', () => {
        throw error;
      });

      await expect(timers.set('n', new Date('2030-01-03T00:00:00Z'), 'b')).rejects.toBe(error);
      expect(queues.depth(offers)).toBe(0);
    }
  });

  it('sends a deadline already past straight to the queue, creating no schedule', async () => {
    const { timers, sent, queues } = timersAt('2030-01-02T00:00:00Z');

    await timers.set('late', new Date('2030-01-01T23:59:59.999Z'), 'overdue');
    await timers.set('now', new Date('2030-01-02T00:00:00Z'), 'due');

    expect(sent).toEqual([]);
    const received = await queues.receive(offers, 10);
    expect(received.map((message) => message.body).sort()).toEqual(['due', 'overdue']);
  });

  it('sends a deadline within the minute to the queue with a delay that ends at or after it, creating no schedule', async () => {
    const { timers, sent, queues, clock } = timersAt('2030-01-02T00:00:00Z');

    await timers.set('soon', new Date('2030-01-02T00:00:42.500Z'), 'soon');

    expect(sent).toEqual([]);
    clock.advance(42_499);
    expect(await queues.receive(offers, 10)).toEqual([]);
    // SQS delays count whole seconds: 43 s here, rounded up so never before the deadline.
    clock.advance(501);
    expect((await queues.receive(offers, 10)).map((message) => message.body)).toEqual(['soon']);
  });

  it('schedules a deadline just over a minute away (Scheduler, not an SQS delay)', async () => {
    const { timers, sent, queues } = timersAt('2030-01-02T00:00:00Z');

    await timers.set('n', new Date('2030-01-02T00:01:00.001Z'), 'b');

    expect(sent[0]?.input.ScheduleExpression).toBe('at(2030-01-02T00:02:00)');
    expect(queues.depth(offers)).toBe(0);
  });

  it('refuses a date that is not a date', async () => {
    const { timers, sent, queues } = timersAt('2030-01-02T00:00:00Z');

    await expect(timers.set('n', new Date(Number.NaN), 'b')).rejects.toThrow(RangeError);
    expect(sent).toEqual([]);
    expect(queues.depth(offers)).toBe(0);
  });
});

describe('timer configuration (what the stack passes the functions that set timers)', () => {
  const timed = defineModule({
    name: 'timed',
    tables: [],
    services: () => ({}),
    tasks: [{ name: 'expire', description: 'Lapses offers.', queue: offers, run: async () => 0 }],
  });
  const complete = {
    TIMER_SCHEDULE_GROUP: target.scheduleGroup,
    OFFER_EXPIRIES_QUEUE_ARN: target.queueArn,
    OFFER_EXPIRIES_DLQ_ARN: target.deadLetterArn,
    OFFER_EXPIRIES_TIMER_ROLE_ARN: target.roleArn,
  };

  it('reads the schedule group, and each timer queue’s ARN, DLQ ARN and Scheduler role', () => {
    const config = loadConfig(complete, [timed]);

    expect(timerTargetOf(config, offers)).toEqual(target);
    expect(configVariables([timed])).toEqual(expect.arrayContaining(Object.keys(complete)));
  });

  it('names what is missing when timers are asked for on a queue the environment does not describe', () => {
    const config = loadConfig({}, [timed]);

    expect(() => timerTargetOf(config, offers)).toThrow(ConfigError);
    expect(() => timerTargetOf(config, offers)).toThrow(
      /TIMER_SCHEDULE_GROUP, OFFER_EXPIRIES_QUEUE_ARN, OFFER_EXPIRIES_DLQ_ARN, OFFER_EXPIRIES_TIMER_ROLE_ARN/,
    );
    const { TIMER_SCHEDULE_GROUP: _group, ...withoutGroup } = complete;
    expect(() => timerTargetOf(loadConfig(withoutGroup, [timed]), offers)).toThrow(
      /need TIMER_SCHEDULE_GROUP\b/,
    );
  });

  it('refuses timers on a queue that is not declared a timer target (the stack lets Scheduler send to no other)', () => {
    const config = loadConfig(complete, [timed]);

    expect(() => timerTargetOf(config, { ...offers, timerTarget: false })).toThrow(
      /"offer-expiries" is not a timer target/,
    );
  });

  it('refuses a schedule group name Scheduler would refuse, by name', () => {
    expect(() => loadConfig({ ...complete, TIMER_SCHEDULE_GROUP: 'no spaces' }, [timed])).toThrow(
      /TIMER_SCHEDULE_GROUP/,
    );
  });

  it('builds SchedulerTimers only for queues it can describe: the error surfaces when timers are asked for', () => {
    const { client } = schedulerClient();
    const config = loadConfig({}, [timed]);
    const port = new SchedulerTimers(client, new LocalQueues(), (queue) =>
      timerTargetOf(config, queue),
    );

    expect(() => port.timers(offers)).toThrow(/OFFER_EXPIRIES_QUEUE_ARN/);
  });
});
