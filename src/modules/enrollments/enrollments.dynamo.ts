import { type Fragment, join, name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item, QuerySpec, TransactItem } from '../../platform/dynamo/table.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { EnrollmentsErrors } from './enrollments.errors.js';
import {
  type AgeGroup,
  type Enrollment,
  type EnrollmentStatus,
  enrollmentStatuses,
  type RequestKey,
} from './enrollments.model.js';
import type {
  EnrollmentCreation,
  EnrollmentFilter,
  EnrollmentRepository,
  GroupCreation,
  Transition,
} from './enrollments.repository.js';
import { agesByBucket, bucketOf } from './enrollments.rules.js';

/*
 * Key design (table and indexes declared in enrollments.module.ts):
 *   age group   PK=GROUP#<id>            SK=GROUP        GSI1PK=AGE_GROUPS GSI1SK=<min, 3 digits>#<id>
 *   age bucket  PK=AGES#<bucket>         SK=AGES         a<age> = <group id>, one attribute per covered age
 *   CPF guard   PK=CPF#<HMAC of the CPF> SK=CPF          enrollmentId, requestKey
 *   enrollment  PK=ENROLLMENT#<id>       SK=ENROLLMENT   GSI2PK=PENDING#<shard> GSI2SK=<createdAt>#<id>
 *                                                        (while PENDING only: a sparse index),
 *                                                        cpfKey (its guard's key, freed on rejection)
 *                                        GSI3PK=ENROLLMENTS#<status>       GSI3SK=<createdAt>#<id>
 *                                        GSI1PK=ENROLLMENTS#<group>#<status> GSI1SK=<createdAt>#<id>
 *                                        (the list's keys; set with the status, in the same write)
 * A group and the ages it claims are written and removed in one transaction whose conditions
 * (`attribute_not_exists(a<age>)`) make two overlapping groups impossible, however they race:
 * both transactions write the same bucket items, so one commits and the other's condition fails
 * (or DynamoDB cancels it for the conflict, and the retry then fails its condition).
 */

/** The pending index is spread over this many partition keys (no single hot key on AWS). */
const PENDING_SHARDS = 8;

/** Keys and index names, exported for tests and the benchmark's raw-write baseline. */
export const enrollmentsKeys = {
  group: (id: string) => ({ PK: `GROUP#${id}`, SK: 'GROUP' }),
  ages: (bucket: number) => ({ PK: `AGES#${bucket}`, SK: 'AGES' }),
  cpf: (cpfKey: string) => ({ PK: `CPF#${cpfKey}`, SK: 'CPF' }),
  enrollment: (id: string) => ({ PK: `ENROLLMENT#${id}`, SK: 'ENROLLMENT' }),
  ageAttribute: (age: number) => `a${age}`,
  groupsIndex: 'gsi1',
  pendingIndex: 'gsi2',
  /** Enrollments by status (gsi3), and by group and status (gsi1, beside the groups). */
  statusIndex: 'gsi3',
  byGroupIndex: 'gsi1',
  byStatus: (status: EnrollmentStatus) => `ENROLLMENTS#${status}`,
  byGroup: (ageGroupId: string, status: EnrollmentStatus) => `ENROLLMENTS#${ageGroupId}#${status}`,
  pendingShard: (id: string) =>
    `PENDING#${Number.parseInt(id.slice(-2), 16) % PENDING_SHARDS || 0}`,
  pendingShards: Array.from({ length: PENDING_SHARDS }, (_, i) => `PENDING#${i}`),
} as const;

const keys = enrollmentsKeys;
const GROUPS = 'AGE_GROUPS';
const age = (value: number) => name(keys.ageAttribute(value));
const pending = x`${name('status')} = ${'PENDING'}`;

export class DynamoEnrollmentRepository implements EnrollmentRepository {
  constructor(
    private readonly table: DynamoTable,
    private readonly outbox: Outbox,
  ) {}

  async createAgeGroup(group: AgeGroup): Promise<GroupCreation> {
    const buckets = [...agesByBucket(group.minAge, group.maxAge)];
    const outcome = await this.transact([
      this.table.put(groupItem(group), x`attribute_not_exists(PK)`),
      ...buckets.map(([bucket, ages]) =>
        this.table.updateItem(keys.ages(bucket), {
          update: x`SET ${join(
            ages.map((a) => x`${age(a)} = ${group.id}`),
            ', ',
          )}`,
          condition: join(
            ages.map((a) => x`attribute_not_exists(${age(a)})`),
            ' AND ',
          ),
        }),
      ),
    ]);
    if (outcome.ok) return { ok: true };
    // Which groups hold the ages we wanted, as the failed bucket conditions saw them.
    const overlapping = new Set<string>();
    buckets.forEach(([, ages], i) => {
      const current = outcome.current[i + 1];
      for (const a of ages) {
        const holder = current?.[keys.ageAttribute(a)];
        if (typeof holder === 'string') overlapping.add(holder);
      }
    });
    return { ok: false, overlapping: [...overlapping] };
  }

  async deleteAgeGroup(id: string): Promise<AgeGroup | undefined> {
    const group = await this.getAgeGroup(id);
    if (!group) return undefined;
    const buckets = [...agesByBucket(group.minAge, group.maxAge)];
    const outcome = await this.transact([
      this.table.deleteItem(keys.group(id), x`attribute_exists(PK)`),
      ...buckets.map(([bucket, ages]) =>
        this.table.updateItem(keys.ages(bucket), {
          update: x`REMOVE ${join(
            ages.map((a) => x`${age(a)}`),
            ', ',
          )}`,
          // Its ages point at it for as long as it exists; this fails only if a concurrent
          // delete released them first.
          condition: join(
            ages.map((a) => x`${age(a)} = ${id}`),
            ' AND ',
          ),
        }),
      ),
    ]);
    if (outcome.ok) return group;
    return undefined;
  }

  async getAgeGroup(id: string): Promise<AgeGroup | undefined> {
    const item = await this.table.get(keys.group(id));
    return item ? toGroup(item) : undefined;
  }

  listAgeGroups(page: PageRequest): Promise<Page<AgeGroup>> {
    return this.table.queryPage(
      'age-groups',
      { index: keys.groupsIndex, key: x`GSI1PK = ${GROUPS}` },
      page,
      toGroup,
    );
  }

  async groupForAge(value: number): Promise<string | undefined> {
    const bucket = await this.table.get(keys.ages(bucketOf(value)));
    const holder = bucket?.[keys.ageAttribute(value)];
    return typeof holder === 'string' ? holder : undefined;
  }

  async createEnrollment(
    enrollment: Enrollment,
    cpfKey: string,
    requestKey: RequestKey,
    events: readonly DomainEvent[],
  ): Promise<EnrollmentCreation> {
    const outcome = await this.transact([
      // One enrollment per CPF: the guard's key is the CPF's keyed hash.
      this.table.put(
        {
          ...keys.cpf(cpfKey),
          type: 'cpf-guard',
          enrollmentId: enrollment.id,
          createdAt: enrollment.createdAt,
          ...(requestKey ? { requestKey } : {}),
        },
        x`attribute_not_exists(PK)`,
      ),
      this.table.put(enrollmentItem(enrollment, cpfKey), x`attribute_not_exists(PK)`),
      // Accepted only while the age still belongs to the group it was matched with.
      this.table.check(
        keys.ages(bucketOf(enrollment.age)),
        x`${age(enrollment.age)} = ${enrollment.ageGroupId}`,
      ),
      ...this.commit(events),
    ]);
    if (outcome.ok) return { ok: true };
    const [cpfFailed, , groupFailed] = outcome.reasons.map((c) => c === 'ConditionalCheckFailed');
    if (cpfFailed) {
      const guard = outcome.current[0];
      return {
        ok: false,
        reason: 'cpf-taken',
        enrollmentId: String(guard?.enrollmentId ?? ''),
        requestKey: guard?.requestKey,
      };
    }
    if (groupFailed) return { ok: false, reason: 'group-changed' };
    // A generated id already taken, or an event not written: not a state a caller can act on.
    throw cancelled(outcome.reasons);
  }

  async getEnrollment(id: string): Promise<Enrollment | undefined> {
    const item = await this.table.get(keys.enrollment(id));
    return item ? toEnrollment(item) : undefined;
  }

  async markProcessed(
    enrollment: Enrollment,
    now: string,
    events: readonly DomainEvent[],
  ): Promise<Transition | 'group-missing'> {
    const outcome = await this.transact([
      this.table.updateItem(keys.enrollment(enrollment.id), {
        update: leavePending(enrollment, 'PROCESSED', now),
        condition: pending,
      }),
      // The group must exist at the moment the decision commits, not only when it was read.
      this.table.check(keys.group(enrollment.ageGroupId), x`attribute_exists(PK)`),
      ...this.commit(events),
    ]);
    if (outcome.ok) return 'done';
    if (outcome.reasons[0] === 'ConditionalCheckFailed') return 'not-pending';
    if (outcome.reasons[1] === 'ConditionalCheckFailed') return 'group-missing';
    throw cancelled(outcome.reasons);
  }

  async markRejected(
    enrollment: Enrollment,
    reason: string,
    now: string,
    events: readonly DomainEvent[],
  ): Promise<Transition> {
    const reject = this.table.updateItem(keys.enrollment(enrollment.id), {
      update: x`${leavePending(enrollment, 'REJECTED', now)}, reason = ${reason}`,
      condition: pending,
    });
    if (enrollment.cpfKey !== undefined) {
      const outcome = await this.transact([
        reject,
        // Only while the guard is this enrollment's (or already gone): the record is PENDING, so
        // no other enrollment can hold this CPF yet, but a guard is never freed for another.
        this.table.deleteItem(
          keys.cpf(enrollment.cpfKey),
          x`attribute_not_exists(PK) OR enrollmentId = ${enrollment.id}`,
        ),
        ...this.commit(events),
      ]);
      if (outcome.ok) return 'done';
      if (outcome.reasons[0] === 'ConditionalCheckFailed') return 'not-pending';
      if (outcome.reasons[1] !== 'ConditionalCheckFailed') throw cancelled(outcome.reasons);
    }
    // A record stored before rejections freed their CPF (it has no guard key), or a guard that
    // is not its own: rejected, the guard left as it is.
    const outcome = await this.transact([reject, ...this.commit(events)]);
    if (outcome.ok) return 'done';
    if (outcome.reasons[0] === 'ConditionalCheckFailed') return 'not-pending';
    throw cancelled(outcome.reasons);
  }

  async *pendingBefore(createdBefore: string): AsyncIterable<string[]> {
    for (const shard of keys.pendingShards) {
      for await (const items of this.table.queryPages({
        index: keys.pendingIndex,
        key: x`GSI2PK = ${shard} AND GSI2SK < ${createdBefore}`,
        attributes: ['id'],
      })) {
        if (items.length > 0) yield items.map((item) => String(item.id));
      }
    }
  }

  listEnrollments(filter: EnrollmentFilter, page: PageRequest): Promise<Page<Enrollment>> {
    const scope = `enrollments:${filter.status ?? '*'}:${filter.ageGroupId ?? '*'}`;
    const { ageGroupId } = filter;
    // One partition per status; newest first within it (the sort key starts with createdAt).
    const partition = (status: EnrollmentStatus, before: string | undefined): QuerySpec =>
      ageGroupId === undefined
        ? {
            index: keys.statusIndex,
            key: x`GSI3PK = ${keys.byStatus(status)}${before ? x` AND GSI3SK < ${before}` : x``}`,
            forward: false,
          }
        : {
            index: keys.byGroupIndex,
            key: x`GSI1PK = ${keys.byGroup(ageGroupId, status)}${
              before ? x` AND GSI1SK < ${before}` : x``
            }`,
            forward: false,
          };
    if (filter.status) {
      return this.table.queryPage(scope, partition(filter.status, undefined), page, toEnrollment);
    }
    return this.table.queryMergedPage(
      scope,
      Object.fromEntries(
        enrollmentStatuses.map((status) => [status, (before) => partition(status, before)]),
      ),
      ageGroupId === undefined ? 'GSI3SK' : 'GSI1SK',
      page,
      toEnrollment,
    );
  }

  async countByStatus(): Promise<Record<EnrollmentStatus, number>> {
    const counts = await Promise.all(
      enrollmentStatuses.map((status) =>
        this.table.count({ index: keys.statusIndex, key: x`GSI3PK = ${keys.byStatus(status)}` }),
      ),
    );
    return Object.fromEntries(
      enrollmentStatuses.map((status, i) => [status, counts[i] ?? 0]),
    ) as Record<EnrollmentStatus, number>;
  }

  async oldestPending(): Promise<Enrollment | undefined> {
    // Oldest first within the partition: its sort key starts with createdAt.
    for await (const items of this.table.queryPages(
      { index: keys.statusIndex, key: x`GSI3PK = ${keys.byStatus('PENDING')}` },
      1,
    )) {
      return items[0] ? toEnrollment(items[0]) : undefined;
    }
    return undefined;
  }

  async backfillListKeys(): Promise<number> {
    let backfilled = 0;
    for await (const items of this.table.scanPages({
      filter: x`${name('type')} = ${'enrollment'} AND attribute_not_exists(GSI3PK)`,
      pageSize: 100,
    })) {
      const done = await Promise.all(items.map((item) => this.addListKeys(toEnrollment(item))));
      backfilled += done.filter(Boolean).length;
    }
    return backfilled;
  }

  /**
   * Sets the list's keys of a record an earlier release wrote, for the status it has as it was
   * read: a record changed since (by a processor of that release, during a rolling upgrade) is
   * read again, and one that has its keys already (this release's processor sets them with the
   * status) is left alone.
   */
  private async addListKeys(read: Enrollment): Promise<boolean> {
    let enrollment = read;
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await this.table.update(keys.enrollment(enrollment.id), {
        update: x`SET ${listKeys(enrollment, enrollment.status)}`,
        condition: x`attribute_exists(PK) AND attribute_not_exists(GSI3PK) AND ${name(
          'status',
        )} = ${enrollment.status}`,
      });
      if (result.ok) return true;
      if (!result.current || result.current.GSI3PK !== undefined) return false;
      enrollment = toEnrollment(result.current);
    }
    throw new Error(`enrollment ${read.id} kept changing while its list keys were added`);
  }

  private transact(items: readonly TransactItem[]) {
    return this.table.transact(items, { onContention: EnrollmentsErrors.busy });
  }

  /** The outbox items of `events`, appended after the change's own (whose indexes are read). */
  private commit(events: readonly DomainEvent[]): TransactItem[] {
    return events.map((event) => this.outbox.put(event));
  }
}

/** A cancellation no condition of the change explains (an event not written, an id taken). */
const cancelled = (reasons: readonly string[]) =>
  new Error(`enrollment commit cancelled: ${reasons.join(', ')}`);

/**
 * SET status, processedAt, and the list's keys for the new status (the record moves from the
 * PENDING partitions to the new status's in this same write); out of the pending index (REMOVE
 * of its keys). Setting every list key, not only the partition keys, also gives them to a
 * record an earlier release stored.
 */
function leavePending(
  enrollment: Enrollment,
  status: 'PROCESSED' | 'REJECTED',
  now: string,
): Fragment {
  return x`REMOVE GSI2PK, GSI2SK SET ${name('status')} = ${status}, processedAt = ${now}, ${listKeys(
    enrollment,
    status,
  )}`;
}

/** The assignments of the list's index keys for `enrollment` in `status`. */
function listKeys(enrollment: Enrollment, status: EnrollmentStatus): Fragment {
  const sortKey = `${enrollment.createdAt}#${enrollment.id}`;
  return x`GSI3PK = ${keys.byStatus(status)}, GSI3SK = ${sortKey}, GSI1PK = ${keys.byGroup(
    enrollment.ageGroupId,
    status,
  )}, GSI1SK = ${sortKey}`;
}

function groupItem(group: AgeGroup): Item {
  return {
    ...keys.group(group.id),
    type: 'age-group',
    id: group.id,
    minAge: group.minAge,
    maxAge: group.maxAge,
    createdAt: group.createdAt,
    GSI1PK: GROUPS,
    GSI1SK: `${String(group.minAge).padStart(3, '0')}#${group.id}`,
  };
}

function enrollmentItem(enrollment: Enrollment, cpfKey: string): Item {
  return {
    ...keys.enrollment(enrollment.id),
    type: 'enrollment',
    id: enrollment.id,
    name: enrollment.name,
    age: enrollment.age,
    cpfMasked: enrollment.cpfMasked,
    cpfKey,
    status: enrollment.status,
    ageGroupId: enrollment.ageGroupId,
    createdAt: enrollment.createdAt,
    GSI2PK: keys.pendingShard(enrollment.id),
    GSI2SK: `${enrollment.createdAt}#${enrollment.id}`,
    GSI3PK: keys.byStatus(enrollment.status),
    GSI3SK: `${enrollment.createdAt}#${enrollment.id}`,
    GSI1PK: keys.byGroup(enrollment.ageGroupId, enrollment.status),
    GSI1SK: `${enrollment.createdAt}#${enrollment.id}`,
  };
}

function toGroup(item: Item): AgeGroup {
  return { id: item.id, minAge: item.minAge, maxAge: item.maxAge, createdAt: item.createdAt };
}

function toEnrollment(item: Item): Enrollment {
  return {
    id: item.id,
    name: item.name,
    age: item.age,
    cpfMasked: item.cpfMasked,
    status: item.status,
    ageGroupId: item.ageGroupId,
    createdAt: item.createdAt,
    ...(item.processedAt ? { processedAt: item.processedAt } : {}),
    ...(item.reason ? { reason: item.reason } : {}),
    ...(item.cpfKey ? { cpfKey: item.cpfKey } : {}),
  };
}
