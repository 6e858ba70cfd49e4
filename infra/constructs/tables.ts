import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  type KeyAttribute,
  type TableDefinition,
  tableEnvVar,
} from '../../src/platform/dynamo/tables.js';

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING,
  };
}

/**
 * Maps one shared table definition to a DynamoDB table. Keys and indexes come only from the
 * definition, so the deployed table and DynamoDB Local cannot drift apart.
 *
 * Data tables are never deleted by CloudFormation: deletion protection blocks an accidental
 * `DeleteTable`, RETAIN keeps the table when the stack (or the resource) goes away, and PITR
 * covers bad writes.
 */
export function tableFromDefinition(
  scope: Construct,
  definition: TableDefinition,
): dynamodb.TableV2 {
  return new dynamodb.TableV2(scope, definition.id, {
    partitionKey: attribute(definition.partitionKey),
    ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
    billing: dynamodb.Billing.onDemand(),
    encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
    ...(definition.timeToLiveAttribute
      ? { timeToLiveAttribute: definition.timeToLiveAttribute }
      : {}),
    globalSecondaryIndexes: (definition.globalIndexes ?? []).map((index) => ({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
      projectionType: dynamodb.ProjectionType.ALL,
    })),
    localSecondaryIndexes: (definition.localIndexes ?? []).map((index) => ({
      indexName: index.indexName,
      sortKey: attribute(index.sortKey),
      projectionType: dynamodb.ProjectionType.ALL,
    })),
  });
}

export interface TablesProps {
  readonly definitions: readonly TableDefinition[];
}

/** Every table of the app: the platform's and each module's. */
export class Tables extends Construct {
  readonly byDefinition: ReadonlyMap<TableDefinition, dynamodb.TableV2>;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    this.byDefinition = new Map(
      props.definitions.map((definition) => [definition, tableFromDefinition(this, definition)]),
    );
  }

  /** The table built from `definition`. */
  of(definition: TableDefinition): dynamodb.TableV2 {
    const table = this.byDefinition.get(definition);
    if (!table) throw new Error(`no table for definition "${definition.id}"`);
    return table;
  }

  /** Environment variables the app reads its table names from (`envVar` → physical name). */
  environment(): Record<string, string> {
    return Object.fromEntries(
      [...this.byDefinition].map(([definition, table]) => [
        tableEnvVar(definition),
        table.tableName,
      ]),
    );
  }
}
