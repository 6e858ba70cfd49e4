/**
 * Table definitions: each module declares its own (in its `<m>.module.ts`), the platform declares
 * the idempotency table. The CDK stack, the local runtime and the tests all build their tables
 * from these objects, so a key or index exists everywhere or nowhere.
 */
import { envName } from '../env-names.js';

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
  /**
   * Stable logical name, unique across modules: CDK construct id, default local table suffix
   * (`<prefix>-<id>`) and the environment variable carrying the physical name (tableEnvVar).
   */
  readonly id: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalIndexes?: readonly GlobalIndexDefinition[];
  readonly localIndexes?: readonly LocalIndexDefinition[];
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes expired items. */
  readonly timeToLiveAttribute?: string;
}

export const S = (name: string): KeyAttribute => ({ name, type: 'S' });
export const N = (name: string): KeyAttribute => ({ name, type: 'N' });

/** Idempotency records for the Idempotency-Key header (Powertools' DynamoDB persistence layout). */
export const idempotencyTable = {
  id: 'idempotency',
  partitionKey: S('id'),
  timeToLiveAttribute: 'expiration',
} as const satisfies TableDefinition;

/** `widgets` → `WIDGETS_TABLE_NAME`: where the CDK stack passes a table's physical name. */
export function tableEnvVar(table: Pick<TableDefinition, 'id'>): string {
  return envName(table.id, 'TABLE_NAME');
}

/** Table name used where no environment variable names one (local runtime, tests). */
export function defaultTableName(table: Pick<TableDefinition, 'id'>, prefix = 'roster'): string {
  return `${prefix}-${table.id}`;
}
