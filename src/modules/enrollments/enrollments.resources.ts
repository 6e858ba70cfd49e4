import { S, type TableDefinition } from '../../platform/dynamo/tables.js';
import type { QueueDefinition } from '../../platform/queue/queue.js';

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
