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
 * With `retain` (the production stage) a table is never deleted by CloudFormation: deletion
 * protection blocks an accidental `DeleteTable` and RETAIN keeps the table when the stack (or the
 * resource) goes away. Without it (dev, test stages) `cdk destroy` removes the tables. PITR
 * covers bad writes on every stage.
 */
export function tableFromDefinition(
  scope: Construct,
  definition: TableDefinition,
  retain = true,
): dynamodb.TableV2 {
  return new dynamodb.TableV2(scope, definition.id, {
    partitionKey: attribute(definition.partitionKey),
    ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
    billing: dynamodb.Billing.onDemand(),
    encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: retain,
    removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
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
  /** Keep the tables (and protect them from deletion). @default true */
  readonly retain?: boolean;
}

/** Every table of the app: the platform's and each module's. */
export class Tables extends Construct {
  readonly byDefinition: ReadonlyMap<TableDefinition, dynamodb.TableV2>;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    this.byDefinition = new Map(
      props.definitions.map((definition) => [
        definition,
        tableFromDefinition(this, definition, props.retain ?? true),
      ]),
    );
  }

  /** The table built from `definition`. */
  of(definition: TableDefinition): dynamodb.TableV2 {
    const table = this.byDefinition.get(definition);
    if (!table) throw new Error(`no table for definition "${definition.id}"`);
    return table;
  }

  /**
   * Environment variables the app reads its table names from (`tableEnvVar` → physical
   * name), for every table or the given ones.
   */
  environment(definitions?: readonly TableDefinition[]): Record<string, string> {
    return Object.fromEntries(
      [...this.byDefinition]
        .filter(([definition]) => !definitions || definitions.includes(definition))
        .map(([definition, table]) => [tableEnvVar(definition), table.tableName]),
    );
  }
}
