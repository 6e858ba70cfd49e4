import { S, type TableDefinition } from '../../platform/dynamo/tables.js';

/**
 * auth: the local issuer's users and the per-username sign-in throttle (keys in auth.dynamo.ts).
 * The local issuer writes nothing for a username nobody has.
 * - gsi1  users by username   GSI1PK=USERS, GSI1SK=<username>
 */
export const authTable = {
  id: 'auth',
  partitionKey: S('PK'),
  globalIndexes: [{ indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') }],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDefinition;
