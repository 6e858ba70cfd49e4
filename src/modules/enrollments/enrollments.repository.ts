import type { DomainEvent } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type { AgeGroup, Enrollment, EnrollmentStatus, RequestKey } from './enrollments.model.js';

export type GroupCreation =
  | { readonly ok: true }
  /** Some of its ages are taken: by these groups (as the failed conditions saw them). */
  | { readonly ok: false; readonly overlapping: readonly string[] };

export type EnrollmentCreation =
  | { readonly ok: true }
  /** The CPF has an enrollment: its id, and the request key that created it. */
  | {
      readonly ok: false;
      readonly reason: 'cpf-taken';
      readonly enrollmentId: string;
      readonly requestKey: RequestKey;
    }
  /** The age no longer belongs to the group the request was matched with. */
  | { readonly ok: false; readonly reason: 'group-changed' };

export type Transition = 'done' | 'not-pending';

/** Which enrollments a list holds: all, or those with this status, in this age group, or both. */
export interface EnrollmentFilter {
  readonly status?: EnrollmentStatus | undefined;
  readonly ageGroupId?: string | undefined;
}

/**
 * The enrollments port. Every invariant is held by the commit's conditions, not by a read before
 * it: no two groups share an age, one enrollment per CPF, an enrollment is accepted only while
 * its group covers its age, and it leaves PENDING once. The domain events of an enrollment's
 * changes (`events`) are committed with them, in the same transaction, or not at all.
 */
export interface EnrollmentRepository {
  /** Writes the group and claims each of its ages, unless one is claimed (all or nothing). */
  createAgeGroup(group: AgeGroup): Promise<GroupCreation>;
  /** Removes the group and releases its ages together; undefined when it was absent. */
  deleteAgeGroup(id: string): Promise<AgeGroup | undefined>;
  getAgeGroup(id: string): Promise<AgeGroup | undefined>;
  /** Ordered by min age. */
  listAgeGroups(page: PageRequest): Promise<Page<AgeGroup>>;
  /** The id of the group covering `age` (one read, whatever the number of groups). */
  groupForAge(age: number): Promise<string | undefined>;

  /**
   * Writes the PENDING enrollment, its CPF guard (keyed by `cpfKey`) and `events` together,
   * provided the CPF has none and the age still belongs to `enrollment.ageGroupId`.
   */
  createEnrollment(
    enrollment: Enrollment,
    cpfKey: string,
    requestKey: RequestKey,
    events: readonly DomainEvent[],
  ): Promise<EnrollmentCreation>;
  getEnrollment(id: string): Promise<Enrollment | undefined>;
  /**
   * PENDING → PROCESSED with `events`, provided it is still PENDING and its group still exists;
   * 'group-missing' when only the group is gone (nothing written).
   */
  markProcessed(
    enrollment: Enrollment,
    now: string,
    events: readonly DomainEvent[],
  ): Promise<Transition | 'group-missing'>;
  /**
   * PENDING → REJECTED with a reason and `events`, provided it is still PENDING, and in the same
   * commit the CPF guard it holds is removed: a rejected request is not an enrollment, so its CPF
   * may enroll again. A guard that names another enrollment is left alone.
   */
  markRejected(
    enrollment: Enrollment,
    reason: string,
    now: string,
    events: readonly DomainEvent[],
  ): Promise<Transition>;
  /** Ids of enrollments PENDING since before `createdBefore` (an index of pending records). */
  pendingBefore(createdBefore: string): AsyncIterable<string[]>;
  /**
   * Enrollments matching `filter`, newest first (by creation, then id), each page read from an
   * index: a record is listed under the status it has, moved by the write that changes it.
   */
  listEnrollments(filter: EnrollmentFilter, page: PageRequest): Promise<Page<Enrollment>>;
  /**
   * How many enrollments have each status, counted in the status index (a count query per
   * status, one per page of its partition; never a scan).
   */
  countByStatus(): Promise<Record<EnrollmentStatus, number>>;
  /** The PENDING enrollment created first (the first item of its status partition), if any. */
  oldestPending(): Promise<Enrollment | undefined>;
  /**
   * Gives the list's index keys to the records an earlier release stored without them, each
   * only as it was read (a record changed meanwhile is read again); returns how many it changed.
   * Running it again changes nothing. It reads the whole table: a migration, never a request.
   */
  backfillListKeys(): Promise<number>;
}
