import type { DomainEvent } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type { RequestKey, SlaError, SlaErrorFilter } from './sla-errors.model.js';

/**
 * The SLA errors port. Lists are newest first (by `receivedAt`) through an index by time or by
 * file name, never a scan.
 */
export interface SlaErrorRepository {
  /**
   * Stores a record and commits `events` with it (one transaction). With a request key, the first
   * record stored under it wins: a retry of a request whose answer was lost gets that record back
   * instead of storing a second one, and its events are not committed.
   */
  record(
    error: SlaError,
    requestKey: RequestKey,
    events: readonly DomainEvent[],
  ): Promise<SlaError>;
  get(id: string): Promise<SlaError | undefined>;
  list(filter: SlaErrorFilter, page: PageRequest): Promise<Page<SlaError>>;
  /**
   * When and how severe every record received in `[from, to)` was, oldest first, page by page
   * from the index by time (only the records in the range are read).
   */
  severities(from: string, to: string): AsyncIterable<Pick<SlaError, 'receivedAt' | 'severity'>[]>;
}
