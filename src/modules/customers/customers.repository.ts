import type { Page, PageRequest } from '../../platform/page.js';
import type { Customer, Execution, Outcome, PendingEvent } from './customers.model.js';

/** What InsertId's commit found. */
export type InsertOutcome = 'inserted' | 'exists' | 'closed';

/**
 * The customers port: the ID registry, the outbox of events not yet accepted by the bus, and the
 * records of workflow executions. Every write that guards a decision is conditional and says
 * when its condition failed; nothing is read-then-written.
 */
export interface CustomerRepository {
  /**
   * Stores the customer unless the id is taken, and in the same transaction puts `event` in the
   * outbox; false (and nothing written) when the id was taken.
   */
  createCustomer(customer: Customer, event: PendingEvent): Promise<boolean>;
  customerExists(id: string): Promise<boolean>;
  /** False when there was nothing to delete. */
  deleteCustomer(id: string): Promise<boolean>;

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
  /** A customer id's executions, newest first. */
  listExecutions(customerId: string, page: PageRequest): Promise<Page<Execution>>;
  /**
   * InsertId: the customer (unless the id is taken by someone else than this execution) and the
   * execution's `Inserted` outcome, in one transaction. Running it again after it committed
   * finds its own writes and answers `inserted` again.
   */
  insertForExecution(
    customer: Customer,
    executionId: string,
    output: unknown,
    now: string,
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
