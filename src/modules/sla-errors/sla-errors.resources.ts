import { S, type TableDefinition } from '../../platform/dynamo/tables.js';

/**
 * sla-errors: one item per record (keys in sla-errors.dynamo.ts).
 * - gsi1  all records by time      GSI1PK=SLA_ERRORS          GSI1SK=<receivedAt>#<id>
 * - gsi2  one file's records       GSI2PK=FILE#<fileName>     GSI2SK=<receivedAt>#<id>
 */
export const slaErrorsTable = {
  id: 'sla-errors',
  partitionKey: S('PK'),
  globalIndexes: [
    { indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') },
    { indexName: 'gsi2', partitionKey: S('GSI2PK'), sortKey: S('GSI2SK') },
  ],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDefinition;
