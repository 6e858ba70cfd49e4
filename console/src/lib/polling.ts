/**
 * When the console asks the API again on its own: while something it shows is still changing
 * (an enrollment being processed, a workflow run), and only then. The pace slows down the longer
 * it waits, so a record stuck in PENDING costs a request every few seconds, not every 500 ms.
 */

import type { Schemas } from '../api/client';

/** The delay before the next poll, after `fetches` answers: fast at first, then slower. */
export function backoff(fetches: number): number {
  if (fetches < 20) return 500;
  if (fetches < 50) return 2_000;
  return 5_000;
}

export type EnrollmentStatus = Schemas['Enrollment']['status'];

/** PROCESSED and REJECTED are final: nothing changes an enrollment after them. */
export const isFinalEnrollment = (status: EnrollmentStatus | undefined): boolean =>
  status === 'PROCESSED' || status === 'REJECTED';

/** An enrollment is polled until its status is final (and not at all before the first answer). */
export function enrollmentPollInterval(
  status: EnrollmentStatus | undefined,
  fetches: number,
): number | false {
  if (status === undefined || isFinalEnrollment(status)) return false;
  return backoff(fetches);
}

export type Run = Pick<Schemas['WorkflowExecution'], 'executionId' | 'status'>;

/**
 * A run the console has just caused and expects to see: the execution a submit started, or —
 * after adding a new id, whose `CustomerCreated` event starts a run the console has no id for —
 * any run not among those listed before.
 */
export interface ExpectedRun {
  readonly executionId?: string;
  readonly known: readonly string[];
  /** Epoch milliseconds of the action. */
  readonly since: number;
}

/** How long the console waits for an expected run to be listed before it stops asking. */
export const EXPECTED_RUN_WAIT_MS = 15_000;

const arrived = (runs: readonly Run[], expected: ExpectedRun) =>
  expected.executionId !== undefined
    ? runs.some((run) => run.executionId === expected.executionId)
    : runs.some((run) => !expected.known.includes(run.executionId));

/** An id's runs are polled while one is RUNNING, or while a run the console started is not listed yet. */
export function runsPollInterval(
  runs: readonly Run[],
  expected: ExpectedRun | undefined,
  now: number,
  fetches: number,
): number | false {
  if (runs.some((run) => run.status === 'RUNNING')) return backoff(fetches);
  if (expected && now - expected.since < EXPECTED_RUN_WAIT_MS && !arrived(runs, expected)) {
    return 500;
  }
  return false;
}
