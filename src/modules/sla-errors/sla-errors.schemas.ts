import { z } from 'zod';
import { paginationQuery } from '../../platform/http/pagination.js';
import { severities } from './sla-errors.model.js';

/*
 * The HTTP shapes of the sla-errors module. Every field is bounded; unknown fields are refused
 * (a misspelt `recievedAt` would otherwise be dropped without a word). Failures are 400s (seed
 * 002), with one entry per field in `errors[]`.
 */

/** C0 controls and DEL; a message may keep tab, line feed and carriage return. */
function hasControl(value: string, allowLines: boolean): boolean {
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (allowLines && (code === 0x09 || code === 0x0a || code === 0x0d)) continue;
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** 1–max characters, not blank, no control characters (a message may have line breaks). */
const text = (max: number, { lines = false } = {}) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => value.trim().length > 0, 'must not be blank')
    .refine((value) => !hasControl(value, lines), 'must not contain control characters');

const timestamp = z.iso.datetime({ offset: true }).meta({
  description: 'ISO 8601 date-time with Z or an offset',
  example: '2026-11-21T10:00:00Z',
});

export const SeveritySchema = z.enum(severities).meta({ id: 'SlaErrorSeverity' });

export const CreateSlaErrorSchema = z
  .strictObject({
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
    message: text(2000, { lines: true }).meta({ example: 'File arrived 42 minutes late' }),
    severity: SeveritySchema,
    source: text(200).meta({ example: 'sftp-ingest' }),
  })
  .meta({ id: 'CreateSlaError' });

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

export const ListSlaErrorsQuery = paginationQuery.extend({
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
