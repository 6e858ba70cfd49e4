import { and, type Fragment, name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item, TransactItem } from '../../platform/dynamo/table.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { type ExecutionStatus, executionStatuses } from '../../platform/workflow/workflow.js';
import {
  type Branch,
  branches,
  type Customer,
  type Execution,
  type Outcome,
  type PendingEvent,
  type Registration,
  UNREGISTERED,
} from './customers.model.js';
import type {
  Backfilled,
  CreateOutcome,
  CustomerRepository,
  DeleteOutcome,
  ExecutionCounts,
  ExecutionFilter,
  InsertOutcome,
  ListedCustomer,
} from './customers.repository.js';

/*
 * Key design (table and indexes declared in customers.module.ts):
 *   customer   PK=CUSTOMER#<id>            SK=CUSTOMER   version, and deletedAt once deleted
 *                                                        GSI3PK=CUSTOMERS GSI3SK=<createdAt>#<id>
 *                                                        (while registered only: the list)
 *   outbox     PK=OUTBOX#<eventId>         SK=OUTBOX     GSI1PK=OUTBOX   GSI1SK=<createdAt>#<eventId>
 *   execution  PK=EXECUTION#<executionId>  SK=EXECUTION  GSI1PK=<status> GSI1SK=<startedAt>#<executionId>
 *                                                        (RUNNING: what the reconciler may close;
 *                                                        each status: its list)
 *                                                        GSI2PK=CUSTOMER#<id> GSI2SK=<startedAt>#<executionId>
 *                                                        GSI3PK=EXECUTIONS GSI3SK=<startedAt>#<executionId>
 * Whatever moves an item in or out of a list (a delete, a re-registration, a status change) moves
 * its index keys in the same write.
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
  /** The outbox and executions by status (RUNNING among them: the reconciler's). */
  pendingIndex: 'gsi1',
  byCustomerIndex: 'gsi2',
  /** The registered customers, and every execution. */
  listIndex: 'gsi3',
} as const;

const { customer: customerKey, outbox: outboxKey, execution: executionKey } = customersKeys;
const OUTBOX = 'OUTBOX';
const RUNNING = 'RUNNING';
const CUSTOMERS = 'CUSTOMERS';
const EXECUTIONS = 'EXECUTIONS';
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
        // Out of the list in the same write that makes the tombstone.
        update: x`SET deletedAt = ${now}, ${name('version')} = ${version + 1} REMOVE createdAt, createdBy, GSI3PK, GSI3SK`,
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
      GSI3PK: EXECUTIONS,
      GSI3SK: sort,
      ...(customerId === undefined
        ? {}
        : { customerId, GSI2PK: customerKey(customerId).PK, GSI2SK: sort }),
    });
  }

  async getExecution(executionId: string): Promise<Execution | undefined> {
    const item = await this.table.get(executionKey(executionId));
    return item ? toExecution(item) : undefined;
  }

  async listCustomers(page: PageRequest): Promise<Page<ListedCustomer>> {
    // Read from the index alone: an id deleted a moment ago may still show (it is eventually
    // consistent), which a list may do; the item itself answers GET /customers/{id}.
    return this.table.queryPage(
      'customers',
      {
        index: customersKeys.listIndex,
        key: x`GSI3PK = ${CUSTOMERS}`,
        forward: false,
        attributes: ['id', 'createdAt'],
      },
      page,
      (item) => ({ id: item.id as string, createdAt: item.createdAt as string }),
    );
  }

  listExecutions(filter: ExecutionFilter, page: PageRequest): Promise<Page<Execution>> {
    const { customerId, status, from, to } = filter;
    const [index, partition, sortKey, value] =
      customerId !== undefined
        ? [customersKeys.byCustomerIndex, 'GSI2PK', 'GSI2SK', customerKey(customerId).PK]
        : status !== undefined
          ? [customersKeys.pendingIndex, 'GSI1PK', 'GSI1SK', status]
          : [customersKeys.listIndex, 'GSI3PK', 'GSI3SK', EXECUTIONS];
    // Sort keys are <startedAt>#<executionId>: `to` sorts after every key that starts earlier and
    // before every key that starts at `to`, so BETWEEN and < keep [from, to).
    const started =
      from !== undefined && to !== undefined
        ? x` AND ${name(sortKey)} BETWEEN ${from} AND ${to}`
        : from !== undefined
          ? x` AND ${name(sortKey)} >= ${from}`
          : to !== undefined
            ? x` AND ${name(sortKey)} < ${to}`
            : x``;
    return this.executionPage(
      `executions:${customerId === undefined ? `status:${status ?? '*'}` : `id:${customerId}`}:${from ?? ''}:${to ?? ''}`,
      {
        index,
        key: x`${name(partition)} = ${value}${started}`,
        forward: false,
        attributes: ['executionId'],
      },
      page,
      status,
    );
  }

  async countExecutions(from: string, to: string): Promise<ExecutionCounts> {
    // Sort keys are <startedAt>#<executionId>: BETWEEN from AND to keeps [from, to).
    const started = (status: ExecutionStatus) => ({
      index: customersKeys.pendingIndex,
      key: x`GSI1PK = ${status} AND GSI1SK BETWEEN ${from} AND ${to}`,
    });
    const byBranch = Object.fromEntries(branches.map((branch) => [branch, 0])) as Record<
      Branch,
      number
    >;
    const counts = await Promise.all(
      executionStatuses.map(async (status) => {
        if (status !== 'SUCCEEDED') return this.table.count(started(status));
        let count = 0;
        for await (const items of this.table.queryPages({
          ...started(status),
          attributes: ['branch'],
        })) {
          for (const item of items) {
            const branch = item.branch as Branch;
            if (branch in byBranch) byBranch[branch] += 1;
          }
          count += items.length;
        }
        return count;
      }),
    );
    return {
      byStatus: Object.fromEntries(
        executionStatuses.map((status, i) => [status, counts[i] ?? 0]),
      ) as Record<ExecutionStatus, number>,
      byBranch,
    };
  }

  async backfillLists(pageSize: number): Promise<Backfilled> {
    const done = { customers: 0, executions: 0 };
    // What the previous release wrote lacks the list keys: live customers without GSI3PK, and
    // executions without GSI3PK (all) or without GSI1PK (closed ones left gsi1 then).
    const missing = x`(${name('type')} = ${'customer'} AND attribute_not_exists(deletedAt) AND attribute_not_exists(GSI3PK)) OR (${name('type')} = ${'execution'} AND (attribute_not_exists(GSI3PK) OR attribute_not_exists(GSI1PK)))`;
    for await (const items of this.table.scanPages({ filter: missing, pageSize })) {
      for (const kind of await Promise.all(items.map((item) => this.backfill(item)))) {
        if (kind) done[kind] += 1;
      }
    }
    return done;
  }

  /**
   * Adds the list keys to one item, conditioned on it being as it was read: an item a newer
   * write changed meanwhile (deleted, re-registered, ended) got its keys from that write.
   */
  private async backfill(item: Item): Promise<'customers' | 'executions' | undefined> {
    if (item.type === 'customer') {
      const id = item.id as string;
      const createdAt = (item.createdAt as string | undefined) ?? '';
      const result = await this.table.update(customerKey(id), {
        update: x`SET GSI3PK = ${CUSTOMERS}, GSI3SK = ${`${createdAt}#${id}`}`,
        condition: and(
          x`attribute_exists(PK) AND attribute_not_exists(deletedAt)`,
          x`attribute_not_exists(GSI3PK)`,
          item.createdAt === undefined
            ? x`attribute_not_exists(createdAt)`
            : x`createdAt = ${createdAt}`,
        ),
      });
      return result.ok ? 'customers' : undefined;
    }
    const executionId = item.executionId as string;
    const status = item.status as string;
    const sort = `${item.startedAt as string}#${executionId}`;
    const result = await this.table.update(executionKey(executionId), {
      update: x`SET GSI1PK = ${status}, GSI1SK = ${sort}, GSI3PK = ${EXECUTIONS}, GSI3SK = ${sort}`,
      condition: x`${name('status')} = ${status}`,
    });
    return result.ok ? 'executions' : undefined;
  }

  /** One page of execution ids from an index, then the records (of `status`, when given). */
  private async executionPage(
    scope: string,
    spec: Parameters<DynamoTable['queryPage']>[1],
    page: PageRequest,
    status: ExecutionStatus | undefined,
  ): Promise<Page<Execution>> {
    const refs = await this.table.queryPage(
      scope,
      spec,
      page,
      (item) => item.executionId as string,
    );
    // The index is eventually consistent: the records themselves, in one batch per page; one that
    // changed status since leaves this page (its new status lists it).
    const items = await this.table.batchGet(refs.items.map(executionKey));
    const byId = new Map(items.map((item) => [item.executionId as string, toExecution(item)]));
    return {
      items: refs.items.flatMap((id) => {
        const execution = byId.get(id);
        if (!execution || (status !== undefined && execution.status !== status)) return [];
        return [execution];
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

/** SET the outcome's fields; the record moves from RUNNING's list to its status's (GSI1SK stays). */
function outcomeUpdate(outcome: Outcome, now: string): Fragment {
  const fields =
    outcome.status === 'SUCCEEDED'
      ? x`, branch = ${outcome.branch}, ${name('output')} = ${outcome.output ?? null}`
      : x`, ${name('error')} = ${outcome.error}`;
  return x`SET ${name('status')} = ${outcome.status}, stoppedAt = ${now}${fields}, GSI1PK = ${outcome.status}`;
}

/** Still RUNNING, or already ended the same way (the task that ends it ran again). */
function endsOrEnded(outcome: Outcome): Fragment {
  const same =
    outcome.status === 'SUCCEEDED'
      ? x`(${name('status')} = ${outcome.status} AND branch = ${outcome.branch})`
      : x`${name('status')} = ${outcome.status}`;
  return x`${name('status')} = ${RUNNING} OR ${same}`;
}

/** A registered customer, in the list (a re-registration puts it back, at its new time). */
function customerItem(customer: Customer): Item {
  return {
    ...customerKey(customer.id),
    type: 'customer',
    ...customer,
    GSI3PK: CUSTOMERS,
    GSI3SK: `${customer.createdAt}#${customer.id}`,
  };
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
