import type { ModuleMetrics } from '../../platform/metrics/metrics.js';
import type { Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { SlaErrorsErrors } from './sla-errors.errors.js';
import {
  type RequestKey,
  type Severity,
  type SlaError,
  type SlaErrorFilter,
  slaErrorEvents,
} from './sla-errors.model.js';
import type { SlaErrorRepository } from './sla-errors.repository.js';

export interface SlaErrorsServiceDeps {
  readonly repository: SlaErrorRepository;
  readonly newId: () => string;
  readonly clock: () => Date;
  /** SlaErrorRecorded, and per severity SlaErrorRecordedLow … SlaErrorRecordedCritical. */
  readonly metrics: ModuleMetrics;
  /** sla_error.recorded, committed with the record. */
  readonly outbox: Outbox;
}

export interface NewSlaError {
  readonly fileName: string;
  /** Any ISO 8601 date-time; stored as UTC. */
  readonly slaDeadline: string;
  readonly receivedAt?: string | undefined;
  readonly errorCode: string;
  readonly message: string;
  readonly severity: Severity;
  readonly source: string;
}

/** Normalised ISO 8601 UTC, so stored timestamps sort as text in time order. */
const utc = (timestamp: string) => new Date(timestamp).toISOString();

/** The count of records of one severity: `critical` → `SlaErrorRecordedCritical`. */
export const severityMetric = (severity: Severity): string =>
  `SlaErrorRecorded${severity.charAt(0).toUpperCase()}${severity.slice(1)}`;

/** Files SLA error records and reads them back. */
export class SlaErrorsService {
  constructor(private readonly deps: SlaErrorsServiceDeps) {}

  /**
   * Files a record submitted by `subject` (a token's `sub`), with its sla_error.recorded event.
   * `receivedAt` defaults to now. A retry of the same request (same request key) gets the first
   * record back, and no second event.
   */
  async recordSlaError(
    input: NewSlaError,
    subject: string | undefined,
    requestKey?: RequestKey,
  ): Promise<SlaError> {
    if (!subject) throw SlaErrorsErrors.noSubject();
    const now = this.deps.clock().toISOString();
    const id = this.deps.newId();
    const record: SlaError = {
      id,
      fileName: input.fileName,
      slaDeadline: utc(input.slaDeadline),
      receivedAt: input.receivedAt ? utc(input.receivedAt) : now,
      errorCode: input.errorCode,
      message: input.message,
      severity: input.severity,
      source: input.source,
      submittedBy: subject,
      createdAt: now,
    };
    // The record is what GET /sla-errors/{id} answers, as is; it is never changed after.
    const event = this.deps.outbox.event(
      slaErrorEvents.recorded,
      { type: slaErrorEvents.aggregate, id, sequence: 1 },
      record,
      now,
    );
    const recorded = await this.deps.repository.record(record, requestKey, [event]);
    // A retry of an earlier request gets that record back: counted and announced once, when it
    // was recorded.
    if (recorded.id === id) {
      this.deps.metrics.count('SlaErrorRecorded');
      this.deps.metrics.count(severityMetric(input.severity));
      await this.deps.outbox.announce([event]);
    }
    return recorded;
  }

  async getSlaError(id: string): Promise<SlaError> {
    const found = await this.deps.repository.get(id);
    if (!found) throw SlaErrorsErrors.notFound(id);
    return found;
  }

  /** Newest first (by `receivedAt`), optionally one file's, received in [from, to). */
  listSlaErrors(filter: SlaErrorFilter, page: PageRequest): Promise<Page<SlaError>> {
    const from = filter.from ? utc(filter.from) : undefined;
    const to = filter.to ? utc(filter.to) : undefined;
    if (from && to && from >= to) throw SlaErrorsErrors.emptyRange(from, to);
    return this.deps.repository.list({ fileName: filter.fileName, from, to }, page);
  }
}
