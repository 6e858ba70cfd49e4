import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { TableDefinition } from '../src/platform/dynamo/tables.js';

/**
 * DynamoDB actions a Roster function may be granted, as IAM names them. TransactWriteItems has no
 * action of its own (each item needs PutItem, UpdateItem, DeleteItem or ConditionCheckItem);
 * TransactGetItems needs GetItem. Scan is granted only to migration tasks (nothing on a request
 * path scans); the stream actions are not in the list: nothing reads streams.
 */
export type DynamoAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem'
  | 'Scan';

/** What one function does on one table. */
export interface TableAccess {
  readonly table: TableDefinition;
  /** Actions on the table's own items (`Query` here: on the table's primary key). */
  readonly actions: readonly DynamoAction[];
  /** The indexes it queries (`Query` on `<table arn>/index/<name>`, each by name). */
  readonly indexes?: readonly string[];
}

/**
 * What each of a module's functions does on its tables, declared beside its construct
 * (`export const access` in `<m>.infra.ts`): `api` for its routes (they run in the API Lambda),
 * one entry per task (its task Lambda), and any function its construct adds (the auth module's
 * `authorizer`). The stack grants exactly this, nothing else on DynamoDB.
 */
export type ModuleAccess = Readonly<Record<string, readonly TableAccess[]>>;

/** The access key of the routes' function. */
export const API_ACCESS = 'api';

/** The IAM statements for one function's access to one table (item actions; index queries). */
export function tableAccessStatements(
  table: dynamodb.ITableV2,
  access: TableAccess,
): iam.PolicyStatement[] {
  const { table: definition, actions, indexes = [] } = access;
  const known = new Set([
    ...(definition.globalIndexes ?? []).map((index) => index.indexName),
    ...(definition.localIndexes ?? []).map((index) => index.indexName),
  ]);
  for (const index of indexes) {
    if (!known.has(index)) throw new Error(`table "${definition.id}" has no index "${index}"`);
  }
  if (new Set(actions).size !== actions.length) {
    throw new Error(`table "${definition.id}": an action is listed twice (${actions.join(', ')})`);
  }
  const statements: iam.PolicyStatement[] = [];
  if (actions.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        actions: actions.map((action) => `dynamodb:${action}`),
        resources: [table.tableArn],
      }),
    );
  }
  if (indexes.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: indexes.map((index) => `${table.tableArn}/index/${index}`),
      }),
    );
  }
  return statements;
}
