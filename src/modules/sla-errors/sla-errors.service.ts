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

/** One UTC day's records, by severity. */
export type DayCounts = { readonly day: string; readonly total: number } & Readonly<
  Record<Severity, number>
>;

/** SLA errors per UTC day of receipt and severity over `[from, to)` (days, `YYYY-MM-DD`). */
export interface SlaErrorStats {
  readonly from: string;
  readonly to: string;
  readonly days: readonly DayCounts[];
  readonly totals: Readonly<Record<Severity, number>>;
  readonly total: number;
}

/** The days a stats request covers without `from`: this many, up to today. */
export const STATS_DEFAULT_DAYS = 14;
/** The most days one stats request covers. */
export const STATS_MAX_DAYS = 366;
const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

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

  /**
   * Records received on each UTC day of `[from, to)`, by severity, read from the index by time
   * (the records in the range only). Without `to`, up to today; without `from`, the
   * STATS_DEFAULT_DAYS before `to` (or with only `from`, up to STATS_MAX_DAYS after it).
   */
  async stats(range: {
    from?: string | undefined;
    to?: string | undefined;
  }): Promise<SlaErrorStats> {
    const tomorrow = Math.floor(this.deps.clock().getTime() / DAY_MS) * DAY_MS + DAY_MS;
    const asked = (day: string | undefined) =>
      day ? Date.parse(`${day}T00:00:00.000Z`) : undefined;
    let from = asked(range.from);
    let to = asked(range.to);
    if (from === undefined) {
      to ??= tomorrow;
      from = to - STATS_DEFAULT_DAYS * DAY_MS;
    } else {
      to ??= Math.max(from + DAY_MS, Math.min(tomorrow, from + STATS_MAX_DAYS * DAY_MS));
    }
    if (from >= to) throw SlaErrorsErrors.emptyRange(dayOf(from), dayOf(to));
    const zero = (): Record<Severity, number> => ({ low: 0, medium: 0, high: 0, critical: 0 });
    const byDay = new Map<string, Record<Severity, number>>();
    for (let day = from; day < to; day += DAY_MS) byDay.set(dayOf(day), zero());
    const totals = zero();
    for await (const page of this.deps.repository.severities(
      new Date(from).toISOString(),
      new Date(to).toISOString(),
    )) {
      for (const { receivedAt, severity } of page) {
        const counts = byDay.get(receivedAt.slice(0, 10));
        if (!counts) continue;
        counts[severity] += 1;
        totals[severity] += 1;
      }
    }
    const sum = (counts: Record<Severity, number>) =>
      counts.low + counts.medium + counts.high + counts.critical;
    return {
      from: dayOf(from),
      to: dayOf(to),
      days: [...byDay].map(([day, counts]) => ({ day, ...counts, total: sum(counts) })),
      totals,
      total: sum(totals),
    };
  }

  /** Newest first (by `receivedAt`), optionally one file's, received in [from, to). */
  listSlaErrors(filter: SlaErrorFilter, page: PageRequest): Promise<Page<SlaError>> {
    const from = filter.from ? utc(filter.from) : undefined;
    const to = filter.to ? utc(filter.to) : undefined;
    if (from && to && from >= to) throw SlaErrorsErrors.emptyRange(from, to);
    return this.deps.repository.list({ fileName: filter.fileName, from, to }, page);
  }
}
