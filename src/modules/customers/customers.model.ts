import type { ExecutionStatus } from '../../platform/workflow/workflow.js';

/**
 * The customers domain as the services and rules see it: plain types, no HTTP, no DynamoDB.
 */

export interface Customer {
  readonly id: string;
  readonly createdAt: string;
  /** `api`, or the workflow execution whose InsertId stored it. */
  readonly createdBy: string;
  /** Counts the decisions on this id: each create and each delete takes the next number. */
  readonly version: number;
}

/**
 * An id's entry in the registry as it stands: registered (`live`), or not — never registered
 * (version 0), or deleted, in which case a tombstone keeps the version of that DELETE so that a
 * workflow run started before it cannot register the id again.
 */
export interface Registration {
  readonly live: boolean;
  readonly version: number;
}

/** Never registered (nor an item of the previous release, which had no version). */
export const UNREGISTERED: Registration = { live: false, version: 0 };

/**
 * The branch an execution ended on (docs/spec.md#customer-workflow): `Inserted` or
 * `AlreadyExists`, or `Superseded` when InsertId found the id deleted after the version the run
 * was started for (a later DELETE stands).
 */
export const branches = ['Inserted', 'AlreadyExists', 'Superseded'] as const;
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

/** What the workflow engine says of an execution (the rules read an Outcome from it). */
export type { ExecutionDescription } from '../../platform/workflow/workflow.js';

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

/**
 * The domain events of a customer id (the module's catalogue, in customers.module.ts), numbered
 * by the entry's version: created by a PUT or the workflow's InsertId, deleted by a DELETE.
 */
export const customerEvents = {
  aggregate: 'customer',
  created: 'customer.created',
  deleted: 'customer.deleted',
} as const;

/**
 * The event a PUT that creates a customer emits: the workflow's event trigger
 * (docs/spec.md#customer-workflow).
 */
export const CUSTOMER_CREATED = { source: 'customer.api', detailType: 'CustomerCreated' } as const;

/** The workflow's id (customers.module.ts declares it). */
export const CUSTOMER_WORKFLOW = 'customer-ids';
