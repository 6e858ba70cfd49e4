import {
  type Branch,
  branches,
  customerEvents,
  type ExecutionDescription,
  type ExecutionError,
  type Outcome,
} from './customers.model.js';
import { type CustomerExistsResponse, customerBody } from './customers.schemas.js';

/** Pure decisions of the customers module: no I/O, unit-tested without a database. */

/** Longest error cause kept on a record: enough to read, bounded whatever a task threw. */
export const MAX_CAUSE_LENGTH = 1000;

/** What a successful execution outputs (and its record keeps). */
export const outputOf = <B extends Branch>(id: string, branch: B) => ({ id, branch });

/**
 * The error a Catch handed to RecordFailure (`{ Error, Cause }`). A Lambda's Cause is a JSON
 * document (`errorType`, `errorMessage`, `trace`); only the message is kept, never the trace.
 */
export function failureFrom(caught: unknown): ExecutionError {
  const { Error: error, Cause: cause } = (caught ?? {}) as { Error?: unknown; Cause?: unknown };
  let text = typeof cause === 'string' ? cause : '';
  try {
    const parsed = JSON.parse(text) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') text = parsed.errorMessage;
  } catch {
    // Not JSON: a local task's message, or a Step Functions cause in plain text.
  }
  return {
    error: typeof error === 'string' && error.length > 0 ? error : 'States.Unknown',
    cause: text.slice(0, MAX_CAUSE_LENGTH),
  };
}

/**
 * How a record still RUNNING should end, given what the workflow engine says of its execution;
 * undefined while it really runs. An execution the engine does not know was lost with the process
 * that ran it (locally; Step Functions keeps every execution it accepted for 90 days).
 */
export function closing(described: ExecutionDescription | undefined): Outcome | undefined {
  if (!described) {
    return {
      status: 'FAILED',
      error: {
        error: 'Roster.Interrupted',
        cause: 'The process running this execution stopped before it finished.',
      },
    };
  }
  switch (described.status) {
    case 'RUNNING':
      return undefined;
    case 'SUCCEEDED': {
      const output = described.output as { branch?: unknown } | undefined;
      const branch = branches.find((b) => b === output?.branch) ?? 'AlreadyExists';
      return { status: 'SUCCEEDED', branch, output: described.output };
    }
    default:
      return {
        status: described.status,
        error: failureFrom({ Error: described.error ?? described.status, Cause: described.cause }),
      };
  }
}

/**
 * The version a run was started for, from its execution input: a CustomerCreated event carries
 * the version its PUT created; `undefined` when the input has none (POST /workflow/submit, the
 * schedule, events of the previous release), `'invalid'` when it is not a count.
 */
export function carriedVersion(input: unknown): number | undefined | 'invalid' {
  if (typeof input !== 'object' || input === null || !('version' in input)) return undefined;
  const { version } = input as { version: unknown };
  if (version === undefined) return undefined;
  return Number.isSafeInteger(version) && (version as number) >= 0
    ? (version as number)
    : 'invalid';
}

/** What a customer id's domain event says, once the change it announces is decided. */
export interface CustomerEvent {
  readonly type: string;
  readonly aggregate: { readonly type: string; readonly id: string; readonly sequence: number };
  readonly data: CustomerExistsResponse;
}

/**
 * The domain event of the change that leaves id `id` at `version`, registered (`live`: created)
 * or not (deleted). The sequence is that version: creates and deletes take the next one each, so
 * an id created again after a delete goes on counting. Its data is the id as
 * GET /customers/{id} shows it.
 */
export function customerEvent(id: string, version: number, live: boolean): CustomerEvent {
  return {
    type: live ? customerEvents.created : customerEvents.deleted,
    aggregate: { type: customerEvents.aggregate, id, sequence: version },
    data: customerBody(id, live),
  };
}
