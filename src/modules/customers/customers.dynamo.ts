import { type Fragment, name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item, TransactItem } from '../../platform/dynamo/table.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type { ExecutionStatus } from '../../platform/workflow/workflow.js';
import {
  type Customer,
  type Execution,
  type Outcome,
  type PendingEvent,
  type Registration,
  UNREGISTERED,
} from './customers.model.js';
import type {
  CreateOutcome,
  CustomerRepository,
  DeleteOutcome,
  InsertOutcome,
} from './customers.repository.js';

/*
 * Key design (table and indexes declared in customers.module.ts):
 *   customer   PK=CUSTOMER#<id>            SK=CUSTOMER   version, and deletedAt once deleted
 *   outbox     PK=OUTBOX#<eventId>         SK=OUTBOX     GSI1PK=OUTBOX   GSI1SK=<createdAt>#<eventId>
 *   execution  PK=EXECUTION#<executionId>  SK=EXECUTION  GSI1PK=RUNNING  GSI1SK=<startedAt>#<executionId>
 *                                                        (while RUNNING only: a sparse index of
 *                                                        what may need closing)
 *                                                        GSI2PK=CUSTOMER#<id> GSI2SK=<startedAt>#<executionId>
 * A customer is created together with its CustomerCreated event in the outbox (one transaction),
 * so the event exists exactly when the customer was created; the outbox item goes once the bus
 * has accepted the event. Every create and delete also commits its domain event
 * (customer.created, customer.deleted) into the platform's outbox in the same transaction.
 *
 * A DELETE leaves the customer item as a tombstone (`deletedAt`, no createdAt/createdBy) whose
 * `version` is one more than the item's: creates and deletes number the decisions on an id, and
 * InsertId only inserts over a tombstone no newer than the version its run was started for.
 * Items of the previous release have no version and no tombstones: a missing version reads as 0.
 * Tombstones are kept (a run can start long after its event, from the outbox).
 */

/** Keys and index names, exported for the benchmark's direct-write baseline. */
export const customersKeys = {
  customer: (id: string) => ({ PK: `CUSTOMER#${id}`, SK: 'CUSTOMER' }),
  outbox: (eventId: string) => ({ PK: `OUTBOX#${eventId}`, SK: 'OUTBOX' }),
  execution: (executionId: string) => ({ PK: `EXECUTION#${executionId}`, SK: 'EXECUTION' }),
  pendingIndex: 'gsi1',
  byCustomerIndex: 'gsi2',
} as const;

const { customer: customerKey, outbox: outboxKey, execution: executionKey } = customersKeys;
const OUTBOX = 'OUTBOX';
const RUNNING = 'RUNNING';
/** DynamoDB's limit per transaction is 100 items; smaller batches fail less often together. */
const CLOSE_BATCH = 25;

export class DynamoCustomerRepository implements CustomerRepository {
  constructor(
    private readonly table: DynamoTable,
    private readonly outbox: Outbox,
  ) {}

  async registration(id: string): Promise<Registration> {
    return toRegistration(await this.table.get(customerKey(id)));
  }

  async createCustomer(
    customer: Customer,
    previousVersion: number,
    event: PendingEvent,
    domainEvents: readonly DomainEvent[],
  ): Promise<CreateOutcome> {
    const outcome = await this.table.transact([
      // Compared with the version it was decided on, so a DELETE and a PUT in between (which
      // moved the version on) make this fail instead of writing an older version over theirs.
      this.table.put(
        customerItem(customer),
        x`attribute_not_exists(PK) OR (attribute_exists(deletedAt) AND ${name('version')} = ${previousVersion})`,
      ),
      this.table.put(outboxItem(event)),
      ...this.commit(domainEvents),
    ]);
    if (outcome.ok) return { created: true };
    // The customer's put (item 0) is the only condition of the change: anything else is a fault.
    if (outcome.reasons[0] !== 'ConditionalCheckFailed') throw cancelled(outcome.reasons);
    return { created: false, current: toRegistration(outcome.current[0]) };
  }

  async deleteCustomer(
    id: string,
    version: number,
    now: string,
    domainEvents: readonly DomainEvent[],
  ): Promise<DeleteOutcome> {
    // At the version it was decided on (its event carries the next one): a DELETE and a PUT in
    // between make this fail and decide again. Items of the previous release have no version (0).
    const atVersion =
      version === 0
        ? x`(attribute_not_exists(${name('version')}) OR ${name('version')} = ${0})`
        : x`${name('version')} = ${version}`;
    const outcome = await this.table.transact([
      this.table.updateItem(customerKey(id), {
        update: x`SET deletedAt = ${now}, ${name('version')} = ${version + 1} REMOVE createdAt, createdBy`,
        condition: x`attribute_exists(PK) AND attribute_not_exists(deletedAt) AND ${atVersion}`,
      }),
      ...this.commit(domainEvents),
    ]);
    if (outcome.ok) return { deleted: true };
    if (outcome.reasons[0] !== 'ConditionalCheckFailed') throw cancelled(outcome.reasons);
    return { deleted: false, current: toRegistration(outcome.current[0]) };
  }

  async pendingEvents(before: string, limit: number): Promise<PendingEvent[]> {
    for await (const items of this.table.queryPages(
      { index: customersKeys.pendingIndex, key: x`GSI1PK = ${OUTBOX} AND GSI1SK < ${before}` },
      limit,
    )) {
      return items.map(toPendingEvent);
    }
    return [];
  }

  removeEvents(eventIds: readonly string[]): Promise<void> {
    return this.table.batchDelete(eventIds.map(outboxKey));
  }

  async recordStarted(
    execution: Pick<Execution, 'executionId' | 'customerId' | 'input' | 'startedAt'>,
  ): Promise<void> {
    const { executionId, customerId, startedAt } = execution;
    const sort = `${startedAt}#${executionId}`;
    await this.table.putIfAbsent({
      ...executionKey(executionId),
      type: 'execution',
      executionId,
      status: RUNNING,
      input: execution.input,
      startedAt,
      GSI1PK: RUNNING,
      GSI1SK: sort,
      ...(customerId === undefined
        ? {}
        : { customerId, GSI2PK: customerKey(customerId).PK, GSI2SK: sort }),
    });
  }

  async getExecution(executionId: string): Promise<Execution | undefined> {
    const item = await this.table.get(executionKey(executionId));
    return item ? toExecution(item) : undefined;
  }

  async listExecutions(customerId: string, page: PageRequest): Promise<Page<Execution>> {
    const refs = await this.table.queryPage(
      `executions:${customerId}`,
      {
        index: customersKeys.byCustomerIndex,
        key: x`GSI2PK = ${customerKey(customerId).PK}`,
        forward: false,
        attributes: ['executionId'],
      },
      page,
      (item) => item.executionId as string,
    );
    // The index is eventually consistent: the records themselves, in one batch per page.
    const items = await this.table.batchGet(refs.items.map(executionKey));
    const byId = new Map(items.map((item) => [item.executionId as string, toExecution(item)]));
    return {
      items: refs.items.flatMap((id) => {
        const execution = byId.get(id);
        return execution ? [execution] : [];
      }),
      nextCursor: refs.nextCursor,
    };
  }

  async insertForExecution(
    customer: Omit<Customer, 'version'>,
    basis: number,
    executionId: string,
    output: unknown,
    now: string,
    domainEvents: readonly DomainEvent[],
  ): Promise<InsertOutcome> {
    const outcome: Outcome = { status: 'SUCCEEDED', branch: 'Inserted', output };
    // The id is free: never registered, or deleted no later than the version the run was started
    // for (a DELETE after that is the newer decision and stands).
    const deletedBefore = x`(attribute_exists(deletedAt) AND ${name('version')} <= ${basis})`;
    const result = await this.table.transact([
      this.table.put(
        customerItem({ ...customer, version: basis + 1 }),
        x`attribute_not_exists(PK) OR ${deletedBefore}`,
      ),
      this.closeItem(executionId, outcome, now),
      ...this.commit(domainEvents),
    ]);
    if (result.ok) return 'inserted';
    if (result.reasons[0] === 'ConditionalCheckFailed') {
      const current = result.current[0];
      // This very execution registered it (a retry after the commit went through) and nobody
      // deleted it since: its outcome was committed with it, and its event too. Nothing to write.
      if (current && current.deletedAt === undefined && current.createdBy === executionId) {
        return 'inserted-before';
      }
      return toRegistration(current).live ? 'exists' : 'superseded';
    }
    if (result.reasons[1] === 'ConditionalCheckFailed') return 'closed';
    throw cancelled(result.reasons);
  }

  async recordOutcome(executionId: string, outcome: Outcome, now: string): Promise<boolean> {
    const result = await this.table.update(executionKey(executionId), {
      update: outcomeUpdate(outcome, now),
      condition: endsOrEnded(outcome),
    });
    return result.ok;
  }

  async *runningExecutions(before: string): AsyncIterable<Execution[]> {
    for await (const items of this.table.queryPages({
      index: customersKeys.pendingIndex,
      key: x`GSI1PK = ${RUNNING} AND GSI1SK < ${before}`,
    })) {
      if (items.length > 0) yield items.map(toExecution);
    }
  }

  async closeExecutions(
    closed: readonly { executionId: string; outcome: Outcome }[],
    now: string,
  ): Promise<number> {
    let count = 0;
    for (let i = 0; i < closed.length; i += CLOSE_BATCH) {
      let batch = closed.slice(i, i + CLOSE_BATCH);
      // One transaction per batch; records that ended meanwhile fail their condition and are
      // left out of a second attempt (they ended on their own, which is what we wanted).
      for (let attempt = 0; attempt < 2 && batch.length > 0; attempt++) {
        const result = await this.table.transact(
          batch.map(({ executionId, outcome }) =>
            this.table.updateItem(executionKey(executionId), {
              update: outcomeUpdate(outcome, now),
              condition: x`${name('status')} = ${RUNNING}`,
            }),
          ),
        );
        if (result.ok) {
          count += batch.length;
          break;
        }
        batch = batch.filter((_, k) => result.reasons[k] !== 'ConditionalCheckFailed');
      }
    }
    return count;
  }

  /** The outbox items of `events`, after the change's own items (whose indexes are read). */
  private commit(events: readonly DomainEvent[]): TransactItem[] {
    return events.map((event) => this.outbox.put(event));
  }

  private closeItem(executionId: string, outcome: Outcome, now: string): TransactItem {
    return this.table.updateItem(executionKey(executionId), {
      update: outcomeUpdate(outcome, now),
      condition: endsOrEnded(outcome),
    });
  }
}

/** A cancellation no condition of the change explains (a domain event not written). */
const cancelled = (reasons: readonly string[]) =>
  new Error(`customer commit cancelled: ${reasons.join(', ')}`);

/** SET the outcome's fields; the record leaves the RUNNING index. */
function outcomeUpdate(outcome: Outcome, now: string): Fragment {
  const fields =
    outcome.status === 'SUCCEEDED'
      ? x`, branch = ${outcome.branch}, ${name('output')} = ${outcome.output ?? null}`
      : x`, ${name('error')} = ${outcome.error}`;
  return x`SET ${name('status')} = ${outcome.status}, stoppedAt = ${now}${fields} REMOVE GSI1PK, GSI1SK`;
}

/** Still RUNNING, or already ended the same way (the task that ends it ran again). */
function endsOrEnded(outcome: Outcome): Fragment {
  const same =
    outcome.status === 'SUCCEEDED'
      ? x`(${name('status')} = ${outcome.status} AND branch = ${outcome.branch})`
      : x`${name('status')} = ${outcome.status}`;
  return x`${name('status')} = ${RUNNING} OR ${same}`;
}

function customerItem(customer: Customer): Item {
  return { ...customerKey(customer.id), type: 'customer', ...customer };
}

/** The entry as it stands; the previous release's items have no version (0) and are live. */
function toRegistration(item: Item | undefined): Registration {
  if (!item) return UNREGISTERED;
  return { live: item.deletedAt === undefined, version: (item.version as number | undefined) ?? 0 };
}

function outboxItem(event: PendingEvent): Item {
  return {
    ...outboxKey(event.eventId),
    type: 'outbox',
    ...event,
    GSI1PK: OUTBOX,
    GSI1SK: `${event.createdAt}#${event.eventId}`,
  };
}

function toPendingEvent(item: Item): PendingEvent {
  const detail = item.detail as Record<string, unknown>;
  return {
    eventId: item.eventId as string,
    source: item.source as string,
    detailType: item.detailType as string,
    // The previous release's events: their PUT created a version-less item, which is version 0,
    // so their run may not insert over a tombstone a DELETE left since.
    detail: detail.version === undefined ? { ...detail, version: 0 } : detail,
    createdAt: item.createdAt as string,
  };
}

function toExecution(item: Item): Execution {
  return {
    executionId: item.executionId as string,
    customerId: item.customerId as string | undefined,
    status: item.status as ExecutionStatus,
    input: item.input ?? null,
    output: item.output ?? null,
    branch: item.branch as Execution['branch'],
    error: item.error as Execution['error'],
    startedAt: item.startedAt as string,
    stoppedAt: item.stoppedAt as string | undefined,
  };
}
