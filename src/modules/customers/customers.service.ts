import { isDependencyUnavailable } from '../../platform/dynamo/errors.js';
import type { EventBus } from '../../platform/event-bus/bus.js';
import type { Logger } from '../../platform/logger.js';
import type { ModuleMetrics } from '../../platform/metrics/metrics.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type { Workflows } from '../../platform/workflow/workflow.js';
import { CustomersErrors } from './customers.errors.js';
import {
  CUSTOMER_CREATED,
  CUSTOMER_WORKFLOW,
  type Execution,
  type PendingEvent,
  UNREGISTERED,
} from './customers.model.js';
import type {
  Backfilled,
  CustomerRepository,
  ExecutionCounts,
  ExecutionFilter,
  ListedCustomer,
} from './customers.repository.js';
import { closing, customerEvent } from './customers.rules.js';

export { CUSTOMER_WORKFLOW };

/** What the schedule trigger starts the workflow with (docs/spec.md#customer-workflow). */
export const SCHEDULED_CHECK_ID = 'scheduled-check';

/** PutEvents' batch size, and how many events one sweep handles at most. */
const OUTBOX_BATCH = 10;
const OUTBOX_SWEEP_LIMIT = 1000;

/**
 * Tries of one PUT: the first (the id is new), one more per DELETE it finds; only ids created
 * and deleted over and over while it tries run out of them (503). A DELETE tries as often, once
 * per version it finds.
 */
const CREATE_ATTEMPTS = 4;

/** The days the execution stats cover when no `from` is given. */
export const STATS_DEFAULT_DAYS = 14;

/** A RUNNING record younger than this is not worth asking the engine about on a schedule. */
export const RECONCILE_AFTER_SECONDS = 60;

interface Deps {
  readonly repository: CustomerRepository;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly logger: Logger;
  /**
   * CustomerCreated, CustomerEventDeferred (left in the outbox), OutboxEventsPublished,
   * WorkflowSubmitted, ExecutionsClosedByReconciler.
   */
  readonly metrics: ModuleMetrics;
}

/**
 * The customer-ID registry. Creating a customer stores it together with its
 * `CustomerCreated` event in an outbox (one transaction), then publishes the event: the bus is
 * another system, so a failure there must neither undo the customer nor lose the event. When the
 * publish fails the PUT still answers 201 (the customer exists) and the outbox sweep publishes it
 * later; the event is delivered at least once. Creates and deletes also commit their domain
 * events (customer.created, customer.deleted) with them, through the platform's outbox.
 */
export class CustomersService {
  constructor(
    private readonly deps: Deps & {
      readonly events: () => EventBus;
      /** An outbox event younger than this is left to the request that created it. */
      readonly outboxGraceSeconds: number;
      /** How many items the list backfill reads per Scan call. */
      readonly backfillPageSize: number;
      readonly outbox: Outbox;
    },
  ) {}

  /**
   * Registers an id; `created` is false when it was registered already. The id takes the next
   * version, which its CustomerCreated event carries: the workflow run it starts may then not
   * register the id again once a DELETE (a later version) has removed it.
   */
  async register(id: string): Promise<{ created: boolean }> {
    const now = this.deps.clock().toISOString();
    // Most ids are new: the first attempt assumes so and reads nothing. A failed condition
    // answers with the entry as it is, so a deleted id costs one more attempt, not a read.
    let previous = UNREGISTERED;
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      const version = previous.version + 1;
      const event: PendingEvent = {
        eventId: this.deps.newId(),
        ...CUSTOMER_CREATED,
        detail: { id, version },
        createdAt: now,
      };
      const created = this.domainEvent(id, version, true, now);
      const outcome = await this.deps.repository.createCustomer(
        { id, createdAt: now, createdBy: 'api', version },
        previous.version,
        event,
        [created],
      );
      if (outcome.created) {
        this.deps.metrics.count('CustomerCreated');
        await this.deliver([event]);
        await this.deps.outbox.announce([created]);
        return { created: true };
      }
      if (outcome.current.live) return { created: false };
      // Deleted (again) meanwhile: decide again on the version it has now.
      previous = outcome.current;
    }
    throw CustomersErrors.registryBusy(id);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.deps.repository.registration(id)).live;
  }

  /** The registered ids, newest registration first. */
  list(page: PageRequest): Promise<Page<ListedCustomer>> {
    return this.deps.repository.listCustomers(page);
  }

  /**
   * Puts customers and execution records of the previous release into the lists (a migration:
   * at local start-up and on its schedule until turned off); returns how many it moved.
   */
  async backfillLists(): Promise<Backfilled> {
    const done = await this.deps.repository.backfillLists(this.deps.backfillPageSize);
    if (done.customers + done.executions > 0) {
      this.deps.logger.info('backfilled list keys', { ...done });
    }
    return done;
  }

  /**
   * Deletes a registered id: its entry becomes a tombstone one version higher, which its
   * customer.deleted event carries. The version is read first, so that the event committed with
   * the delete numbers it; a create and a delete in between make the commit fail, and it decides
   * again on the entry as the failure returns it.
   */
  async remove(id: string): Promise<void> {
    const now = this.deps.clock().toISOString();
    let current = await this.deps.repository.registration(id);
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      if (!current.live) throw CustomersErrors.customerNotFound(id);
      const deleted = this.domainEvent(id, current.version + 1, false, now);
      const outcome = await this.deps.repository.deleteCustomer(id, current.version, now, [
        deleted,
      ]);
      if (outcome.deleted) {
        await this.deps.outbox.announce([deleted]);
        return;
      }
      current = outcome.current;
    }
    throw CustomersErrors.registryBusy(id);
  }

  /**
   * Publishes outbox events older than the grace period (their request's own publish failed, or
   * the process stopped in between); returns how many. A bus that still refuses fails the run.
   */
  async publishPending(): Promise<number> {
    const cutoff = new Date(this.deps.clock().getTime() - this.deps.outboxGraceSeconds * 1000);
    let published = 0;
    while (published < OUTBOX_SWEEP_LIMIT) {
      const events = await this.deps.repository.pendingEvents(cutoff.toISOString(), OUTBOX_BATCH);
      if (events.length === 0) break;
      await this.deps.events().publish(events);
      await this.deps.repository.removeEvents(events.map((e) => e.eventId));
      published += events.length;
      if (events.length < OUTBOX_BATCH) break;
    }
    this.deps.metrics.count('OutboxEventsPublished', published);
    return published;
  }

  private domainEvent(id: string, version: number, live: boolean, now: string): DomainEvent {
    const { type, aggregate, data } = customerEvent(id, version, live);
    return this.deps.outbox.event(type, aggregate, data, now);
  }

  private async deliver(events: readonly PendingEvent[]): Promise<void> {
    try {
      await this.deps.events().publish(events);
      await this.deps.repository.removeEvents(events.map((e) => e.eventId));
    } catch (error) {
      // Published or not, the event is still in the outbox: the sweep sends it (again).
      this.deps.metrics.count('CustomerEventDeferred', events.length);
      this.deps.logger.warn('event left in the outbox for the sweep', {
        eventIds: events.map((e) => e.eventId),
        error,
      });
    }
  }
}

/**
 * The workflow as the API and the schedule see it: starting executions, and reading the records
 * the workflow's tasks keep (customers.steps.ts), the same locally and on AWS.
 */
export class WorkflowService {
  constructor(private readonly deps: Deps & { readonly workflows: () => Workflows }) {}

  /**
   * Starts the workflow for `id` and records the execution (its first task records it too,
   * whichever comes first), so it can be read as soon as this answers.
   */
  async submit(id: string): Promise<string> {
    const executionId = this.deps.newId();
    const startedAt = this.deps.clock().toISOString();
    try {
      await this.deps.workflows().start(CUSTOMER_WORKFLOW, { id }, { name: executionId });
    } catch (error) {
      if (isDependencyUnavailable(error)) throw CustomersErrors.workflowUnavailable(error);
      throw error;
    }
    this.deps.metrics.count('WorkflowSubmitted');
    try {
      await this.deps.repository.recordStarted({
        executionId,
        customerId: id,
        input: { id },
        startedAt,
      });
    } catch (error) {
      // It started: its ValidateExists task records it in a moment.
      this.deps.logger.warn('execution started but not recorded yet', { executionId, error });
    }
    return executionId;
  }

  async getExecution(executionId: string): Promise<Execution> {
    const execution = await this.deps.repository.getExecution(executionId);
    if (!execution) throw CustomersErrors.executionNotFound(executionId);
    return execution;
  }

  listExecutions(filter: ExecutionFilter, page: PageRequest): Promise<Page<Execution>> {
    return this.deps.repository.listExecutions(filter, page);
  }

  /**
   * The executions started in `[from, to)` (ISO 8601 UTC; by default the 14 days up to now) by
   * status, the successful ones by branch: what the operator's dashboard charts.
   */
  async executionStats(range: {
    from?: string | undefined;
    to?: string | undefined;
  }): Promise<ExecutionCounts & { from: string; to: string; total: number }> {
    const now = this.deps.clock().toISOString();
    // A `from` still to come, without `to`: an empty range at `from`, nothing started in it.
    const to = range.to ?? (range.from !== undefined && range.from > now ? range.from : now);
    const from =
      range.from ?? new Date(Date.parse(to) - STATS_DEFAULT_DAYS * 86_400_000).toISOString();
    const counts = await this.deps.repository.countExecutions(from, to);
    const total = Object.values(counts.byStatus).reduce((sum, n) => sum + n, 0);
    return { from, to, total, ...counts };
  }

  /** The scheduled run (the schedule trigger). */
  scheduledCheck(): Promise<string> {
    return this.submit(SCHEDULED_CHECK_ID);
  }

  /**
   * Closes records left RUNNING whose execution is over (or unknown to the engine: locally, lost
   * with a process that stopped), as the engine describes it. `all` asks about every RUNNING
   * record (local start-up: nothing of this process runs yet), else only those older than a
   * minute. Returns how many it closed.
   */
  async reconcile(options: { all: boolean }): Promise<number> {
    const now = this.deps.clock();
    const before = options.all ? now : new Date(now.getTime() - RECONCILE_AFTER_SECONDS * 1000);
    let closed = 0;
    for await (const page of this.deps.repository.runningExecutions(before.toISOString())) {
      const described = await Promise.all(
        page.map((e) => this.deps.workflows().describe(CUSTOMER_WORKFLOW, e.executionId)),
      );
      const outcomes = page.flatMap((execution, i) => {
        const outcome = closing(described[i]);
        return outcome ? [{ executionId: execution.executionId, outcome }] : [];
      });
      closed += await this.deps.repository.closeExecutions(outcomes, now.toISOString());
    }
    if (closed > 0) {
      this.deps.metrics.count('ExecutionsClosedByReconciler', closed);
      this.deps.logger.info('closed executions left RUNNING', { closed });
    }
    return closed;
  }
}
