import { describe, expect, it } from 'vitest';
import {
  backoff,
  EXPECTED_RUN_WAIT_MS,
  enrollmentPollInterval,
  isFinalEnrollment,
  runsPollInterval,
} from '../src/lib/polling';

describe('polling while something on screen is still changing', () => {
  it('asks often at first, then less and less', () => {
    expect(backoff(0)).toBe(500);
    expect(backoff(19)).toBe(500);
    expect(backoff(20)).toBe(2_000);
    expect(backoff(50)).toBe(5_000);
    expect(backoff(10_000)).toBe(5_000);
  });

  it('polls a PENDING enrollment and stops once it is PROCESSED or REJECTED', () => {
    expect(enrollmentPollInterval('PENDING', 1)).toBe(500);
    expect(enrollmentPollInterval('PENDING', 60)).toBe(5_000);
    expect(enrollmentPollInterval('PROCESSED', 1)).toBe(false);
    expect(enrollmentPollInterval('REJECTED', 1)).toBe(false);
    // Before the first answer (or after a failed one) the query's own fetch and retry rules apply.
    expect(enrollmentPollInterval(undefined, 0)).toBe(false);
    expect(isFinalEnrollment('PENDING')).toBe(false);
  });

  it('polls an id’s runs while one is RUNNING, and not once all have stopped', () => {
    const now = 1_000_000;
    expect(
      runsPollInterval(
        [
          { executionId: 'a', status: 'SUCCEEDED' },
          { executionId: 'b', status: 'RUNNING' },
        ],
        undefined,
        now,
        3,
      ),
    ).toBe(500);
    expect(
      runsPollInterval(
        [
          { executionId: 'a', status: 'SUCCEEDED' },
          { executionId: 'b', status: 'FAILED' },
        ],
        undefined,
        now,
        3,
      ),
    ).toBe(false);
  });

  it('waits for the run a submit started until it is listed', () => {
    const expected = { executionId: 'new', known: [], since: 1_000 };
    expect(
      runsPollInterval([{ executionId: 'old', status: 'SUCCEEDED' }], expected, 1_500, 1),
    ).toBe(500);
    expect(
      runsPollInterval([{ executionId: 'new', status: 'SUCCEEDED' }], expected, 1_500, 2),
    ).toBe(false);
  });

  it('after an add, waits for a run that was not listed before (its event started one)', () => {
    const expected = { known: ['old'], since: 1_000 };
    expect(
      runsPollInterval([{ executionId: 'old', status: 'SUCCEEDED' }], expected, 2_000, 1),
    ).toBe(500);
    expect(
      runsPollInterval(
        [
          { executionId: 'event-run', status: 'SUCCEEDED' },
          { executionId: 'old', status: 'SUCCEEDED' },
        ],
        expected,
        2_000,
        2,
      ),
    ).toBe(false);
  });

  it('gives up waiting for an expected run after a while', () => {
    const expected = { known: [], since: 1_000 };
    expect(runsPollInterval([], expected, 1_000 + EXPECTED_RUN_WAIT_MS - 1, 5)).toBe(500);
    expect(runsPollInterval([], expected, 1_000 + EXPECTED_RUN_WAIT_MS, 5)).toBe(false);
  });
});
