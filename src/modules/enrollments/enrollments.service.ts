import type { Logger } from '../../platform/logger.js';
import type { ModuleMetrics } from '../../platform/metrics/metrics.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { PoisonMessageError, type Queue, type QueueMessage } from '../../platform/queue/queue.js';
import { EnrollmentsErrors } from './enrollments.errors.js';
import type { AgeGroup, Enrollment, EnrollmentStatus, RequestKey } from './enrollments.model.js';
import type { EnrollmentFilter, EnrollmentRepository } from './enrollments.repository.js';
import {
  checkCpf,
  decodeEnrollmentMessage,
  enrollmentEvent,
  enrollmentMessage,
  groupGoneReason,
  maskCpf,
} from './enrollments.rules.js';

export interface EnrollmentsServiceDeps {
  readonly repository: EnrollmentRepository;
  /** The queue that wakes the processor. */
  readonly queue: Queue;
  /** The keyed hash a CPF's guard is stored under (cpfGuardKey with the deployment's key). */
  readonly cpfKey: (digits: string) => Promise<string>;
  readonly newId: () => string;
  readonly clock: () => Date;
  readonly logger: Logger;
  /** A record still PENDING this long after its creation is sent to the queue again. */
  readonly reconcileAfterSeconds: number;
  /**
   * EnrollmentAccepted, EnrollmentProcessed, EnrollmentRejected, EnrollmentEnqueueFailed,
   * EnrollmentRequeued.
   */
  readonly metrics: ModuleMetrics;
  /** enrollment.accepted, .processed and .rejected, committed with the changes they announce. */
  readonly outbox: Outbox;
}

export interface NewEnrollment {
  readonly name: string;
  readonly age: number;
  /** As the client sent it; never stored, logged or returned. */
  readonly cpf: string;
}

export type ProcessOutcome = 'PROCESSED' | 'REJECTED' | 'already-final';

/**
 * A group can be deleted between the lookup of an age and the commit of the enrollment; the
 * commit notices (its condition on the age fails) and the lookup runs again. Past this many
 * changes in a row, answer 503 rather than spin.
 */
const MAX_ATTEMPTS = 5;

/** Enrollments by status, and the oldest PENDING one (see `stats`). */
export interface EnrollmentStats {
  readonly counts: Readonly<Record<EnrollmentStatus, number>>;
  readonly oldestPending:
    | { readonly id: string; readonly createdAt: string; readonly ageSeconds: number }
    | undefined;
  readonly asOf: string;
}

/**
 * Age groups, and enrollment requests processed asynchronously: the PENDING record is the
 * source of truth and the queue message only a wake-up, so a lost message delays a request but
 * never loses it (the reconciler sends it again), and a message delivered twice changes nothing
 * (the processor's transition is conditional on PENDING).
 */
export class EnrollmentsService {
  constructor(private readonly deps: EnrollmentsServiceDeps) {}

  private now(): string {
    return this.deps.clock().toISOString();
  }

  async createAgeGroup(input: { minAge: number; maxAge: number }): Promise<AgeGroup> {
    const group: AgeGroup = {
      id: this.deps.newId(),
      minAge: input.minAge,
      maxAge: input.maxAge,
      createdAt: this.now(),
    };
    const created = await this.deps.repository.createAgeGroup(group);
    if (!created.ok) {
      throw EnrollmentsErrors.ageGroupOverlaps(group.minAge, group.maxAge, created.overlapping);
    }
    return group;
  }

  listAgeGroups(page: PageRequest): Promise<Page<AgeGroup>> {
    return this.deps.repository.listAgeGroups(page);
  }

  async deleteAgeGroup(id: string): Promise<AgeGroup> {
    const deleted = await this.deps.repository.deleteAgeGroup(id);
    if (!deleted) throw EnrollmentsErrors.ageGroupNotFound(id);
    return deleted;
  }

  /**
   * Accepts an enrollment request: answers once the PENDING record, its CPF guard and its
   * enrollment.accepted event are durable (one transaction), then sends the wake-up. A send that
   * fails is logged and left to the reconciler: the request was accepted, and answering an error
   * would invite a retry that the CPF guard refuses. A retry of the same request (same request
   * key) gets the enrollment back, and commits no second event.
   */
  async enroll(input: NewEnrollment, requestKey?: RequestKey): Promise<Enrollment> {
    const cpf = checkCpf(input.cpf);
    if (!cpf.ok) throw EnrollmentsErrors.cpfInvalid(cpf);
    const cpfKey = await this.deps.cpfKey(cpf.digits);

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const ageGroupId = await this.deps.repository.groupForAge(input.age);
      if (!ageGroupId) throw EnrollmentsErrors.noAgeGroup(input.age);
      const enrollment: Enrollment = {
        id: this.deps.newId(),
        name: input.name,
        age: input.age,
        cpfMasked: maskCpf(cpf.digits),
        status: 'PENDING',
        ageGroupId,
        createdAt: this.now(),
      };
      const accepted = this.event(enrollment, enrollment.createdAt);
      const created = await this.deps.repository.createEnrollment(enrollment, cpfKey, requestKey, [
        accepted,
      ]);
      if (created.ok) {
        this.deps.metrics.count('EnrollmentAccepted');
        await this.wake(enrollment.id);
        await this.deps.outbox.announce([accepted]);
        return enrollment;
      }
      if (created.reason === 'group-changed') continue;
      // The CPF is taken. By this very request, if its answer was lost: answer it again.
      if (requestKey !== undefined && created.requestKey === requestKey) {
        const existing = await this.deps.repository.getEnrollment(created.enrollmentId);
        if (existing) return existing;
      }
      throw EnrollmentsErrors.cpfTaken();
    }
    throw EnrollmentsErrors.busy();
  }

  async getEnrollment(id: string): Promise<Enrollment> {
    const enrollment = await this.deps.repository.getEnrollment(id);
    if (!enrollment) throw EnrollmentsErrors.enrollmentNotFound(id);
    return enrollment;
  }

  /** Enrollments newest first, optionally those with one status and/or in one age group. */
  /**
   * Enrollments by status and the oldest still PENDING with how long it has waited (what the
   * operator's dashboard shows): counted in the status index, never scanned.
   */
  async stats(): Promise<EnrollmentStats> {
    const [counts, oldest] = await Promise.all([
      this.deps.repository.countByStatus(),
      this.deps.repository.oldestPending(),
    ]);
    const now = this.deps.clock();
    return {
      counts,
      oldestPending: oldest && {
        id: oldest.id,
        createdAt: oldest.createdAt,
        ageSeconds: Math.max(0, Math.floor((now.getTime() - Date.parse(oldest.createdAt)) / 1000)),
      },
      asOf: now.toISOString(),
    };
  }

  listEnrollments(filter: EnrollmentFilter, page: PageRequest): Promise<Page<Enrollment>> {
    return this.deps.repository.listEnrollments(filter, page);
  }

  /**
   * The migration of records stored before the list existed: gives them its index keys, so that
   * GET /enrollments lists them. Idempotent; a run that finds none left changes nothing.
   */
  async backfillListKeys(): Promise<{ backfilled: number }> {
    const backfilled = await this.deps.repository.backfillListKeys();
    if (backfilled > 0) {
      this.deps.logger.info('enrollments given the list index keys', { backfilled });
    }
    return { backfilled };
  }

  /**
   * The queue consumer: PENDING → PROCESSED while its age group exists, REJECTED (with a
   * reason) once it is gone, each with its domain event. Each transition is conditional on
   * PENDING, so a second delivery, or two at once, change nothing and announce nothing. A message
   * that names no enrollment can never succeed: it is a poison message, for the dead-letter
   * queue. Any other failure is thrown, so the message comes back after the visibility timeout.
   */
  async process(message: QueueMessage): Promise<ProcessOutcome> {
    const id = decodeEnrollmentMessage(message.body);
    if (!id) throw new PoisonMessageError('not an enrollment message');
    const enrollment = await this.deps.repository.getEnrollment(id);
    if (!enrollment) throw new PoisonMessageError('no such enrollment');
    if (enrollment.status !== 'PENDING') return this.finished(enrollment.id, 'already-final');

    const now = this.now();
    const processed = this.event({ ...enrollment, status: 'PROCESSED', processedAt: now }, now);
    const outcome = await this.deps.repository.markProcessed(enrollment, now, [processed]);
    if (outcome === 'done') {
      await this.deps.outbox.announce([processed]);
      return this.finished(enrollment.id, 'PROCESSED', message);
    }
    if (outcome === 'not-pending') return this.finished(enrollment.id, 'already-final');
    const reason = groupGoneReason(enrollment.ageGroupId);
    const rejected = this.event(
      { ...enrollment, status: 'REJECTED', processedAt: now, reason },
      now,
    );
    const rejection = await this.deps.repository.markRejected(enrollment, reason, now, [rejected]);
    if (rejection === 'done') await this.deps.outbox.announce([rejected]);
    return this.finished(
      enrollment.id,
      rejection === 'done' ? 'REJECTED' : 'already-final',
      message,
    );
  }

  /**
   * Sends the wake-up again for every enrollment PENDING for longer than `reconcileAfterSeconds`
   * (with `all`, every PENDING one, however young): those whose send failed, whose process died
   * between the commit and the send, or whose message was lost. A record whose message was only
   * slow gets two; the second changes nothing. Reads the sparse index of pending records, never
   * the table.
   */
  async reconcile({ all = false }: { readonly all?: boolean } = {}): Promise<{ requeued: number }> {
    const ageMs = all ? 0 : this.deps.reconcileAfterSeconds * 1000;
    const createdBefore = new Date(this.deps.clock().getTime() - ageMs).toISOString();
    let requeued = 0;
    for await (const ids of this.deps.repository.pendingBefore(createdBefore)) {
      await this.deps.queue.sendBatch(ids.map(enrollmentMessage));
      requeued += ids.length;
    }
    this.deps.metrics.count('EnrollmentRequeued', requeued);
    if (requeued > 0) {
      this.deps.logger.info('pending enrollments sent to the queue again', { requeued });
    }
    return { requeued };
  }

  /** The domain event of `enrollment` as the change about to be committed leaves it. */
  private event(enrollment: Enrollment, occurredAt: string): DomainEvent {
    const { type, aggregate, data } = enrollmentEvent(enrollment);
    return this.deps.outbox.event(type, aggregate, data, occurredAt);
  }

  private async wake(enrollmentId: string): Promise<void> {
    try {
      await this.deps.queue.send(enrollmentMessage(enrollmentId));
    } catch (error) {
      this.deps.metrics.count('EnrollmentEnqueueFailed');
      this.deps.logger.warn('enqueue failed; the reconciler will send the enrollment again', {
        enrollmentId,
        error,
      });
    }
  }

  private finished(
    enrollmentId: string,
    outcome: ProcessOutcome,
    message?: QueueMessage,
  ): ProcessOutcome {
    if (outcome === 'PROCESSED') this.deps.metrics.count('EnrollmentProcessed');
    if (outcome === 'REJECTED') this.deps.metrics.count('EnrollmentRejected');
    this.deps.logger.debug('enrollment message handled', {
      enrollmentId,
      outcome,
      ...(message ? { receiveCount: message.receiveCount } : {}),
    });
    return outcome;
  }
}
