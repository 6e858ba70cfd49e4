import { type AppError, badRequest, notFound, unavailable } from '../../platform/errors.js';

/** Stable codes for everything the sla-errors module answers with besides success. */
export const SlaErrorsErrors = {
  notFound: (id: string) => notFound('SLA_ERRORS.NOT_FOUND', `SLA error ${id} does not exist.`),
  emptyRange: (from: string, to: string) =>
    badRequest('SLA_ERRORS.EMPTY_RANGE', `from (${from}) must be before to (${to}).`),
  noSubject: () =>
    badRequest('SLA_ERRORS.NO_SUBJECT', 'The token names no subject to record as the submitter.'),
  busy: (cause?: unknown) =>
    unavailable(
      'SLA_ERRORS.BUSY',
      'The same request is being filed concurrently; retry.',
      1,
      cause,
    ),
} satisfies Record<string, (...args: never[]) => AppError>;
