import type { ExecutionStatus } from '../../platform/workflow/workflow.js';

/**
 * The customers domain as the services and rules see it: plain types, no HTTP, no DynamoDB.
 */

export interface Customer {
  readonly id: string;
  readonly createdAt: string;
  /** `api`, or the workflow execution whose InsertId stored it. */
  readonly createdBy: string;
}

/** The branch an execution ended on (seed 001's workflow). */
export const branches = ['Inserted', 'AlreadyExists'] as const;
export type Branch = (typeof branches)[number];

export interface ExecutionError {
  readonly error: string;
  readonly cause: string;
}

/** A workflow execution as the table records it (the workflow's own tasks write it). */
export interface Execution {
  readonly executionId: string;
  /** The `id` of its input, when it had a usable one. */
  readonly customerId: string | undefined;
  readonly status: ExecutionStatus;
  readonly input: unknown;
  readonly output: unknown;
  readonly branch: Branch | undefined;
  readonly error: ExecutionError | undefined;
  readonly startedAt: string;
  readonly stoppedAt: string | undefined;
}

/** What ends an execution: the fields its record takes when it leaves RUNNING. */
export type Outcome =
  | { readonly status: 'SUCCEEDED'; readonly branch: Branch; readonly output: unknown }
  | {
      readonly status: Exclude<ExecutionStatus, 'RUNNING' | 'SUCCEEDED'>;
      readonly error: ExecutionError;
    };

/** An event waiting in the outbox until the bus has accepted it. */
export interface PendingEvent {
  readonly eventId: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
}

/** The event a PUT that creates a customer emits (seed 001, "Option B"). */
export const CUSTOMER_CREATED = { source: 'customer.api', detailType: 'CustomerCreated' } as const;
