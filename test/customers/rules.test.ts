import { describe, expect, it } from 'vitest';
import {
  carriedVersion,
  closing,
  failureFrom,
  MAX_CAUSE_LENGTH,
} from '../../src/modules/customers/customers.rules.js';

describe('failureFrom', () => {
  it("keeps a Lambda error's message, not its JSON cause with the stack trace", () => {
    const cause = JSON.stringify({
      errorType: 'Customers.Unavailable',
      errorMessage: 'The customers table did not answer.',
      trace: ['Error: at x (/var/task/index.mjs:1:1)'],
    });

    expect(failureFrom({ Error: 'Customers.Unavailable', Cause: cause })).toEqual({
      error: 'Customers.Unavailable',
      cause: 'The customers table did not answer.',
    });
  });

  it('keeps a plain-text cause as it is, bounded', () => {
    expect(failureFrom({ Error: 'States.Timeout', Cause: 'x'.repeat(5000) }).cause).toHaveLength(
      MAX_CAUSE_LENGTH,
    );
    expect(failureFrom({ Error: 'E', Cause: 'plain' })).toEqual({ error: 'E', cause: 'plain' });
  });

  it('names an unknown error when the Catch output has none', () => {
    expect(failureFrom(undefined)).toEqual({ error: 'States.Unknown', cause: '' });
  });
});

describe('closing', () => {
  it('fails a record whose execution the engine does not know (lost with its process)', () => {
    expect(closing(undefined)).toMatchObject({
      status: 'FAILED',
      error: { error: 'Roster.Interrupted' },
    });
  });

  it('leaves a running execution alone', () => {
    expect(closing({ status: 'RUNNING', startedAt: '2026-01-01T00:00:00.000Z' })).toBeUndefined();
  });

  it('takes the status and error the engine reports', () => {
    expect(
      closing({
        status: 'TIMED_OUT',
        error: 'States.Timeout',
        startedAt: '2026-01-01T00:00:00.000Z',
      }),
    ).toEqual({ status: 'TIMED_OUT', error: { error: 'States.Timeout', cause: '' } });
    expect(closing({ status: 'ABORTED', startedAt: '2026-01-01T00:00:00.000Z' })).toEqual({
      status: 'ABORTED',
      error: { error: 'ABORTED', cause: '' },
    });
  });

  it('takes the branch of a succeeded execution from its output', () => {
    expect(
      closing({
        status: 'SUCCEEDED',
        output: { id: 'c', branch: 'Inserted' },
        startedAt: '2026-01-01T00:00:00.000Z',
      }),
    ).toEqual({ status: 'SUCCEEDED', branch: 'Inserted', output: { id: 'c', branch: 'Inserted' } });
    expect(
      closing({
        status: 'SUCCEEDED',
        output: { id: 'c', branch: 'Superseded' },
        startedAt: '2026-01-01T00:00:00.000Z',
      }),
    ).toMatchObject({ status: 'SUCCEEDED', branch: 'Superseded' });
  });
});

describe('carriedVersion', () => {
  it('reads the version a CustomerCreated run was started for', () => {
    expect(carriedVersion({ id: 'c', version: 0 })).toBe(0);
    expect(carriedVersion({ id: 'c', version: 7 })).toBe(7);
  });

  it('has none for a run started without one (submit, schedule, the previous release)', () => {
    expect(carriedVersion({ id: 'c' })).toBeUndefined();
    expect(carriedVersion({ id: 'c', version: undefined })).toBeUndefined();
    expect(carriedVersion(null)).toBeUndefined();
    expect(carriedVersion('c')).toBeUndefined();
  });

  it('refuses a version that is not a count', () => {
    for (const version of [-1, 1.5, '1', null, Number.MAX_SAFE_INTEGER + 1]) {
      expect(carriedVersion({ id: 'c', version }), String(version)).toBe('invalid');
    }
  });
});
