import * as z from 'zod/mini';
import { S, type TableDefinition } from '../../platform/dynamo/tables.js';
import { integerSetting } from '../../platform/input.js';
import { defineModule, isStartupRun } from '../../platform/module.js';
import { type QueueDefinition, queueOf } from '../../platform/queue/queue.js';
import { scheduleSetting } from '../../platform/schedule.js';
import { DynamoEnrollmentRepository } from './enrollments.dynamo.js';
import { enrollmentEvents } from './enrollments.model.js';
import { ageGroupRoutes, enrollmentRoutes, enrollmentsEventSchemas } from './enrollments.routes.js';
import { cpfGuardKey } from './enrollments.rules.js';
import { EnrollmentsService } from './enrollments.service.js';
import { enrollmentStatsRoutes } from './enrollments.stats.routes.js';

/**
 * enrollments: single-table design for age groups, the age buckets that map an age to its group,
 * CPF guards and enrollment requests (keys in enrollments.dynamo.ts).
 * - gsi1  age groups by min age      GSI1PK=AGE_GROUPS          GSI1SK=<min, 3 digits>#<id>
 *         and enrollments by group and status   GSI1PK=ENROLLMENTS#<group id>#<status>
 *                                                 GSI1SK=<createdAt>#<id>
 * - gsi2  pending enrollments        GSI2PK=PENDING#<shard>     GSI2SK=<createdAt>#<id>
 *         (sparse: the keys are removed when a request leaves PENDING; the reconciler reads it)
 * - gsi3  enrollments by status      GSI3PK=ENROLLMENTS#<status> GSI3SK=<createdAt>#<id>
 * The list of enrollments reads gsi3 (by status) and gsi1 (by group and status); the lists
 * without a status merge the three status partitions (docs/decisions/enrollments.md).
 */
export const enrollmentsTable = {
  id: 'enrollments',
  partitionKey: S('PK'),
  sortKey: S('SK'),
  globalIndexes: [
    { indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') },
    { indexName: 'gsi2', partitionKey: S('GSI2PK'), sortKey: S('GSI2SK') },
    { indexName: 'gsi3', partitionKey: S('GSI3PK'), sortKey: S('GSI3SK') },
  ],
} as const satisfies TableDefinition;

/**
 * The queue that wakes the processor. Visibility timeout 6 × 20 s = 2 min; after 5 receives a
 * message goes to the dead-letter queue.
 */
export const enrollmentQueue = {
  id: 'enrollments',
  maxReceiveCount: 5,
  consumerTimeoutSeconds: 20,
  batchSize: 10,
} as const satisfies QueueDefinition;

const settings = z.object({
  /** A request still PENDING this long after it was accepted is sent to the queue again. */
  reconcileAfterSeconds: integerSetting(120, { min: 1, max: 86_400 }),
  /** How often the reconciler runs. */
  reconcileSchedule: scheduleSetting('rate(1 minute)'),
  /**
   * How often enrollments stored before the list existed get its index keys (also at local
   * start-up); `off` once a run has found none left.
   */
  listBackfillSchedule: scheduleSetting('rate(1 hour)'),
});

/** Age groups and CPF-checked enrollment requests processed through a queue. */
export const enrollmentsModule = defineModule({
  name: 'enrollments',
  tables: [enrollmentsTable],
  settings,
  services: (context) => {
    return {
      enrollments: new EnrollmentsService({
        repository: new DynamoEnrollmentRepository(context.table(enrollmentsTable), context.outbox),
        queue: queueOf(context.ports.queues, enrollmentQueue),
        cpfKey: async (digits) => cpfGuardKey((await context.secrets()).key('cpf'), digits),
        newId: context.newId,
        clock: context.clock,
        logger: context.logger,
        reconcileAfterSeconds: context.settings.reconcileAfterSeconds,
        metrics: context.metrics,
        outbox: context.outbox,
      }),
    };
  },
  routes: ({ enrollments }) => [
    ageGroupRoutes(enrollments),
    // Before `/enrollments/{id}`.
    enrollmentStatsRoutes(enrollments),
    enrollmentRoutes(enrollments),
  ],
  domainEventSchemas: enrollmentsEventSchemas,
  domainEvents: [
    {
      type: enrollmentEvents.accepted,
      description:
        'An enrollment request was accepted: its record is stored PENDING (sequence 1). A request refused at once (bad CPF, no age group, CPF taken) stores nothing and announces nothing.',
    },
    {
      type: enrollmentEvents.processed,
      description: 'The processor enrolled the request: PENDING → PROCESSED (sequence 2, final).',
    },
    {
      type: enrollmentEvents.rejected,
      description:
        'The processor rejected the request, its age group deleted in between: PENDING → REJECTED with a `reason` (sequence 2, final); its CPF may enroll again.',
    },
  ],
  tags: [
    {
      name: 'enrollments',
      description:
        'Age groups; enrollment requests checked against them (CPF, age) and processed through a queue',
    },
  ],
  tasks: [
    {
      name: 'process',
      description:
        'Processes enrollment requests from the queue (PENDING → PROCESSED or REJECTED).',
      queue: enrollmentQueue,
      run: ({ enrollments }, message) =>
        enrollments.process(message as Parameters<EnrollmentsService['process']>[0]),
    },
    {
      name: 'reconcile',
      description: 'Sends enrollment requests left PENDING too long to the queue again.',
      // At local start-up every PENDING record is sent again, however young: the in-process
      // queue lost its messages with the process. Run any other way (on its schedule, here or on
      // AWS), it leaves alone records younger than reconcileAfterSeconds, whose message is
      // probably still on its way.
      startup: true,
      schedule: (s) => s.reconcileSchedule,
      run: ({ enrollments }, input) => enrollments.reconcile({ all: isStartupRun(input) }),
    },
    {
      name: 'backfill-list-keys',
      description:
        'Gives enrollments stored by an earlier release the index keys GET /enrollments reads (idempotent).',
      // Locally a developer's existing data is listed from the first start after the upgrade;
      // on AWS the schedule runs it until an operator turns it off.
      startup: true,
      schedule: (s) => s.listBackfillSchedule,
      run: ({ enrollments }) => enrollments.backfillListKeys(),
    },
  ],
});
