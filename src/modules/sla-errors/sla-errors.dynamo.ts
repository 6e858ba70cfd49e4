import { and, name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item } from '../../platform/dynamo/table.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { IDEMPOTENCY_WINDOW_SECONDS } from '../../platform/request-key.js';
import { SlaErrorsErrors } from './sla-errors.errors.js';
import type { RequestKey, Severity, SlaError, SlaErrorFilter } from './sla-errors.model.js';
import type { SlaErrorRepository } from './sla-errors.repository.js';

/*
 * Key design (table and indexes declared in sla-errors.module.ts):
 *   record        PK=ERROR#<id>          GSI1PK=SLA_ERRORS, GSI2PK=FILE#<fileName>,
 *                                        GSI1SK=GSI2SK=<receivedAt>#<id>
 *   request mark  PK=REQUEST#<requestKey> id, expiresAt (TTL: the Idempotency-Key window)
 * Timestamps are normalised ISO 8601 UTC, so the sort keys order by time, and `[from, to)` is one
 * key condition: `BETWEEN from AND to` on `<receivedAt>#<id>` takes a record received exactly at
 * `from` (its key sorts after the bare timestamp) and leaves one received exactly at `to`.
 */

export const slaErrorsKeys = { byTimeIndex: 'gsi1', byFileIndex: 'gsi2' } as const;

const recordKey = (id: string) => ({ PK: `ERROR#${id}` });
const requestKeyItem = (requestKey: string) => ({ PK: `REQUEST#${requestKey}` });

export class DynamoSlaErrorRepository implements SlaErrorRepository {
  constructor(
    private readonly table: DynamoTable,
    private readonly outbox: Outbox,
  ) {}

  async record(
    error: SlaError,
    requestKey: RequestKey,
    events: readonly DomainEvent[],
  ): Promise<SlaError> {
    const item = {
      ...recordKey(error.id),
      type: 'sla-error',
      ...error,
      GSI1PK: 'SLA_ERRORS',
      GSI1SK: `${error.receivedAt}#${error.id}`,
      GSI2PK: `FILE#${error.fileName}`,
      GSI2SK: `${error.receivedAt}#${error.id}`,
    };
    const eventItems = events.map((event) => this.outbox.put(event));
    if (requestKey === undefined) {
      // A fresh UUIDv7 is never taken: a failed condition here is a fault, not an answer.
      const outcome = await this.table.transact(
        [this.table.put(item, x`attribute_not_exists(PK)`), ...eventItems],
        { onContention: SlaErrorsErrors.busy },
      );
      if (!outcome.ok) throw cancelled(outcome.reasons);
      return error;
    }
    // The record and the mark of the request that made it, together: a retry finds the mark.
    const expiresAt = Math.floor(Date.parse(error.createdAt) / 1000) + IDEMPOTENCY_WINDOW_SECONDS;
    const outcome = await this.table.transact(
      [
        this.table.put(item, x`attribute_not_exists(PK)`),
        this.table.put(
          { ...requestKeyItem(requestKey), id: error.id, expiresAt },
          x`attribute_not_exists(PK)`,
        ),
        ...eventItems,
      ],
      // The same request, twice at the same moment: retrying later finds the first's record.
      { onContention: SlaErrorsErrors.busy },
    );
    if (outcome.ok) return error;
    // Only the mark's condition (item 1) is an answer: the request was made before.
    if (outcome.reasons[1] !== 'ConditionalCheckFailed') throw cancelled(outcome.reasons);
    const earlier = outcome.current[1]?.id;
    const existing = typeof earlier === 'string' ? await this.get(earlier) : undefined;
    if (!existing) throw new Error('the request mark names no record');
    return existing;
  }

  async get(id: string): Promise<SlaError | undefined> {
    const item = await this.table.get(recordKey(id));
    return item && item.type === 'sla-error' ? toSlaError(item) : undefined;
  }

  list(filter: SlaErrorFilter, page: PageRequest): Promise<Page<SlaError>> {
    const { fileName, from, to } = filter;
    const [index, partition, sort] = fileName
      ? [slaErrorsKeys.byFileIndex, x`GSI2PK = ${`FILE#${fileName}`}`, name('GSI2SK')]
      : [slaErrorsKeys.byTimeIndex, x`GSI1PK = ${'SLA_ERRORS'}`, name('GSI1SK')];
    const range =
      from && to
        ? x`${sort} BETWEEN ${from} AND ${to}`
        : from
          ? x`${sort} >= ${from}`
          : to
            ? x`${sort} < ${to}`
            : undefined;
    return this.table.queryPage(
      `sla-errors:${JSON.stringify([fileName ?? null, from ?? null, to ?? null])}`,
      { index, key: and(partition, range), forward: false },
      page,
      toSlaError,
    );
  }

  async *severities(
    from: string,
    to: string,
  ): AsyncGenerator<Pick<SlaError, 'receivedAt' | 'severity'>[]> {
    for await (const items of this.table.queryPages({
      index: slaErrorsKeys.byTimeIndex,
      key: x`GSI1PK = ${'SLA_ERRORS'} AND GSI1SK BETWEEN ${from} AND ${to}`,
      attributes: ['receivedAt', 'severity'],
    })) {
      yield items.map((item) => ({
        receivedAt: item.receivedAt as string,
        severity: item.severity as Severity,
      }));
    }
  }
}

const cancelled = (reasons: readonly string[]) =>
  new Error(`sla error commit cancelled: ${reasons.join(', ')}`);

function toSlaError(item: Item): SlaError {
  return {
    id: item.id as string,
    fileName: item.fileName as string,
    slaDeadline: item.slaDeadline as string,
    receivedAt: item.receivedAt as string,
    errorCode: item.errorCode as string,
    message: item.message as string,
    severity: item.severity as Severity,
    source: item.source as string,
    submittedBy: item.submittedBy as string,
    createdAt: item.createdAt as string,
  };
}
