import { describe, expect, it } from 'vitest';
import { isAwsRate, rateToMs, scheduleSetting } from '../../src/platform/schedule.js';

describe('schedule settings', () => {
  const setting = scheduleSetting('rate(5 minutes)');

  it('keeps a rate expression', () => {
    expect(setting.parse('rate(1 hour)')).toBe('rate(1 hour)');
  });

  it('turns "off" into no schedule', () => {
    expect(setting.parse('off')).toBeUndefined();
  });

  it('falls back to the default when unset', () => {
    expect(setting.parse(undefined)).toBe('rate(5 minutes)');
  });

  it.each(['every 5 minutes', 'rate(0.5 minutes)', 'cron(0 * * * ? *)', 'OFF', ''])(
    'refuses %j',
    (value) => {
      expect(setting.safeParse(value).success).toBe(false);
    },
  );
});

describe('rate expressions', () => {
  it.each([
    ['rate(1 second)', 1000],
    ['rate(30 seconds)', 30_000],
    ['rate(5 minutes)', 300_000],
    ['rate(2 hours)', 7_200_000],
    ['rate(1 day)', 86_400_000],
  ])('%s runs every %i ms', (rate, ms) => {
    expect(rateToMs(rate)).toBe(ms);
  });

  it('refuses a rate of zero', () => {
    expect(() => rateToMs('rate(0 minutes)')).toThrow(/not a rate expression/);
  });

  it('accepts minutes, hours and days on AWS, not seconds', () => {
    expect(isAwsRate('rate(5 minutes)')).toBe(true);
    expect(isAwsRate('rate(30 seconds)')).toBe(false);
  });
});
