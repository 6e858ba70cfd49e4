import * as z from 'zod/mini';
import { strictBody, text, withMeta } from '../../platform/input.js';
import { severities } from './sla-errors.model.js';

/*
 * The HTTP shapes of the sla-errors module. Every field is bounded; unknown fields are refused
 * (a misspelt `recievedAt` would otherwise be dropped without a word); text follows the
 * platform's rule (src/platform/input.ts), and only the message may span lines. Failures are
 * 400s (docs/spec.md#sla-errors), with one entry per field in `errors[]`.
 */

/**
 * Whether a date-time, normalised to UTC as the service stores it, keeps a four-digit year. A value
 * that is no date at all passes: the format check beside this one refuses it.
 */
function inFourDigitYears(value: string): boolean {
  const time = Date.parse(value);
  return Number.isNaN(time) || /^\d{4}-/.test(new Date(time).toISOString());
}

/**
 * An ISO 8601 date-time with Z or an offset, whose instant falls in the years 0000–9999 in UTC.
 * `9999-12-31T23:30:00-01:00` is a valid date-time, but in UTC it is `+010000-01-01T00:30:00Z`:
 * stored like that it would sort before every other record (`+` < `0`) and break the `from`/`to`
 * filters, which compare stored timestamps as text.
 */
const timestamp = withMeta(
  z.iso
    .datetime({ offset: true })
    .check(z.refine(inFourDigitYears, 'must fall in the years 0000–9999 once converted to UTC')),
  {
    description: 'ISO 8601 date-time with Z or an offset, in the years 0000–9999 in UTC',
    example: '2026-11-21T10:00:00Z',
  },
);

export const SeveritySchema = withMeta(z.enum(severities), { id: 'SlaErrorSeverity' });

export const CreateSlaErrorSchema = withMeta(
  strictBody({
    fileName: withMeta(text(255), { example: 'daily-settlement-20261121.csv' }),
    slaDeadline: withMeta(timestamp, { description: 'When the file was due.' }),
    receivedAt: withMeta(z.optional(timestamp), {
      description: 'When the file arrived; defaults to when the record is filed.',
      example: '2026-11-21T10:42:00Z',
    }),
    errorCode: withMeta(
      z
        .string()
        .check(
          z.regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 . _ : -'),
        ),
      { example: 'SLA_BREACH' },
    ),
    message: withMeta(text(2000, { multiline: true }), {
      example: 'File arrived 42 minutes late',
    }),
    severity: SeveritySchema,
    source: withMeta(text(200), { example: 'sftp-ingest' }),
  }),
  { id: 'CreateSlaError' },
);

export const SlaErrorSchema = withMeta(
  z.object({
    id: z.string(),
    fileName: z.string(),
    slaDeadline: z.string(),
    receivedAt: z.string(),
    errorCode: z.string(),
    message: z.string(),
    severity: SeveritySchema,
    source: z.string(),
    submittedBy: withMeta(z.string(), { description: 'The `sub` of the token that filed it.' }),
    createdAt: z.string(),
  }),
  { id: 'SlaError' },
);

export const CreatedSlaErrorSchema = withMeta(z.object({ id: z.string() }), {
  id: 'CreatedSlaError',
});

/** The list's filters; the route adds the platform's pagination parameters. */
export const SlaErrorFilters = z.object({
  fileName: withMeta(z.optional(text(255)), { description: 'Only this file’s records.' }),
  from: withMeta(z.optional(timestamp), { description: 'Received at or after (inclusive).' }),
  to: withMeta(z.optional(timestamp), { description: 'Received before (exclusive).' }),
});

export const SlaErrorIdParam = z.object({
  id: withMeta(z.uuid(), {
    param: { name: 'id', in: 'path' },
    example: '019a8f3e-5a3c-7c1e-9d2b-3f4a5b6c7d8e',
  }),
});
