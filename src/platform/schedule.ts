import * as z from 'zod/mini';

/**
 * EventBridge rate expressions (`rate(5 minutes)`), as task schedules are written. AWS accepts
 * minutes, hours and days; the local runtime also accepts seconds, so tests can wait seconds
 * instead of minutes.
 */
const RATE = /^rate\((\d+) (second|minute|hour|day)s?\)$/;

const unitMs: Record<string, number> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** Milliseconds between runs; throws for anything that is not `rate(<n> <unit>)` with n ≥ 1. */
export function rateToMs(expression: string): number {
  const match = RATE.exec(expression);
  const amount = Number(match?.[1]);
  const unit = match?.[2];
  if (!match || !unit || !Number.isInteger(amount) || amount < 1) {
    throw new Error(`not a rate expression: "${expression}" (e.g. "rate(5 minutes)")`);
  }
  return amount * (unitMs[unit] ?? Number.NaN);
}

/** Whether AWS (EventBridge Scheduler) accepts it: the local runtime's seconds are not. */
export function isAwsRate(expression: string): boolean {
  return RATE.test(expression) && !/\bseconds?\)$/.test(expression) && rateToMs(expression) > 0;
}

/**
 * A module setting that says how often a task runs: an EventBridge rate expression (`rate(5
 * minutes)`; locally also seconds) or `off`. Parses to the rate, or undefined for `off`, which
 * is what a task's `schedule` returns.
 */
export const scheduleSetting = (fallback: string) =>
  z.pipe(
    z._default(
      z.optional(
        z
          .string()
          .check(
            z.regex(
              /^(rate\([1-9]\d* (second|minute|hour|day)s?\)|off)$/,
              'must be an EventBridge rate expression (e.g. "rate(5 minutes)") or "off"',
            ),
          ),
      ),
      fallback,
    ),
    z.transform((value) => (value === 'off' ? undefined : value)),
  );
