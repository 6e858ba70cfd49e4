import { z } from 'zod';
import { strictBody, text } from '../../platform/input.js';
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
const timestamp = z.iso
  .datetime({ offset: true })
  .refine(inFourDigitYears, 'must fall in the years 0000–9999 once converted to UTC')
  .meta({
    description: 'ISO 8601 date-time with Z or an offset, in the years 0000–9999 in UTC',
    example: '2026-11-21T10:00:00Z',
  });

export const SeveritySchema = z.enum(severities).meta({ id: 'SlaErrorSeverity' });

export const CreateSlaErrorSchema = strictBody({
  fileName: text(255).meta({ example: 'daily-settlement-20261121.csv' }),
  slaDeadline: timestamp.meta({ description: 'When the file was due.' }),
  receivedAt: timestamp.optional().meta({
    description: 'When the file arrived; defaults to when the record is filed.',
    example: '2026-11-21T10:42:00Z',
  }),
  errorCode: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 . _ : -')
    .meta({ example: 'SLA_BREACH' }),
  message: text(2000, { multiline: true }).meta({ example: 'File arrived 42 minutes late' }),
  severity: SeveritySchema,
  source: text(200).meta({ example: 'sftp-ingest' }),
}).meta({ id: 'CreateSlaError' });

export const SlaErrorSchema = z
  .object({
    id: z.string(),
    fileName: z.string(),
    slaDeadline: z.string(),
    receivedAt: z.string(),
    errorCode: z.string(),
    message: z.string(),
    severity: SeveritySchema,
    source: z.string(),
    submittedBy: z.string().meta({ description: 'The `sub` of the token that filed it.' }),
    createdAt: z.string(),
  })
  .meta({ id: 'SlaError' });

export const CreatedSlaErrorSchema = z.object({ id: z.string() }).meta({ id: 'CreatedSlaError' });

/** The list's filters; the route adds the platform's pagination parameters. */
export const SlaErrorFilters = z.object({
  fileName: text(255).optional().meta({ description: 'Only this file’s records.' }),
  from: timestamp.optional().meta({ description: 'Received at or after (inclusive).' }),
  to: timestamp.optional().meta({ description: 'Received before (exclusive).' }),
});

export const SlaErrorIdParam = z.object({
  id: z.uuid().meta({
    param: { name: 'id', in: 'path' },
    example: '019a8f3e-5a3c-7c1e-9d2b-3f4a5b6c7d8e',
  }),
});
