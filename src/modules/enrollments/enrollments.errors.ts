import { AppError, conflict, notFound, unavailable } from '../../platform/errors.js';

/**
 * Stable codes for everything the enrollments module answers with besides success. No detail
 * ever quotes a CPF or a name.
 */
export const EnrollmentsErrors = {
  ageGroupNotFound: (id: string) =>
    notFound('ENROLLMENTS.AGE_GROUP_NOT_FOUND', `Age group ${id} does not exist.`),
  ageGroupOverlaps: (minAge: number, maxAge: number, overlapping: readonly string[]) =>
    conflict(
      'ENROLLMENTS.AGE_GROUP_OVERLAPS',
      `Ages ${minAge}–${maxAge} overlap ${
        overlapping.length > 0 ? `age group ${overlapping.join(', ')}` : 'an existing age group'
      }.`,
    ),
  enrollmentNotFound: (id: string) =>
    notFound('ENROLLMENTS.ENROLLMENT_NOT_FOUND', `Enrollment ${id} does not exist.`),
  cpfInvalid: (check: { readonly problem: string; readonly why: string }) =>
    new AppError('validation', 'ENROLLMENTS.CPF_INVALID', 'Unprocessable Content', {
      detail: `The CPF is not valid: ${check.why}.`,
      errors: [{ path: 'body.cpf', message: check.problem }],
    }),
  noAgeGroup: (age: number) =>
    new AppError('validation', 'ENROLLMENTS.NO_AGE_GROUP', 'Unprocessable Content', {
      detail: `No age group covers age ${age}.`,
      errors: [{ path: 'body.age', message: 'no age group covers this age' }],
    }),
  cpfTaken: () => conflict('ENROLLMENTS.CPF_TAKEN', 'An enrollment with this CPF already exists.'),
  busy: (cause?: unknown) =>
    unavailable(
      'ENROLLMENTS.BUSY',
      'Too many concurrent changes to the same records; retry after the indicated delay.',
      1,
      cause,
    ),
} satisfies Record<string, (...args: never[]) => AppError>;
