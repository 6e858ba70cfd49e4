import { S, type TableDefinition } from '../../platform/dynamo/tables.js';

/**
 * customers: one table for the ID registry, the outbox and the execution records (keys in
 * customers.dynamo.ts).
 * - gsi1  outbox, executions by status  GSI1PK=OUTBOX | <status>, GSI1SK=<time>#<id>
 * - gsi2  executions by customer        GSI2PK=CUSTOMER#<id>,     GSI2SK=<startedAt>#<executionId>
 * - gsi3  the lists of all              GSI3PK=CUSTOMERS | EXECUTIONS, GSI3SK=<time>#<id>
 * One new index per release: CloudFormation adds at most one GSI to a table per update.
 */
export const customersTable = {
  id: 'customers',
  partitionKey: S('PK'),
  sortKey: S('SK'),
  globalIndexes: [
    { indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') },
    { indexName: 'gsi2', partitionKey: S('GSI2PK'), sortKey: S('GSI2SK') },
    { indexName: 'gsi3', partitionKey: S('GSI3PK'), sortKey: S('GSI3SK') },
  ],
} as const satisfies TableDefinition;
