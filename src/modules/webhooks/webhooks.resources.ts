import { S, type TableDefinition } from '../../platform/dynamo/tables.js';
import type { QueueDefinition } from '../../platform/queue/queue.js';

/**
 * webhooks: endpoints, deliveries and the attempt log, one partition per endpoint (keys in
 * webhooks.dynamo.ts).
 * - gsi1  endpoints by creation   GSI1PK=ENDPOINTS   GSI1SK=<createdAt>#<id>
 *         deliveries due (sparse) GSI1PK=DUE         GSI1SK=<nextAttemptAt>#<endpointId>#<eventId>
 */
export const webhooksTable = {
  id: 'webhooks',
  partitionKey: S('PK'),
  sortKey: S('SK'),
  globalIndexes: [{ indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') }],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDefinition;

/**
 * One message per delivery attempt due. An attempt takes at most `attemptTimeoutSeconds` (30 at
 * most), so a consumer's batch, attempted in parallel, ends well within 60 s.
 */
export const deliveryQueue = {
  id: 'webhook-deliveries',
  maxReceiveCount: 10,
  consumerTimeoutSeconds: 60,
  batchSize: 10,
  maxConcurrency: 10,
} as const satisfies QueueDefinition;
