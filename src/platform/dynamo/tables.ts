/**
 * The one set of table definitions. The CDK stack (infra/), the local runtime and the tests all
 * build their tables from these objects, so a key or index exists everywhere or nowhere.
 */

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface GlobalIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

export interface LocalIndexDefinition {
  readonly indexName: string;
  readonly sortKey: KeyAttribute;
}

export interface TableDefinition {
  /** Stable logical name: CDK construct id, config key and default local table suffix. */
  readonly id: string;
  /** Environment variable that carries the physical table name (set by the CDK stack). */
  readonly envVar: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalIndexes?: readonly GlobalIndexDefinition[];
  readonly localIndexes?: readonly LocalIndexDefinition[];
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes expired items. */
  readonly timeToLiveAttribute?: string;
}

const S = (name: string): KeyAttribute => ({ name, type: 'S' });

/**
 * events: single-table design for events, users and registrations.
 * - event        PK=EVENT#<eventId>  SK=EVENT
 * - user         PK=USER#<userId>    SK=USER
 * - registration PK=EVENT#<eventId>  SK=REG#<userId>   (one per user per event by key)
 * Indexes:
 * - gsi1  events by status           GSI1PK=STATUS#<status>       GSI1SK=<createdAt>#<eventId>
 * - gsi2  collections                GSI2PK=EVENTS | USERS | USER#<userId>#REGS, GSI2SK=<createdAt>#<id>
 * - lsi1  an event's registrations   LSI1SK=C#<registrationId> | W#<registrationId>
 *         (an LSI, not a GSI, because promotion needs a strongly consistent read of the head
 *         of the waitlist; registration ids are UUIDv7, so they sort in join order)
 */
export const eventsTable = {
  id: 'events',
  envVar: 'EVENTS_TABLE_NAME',
  partitionKey: S('PK'),
  sortKey: S('SK'),
  globalIndexes: [
    { indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') },
    { indexName: 'gsi2', partitionKey: S('GSI2PK'), sortKey: S('GSI2SK') },
  ],
  localIndexes: [{ indexName: 'lsi1', sortKey: S('LSI1SK') }],
} as const satisfies TableDefinition;

/** Idempotency records for the Idempotency-Key header (Powertools' DynamoDB persistence layout). */
export const idempotencyTable = {
  id: 'idempotency',
  envVar: 'IDEMPOTENCY_TABLE_NAME',
  partitionKey: S('id'),
  timeToLiveAttribute: 'expiration',
} as const satisfies TableDefinition;

export const tableDefinitions: readonly (TableDefinition & { id: TableId })[] = [
  eventsTable,
  idempotencyTable,
];

export type TableId = typeof eventsTable.id | typeof idempotencyTable.id;

/** Table name used where no environment variable names one (local runtime, tests). */
export function defaultTableName(table: TableDefinition, prefix = 'roster'): string {
  return `${prefix}-${table.id}`;
}
