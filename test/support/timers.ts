import { timerEnvVars, timerQueues } from '../../src/platform/config.js';
import type { AnyModule } from '../../src/platform/module.js';

/**
 * The timer environment the stack gives a function of `modules` (infra/constructs/timers.ts),
 * with ARNs nothing is ever sent to: for tests that start a Lambda entry with the environment of
 * its deployment. Their services ask for their timers as they are built, and fail naming what is
 * missing (platform/config's `timerTargetOf`).
 */
export function timerEnvironment(modules: readonly AnyModule[]): Record<string, string> {
  const env: Record<string, string> = { TIMER_SCHEDULE_GROUP: 'roster-test-timers' };
  for (const queue of timerQueues(modules)) {
    const names = timerEnvVars(queue);
    env[names.queueArn] = `arn:aws:sqs:us-east-1:000000000000:${queue.id}`;
    env[names.deadLetterArn] = `arn:aws:sqs:us-east-1:000000000000:${queue.id}-dlq`;
    env[names.roleArn] = `arn:aws:iam::000000000000:role/${queue.id}-scheduler`;
  }
  return env;
}
