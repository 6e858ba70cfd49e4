import type { DomainEvent } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type { ExecutionStatus } from '../../platform/workflow/workflow.js';
import type {
  Branch,
  Customer,
  Execution,
  Outcome,
  PendingEvent,
  Registration,
} from './customers.model.js';

/**
 * What InsertId's commit found: it inserted; this execution had inserted it already (a retry
 * after its commit: nothing written now); the id is registered; the id was deleted after the
 * version the run carries (a newer decision); or the execution's record had ended.
 */
export type InsertOutcome = 'inserted' | 'inserted-before' | 'exists' | 'superseded' | 'closed';

/** What a create found when its condition failed: the entry as it is now. */
export type CreateOutcome = { created: true } | { created: false; current: Registration };

/** What a delete found when its condition failed: the entry as it is now. */
export type DeleteOutcome = { deleted: true } | { deleted: false; current: Registration };

/** A registered id in the list. */
export interface ListedCustomer {
  readonly id: string;
  readonly createdAt: string;
}

/**
 * Which executions to list: a customer's, or those of one status, or all; started in
 * [from, to) (ISO 8601 UTC as records hold them). A customer's are not filtered by status.
 */
export interface ExecutionFilter {
  readonly customerId?: string;
  readonly status?: ExecutionStatus;
  readonly from?: string;
  readonly to?: string;
}

/** Executions counted by status, and the successful ones by branch. */
export interface ExecutionCounts {
  readonly byStatus: Readonly<Record<ExecutionStatus, number>>;
  readonly byBranch: Readonly<Record<Branch, number>>;
}

/** How many items of the previous release a backfill put in the lists. */
export interface Backfilled {
  readonly customers: number;
  readonly executions: number;
}

/**
 * The customers port: the ID registry, the outbox of events not yet accepted by the bus, and the
 * records of workflow executions. Every write that guards a decision is conditional and says
 * when its condition failed; nothing is read-then-written. The domain events of an id's changes
 * (`domainEvents`) are committed with them, in the same transaction, or not at all.
 */
export interface CustomerRepository {
  /** The id's entry (a consistent read); an absent item or one without a version is version 0. */
  registration(id: string): Promise<Registration>;
  /**
   * Stores the customer if the id's entry is still at `previousVersion` and not registered
   * (absent, or the tombstone of that version), and in the same transaction puts `event` in the
   * outbox and commits `domainEvents`. Otherwise nothing is written and the entry as it is now
   * comes back.
   */
  createCustomer(
    customer: Customer,
    previousVersion: number,
    event: PendingEvent,
    domainEvents: readonly DomainEvent[],
  ): Promise<CreateOutcome>;
  /**
   * Replaces the id, registered at `version`, with a tombstone at `version + 1`, committing
   * `domainEvents` with it. Otherwise (not registered, or at another version) nothing is written
   * and the entry as it is now comes back.
   */
  deleteCustomer(
    id: string,
    version: number,
    now: string,
    domainEvents: readonly DomainEvent[],
  ): Promise<DeleteOutcome>;

  /** Outbox events created before `before`, oldest first, at most `limit`. */
  pendingEvents(before: string, limit: number): Promise<PendingEvent[]>;
  /** Takes events out of the outbox (the bus accepted them). */
  removeEvents(eventIds: readonly string[]): Promise<void>;

  /**
   * Records an execution as RUNNING unless it is recorded already (whoever gets there first,
   * the starter or the execution's first task, writes the same thing).
   */
  recordStarted(
    execution: Pick<Execution, 'executionId' | 'customerId' | 'input' | 'startedAt'>,
  ): Promise<void>;
  getExecution(executionId: string): Promise<Execution | undefined>;
  /** The registered ids, newest registration first (a deleted id leaves the list). */
  listCustomers(page: PageRequest): Promise<Page<ListedCustomer>>;
  /** Executions as `filter` says, newest first (an index query per status, and one for all). */
  listExecutions(filter: ExecutionFilter, page: PageRequest): Promise<Page<Execution>>;
  /**
   * The executions started in `[from, to)` counted by the status they have now (one query per
   * status in the index by status, a page at a time: the records in the range only, never a
   * scan), the SUCCEEDED ones also by branch.
   */
  countExecutions(from: string, to: string): Promise<ExecutionCounts>;
  /**
   * Puts the items the previous release wrote (without list keys) into the lists, `pageSize`
   * items read at a time; each write is conditioned on the item as read, so running it again, or
   * beside newer writes, changes nothing twice.
   */
  backfillLists(pageSize: number): Promise<Backfilled>;
  /**
   * InsertId: the customer at version `basis + 1`, the execution's `Inserted` outcome and
   * `domainEvents`, in one transaction, if the id is absent or its tombstone is no newer than
   * `basis` (the version the run was started for). Running it again after it committed finds its
   * own writes and answers `inserted-before`, writing nothing.
   */
  insertForExecution(
    customer: Omit<Customer, 'version'>,
    basis: number,
    executionId: string,
    output: unknown,
    now: string,
    domainEvents: readonly DomainEvent[],
  ): Promise<InsertOutcome>;
  /**
   * Ends a RUNNING execution with `outcome`; a record that already ended the same way counts as
   * done (a retried task). False when the record ended otherwise, or does not exist.
   */
  recordOutcome(executionId: string, outcome: Outcome, now: string): Promise<boolean>;
  /** Executions recorded RUNNING that started before `before`, oldest first, page by page. */
  runningExecutions(before: string): AsyncIterable<Execution[]>;
  /** Ends several RUNNING executions (each only if still RUNNING); returns how many it ended. */
  closeExecutions(
    closed: readonly { executionId: string; outcome: Outcome }[],
    now: string,
  ): Promise<number>;
}
