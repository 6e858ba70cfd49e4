/**
 * The enrollments domain as the service and the rules see it: plain types, no HTTP, no DynamoDB.
 * The wire format (snake_case field names, the masked CPF: docs/spec.md#enrollments) is shaped
 * by the routes.
 */

/** Ages are whole years in this range (docs/spec.md#enrollments: integers 0–150). */
export const MIN_AGE = 0;
export const MAX_AGE = 150;

export interface AgeGroup {
  readonly id: string;
  readonly minAge: number;
  readonly maxAge: number;
  readonly createdAt: string;
}

export const enrollmentStatuses = ['PENDING', 'PROCESSED', 'REJECTED'] as const;
export type EnrollmentStatus = (typeof enrollmentStatuses)[number];

/**
 * An enrollment request. The full CPF is not part of it: the record keeps only the masked form
 * clients are shown, and the guard that makes a CPF unique is keyed by a keyed hash of it.
 */
export interface Enrollment {
  readonly id: string;
  readonly name: string;
  readonly age: number;
  /** `***.456.789-**`: the only form of the CPF that is stored or shown. */
  readonly cpfMasked: string;
  readonly status: EnrollmentStatus;
  /** The group the age fell in when the request was accepted. */
  readonly ageGroupId: string;
  readonly createdAt: string;
  /** When it left PENDING. */
  readonly processedAt?: string | undefined;
  /** Why it was REJECTED. */
  readonly reason?: string | undefined;
  /**
   * The key of its CPF guard (the CPF's keyed hash, see cpfGuardKey): what a rejection frees.
   * Absent on records stored before rejections freed their CPF. Never shown.
   */
  readonly cpfKey?: string | undefined;
}

/**
 * The domain events of an enrollment (the module's catalogue, in enrollments.module.ts): accepted
 * with its PENDING record, then processed or rejected when it leaves PENDING.
 */
export const enrollmentEvents = {
  aggregate: 'enrollment',
  accepted: 'enrollment.accepted',
  processed: 'enrollment.processed',
  rejected: 'enrollment.rejected',
} as const;

export type { RequestKey } from '../../platform/request-key.js';
