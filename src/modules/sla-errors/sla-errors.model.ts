/**
 * SLA error records: one per file that missed its SLA, filed by a caller holding a
 * valid JWT, whose subject is kept with it.
 */

export const severities = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof severities)[number];

export interface SlaError {
  /** UUIDv7. */
  readonly id: string;
  readonly fileName: string;
  /** ISO 8601 UTC, normalised (`2026-11-21T10:00:00.000Z`). */
  readonly slaDeadline: string;
  /** When the file arrived; defaults to when the record was filed. ISO 8601 UTC, normalised. */
  readonly receivedAt: string;
  readonly errorCode: string;
  readonly message: string;
  readonly severity: Severity;
  readonly source: string;
  /** The `sub` of the token that filed it. */
  readonly submittedBy: string;
  readonly createdAt: string;
}

/** Which records a list shows: by file name or all, received in [from, to). */
export interface SlaErrorFilter {
  readonly fileName?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

/** The domain event of a record (the module's catalogue, in sla-errors.module.ts). */
export const slaErrorEvents = { aggregate: 'sla_error', recorded: 'sla_error.recorded' } as const;

export type { RequestKey } from '../../platform/request-key.js';
