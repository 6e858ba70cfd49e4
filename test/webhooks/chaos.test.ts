import { expect, it } from 'vitest';
import { webhooksChaos } from '../support/webhooks-chaos.js';

/*
 * At least once, through crashes: the real local runtime SIGKILLed (with its DynamoDB Local)
 * twice while it commits events and delivers them to a receiver that fails 40 % of the attempts.
 * `npm run bench -- --only=webhooks` runs the same with 10,000 events and a kill a minute.
 */
it('every acknowledged change reaches a failing receiver at least once across SIGKILLs', async () => {
  const result = await webhooksChaos({
    events: 200,
    killEverySeconds: Number.POSITIVE_INFINITY,
    killEveryAcknowledged: 70,
    concurrency: 4,
    drainSeconds: 60,
  });
  expect(result.kills).toBeGreaterThanOrEqual(2);
  expect(result.acknowledged).toBeGreaterThan(160);
  expect(result.missing).toEqual([]);
  expect(result.delivered).toBe(result.acknowledged);
}, 240_000);
