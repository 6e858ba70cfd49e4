import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { KeyAttribute, TableDefinition } from './tables.js';

/** The CreateTable request for a definition (the local runtime and tests; CDK has its own). */
export function createTableInput(
  table: TableDefinition,
  tableName: string,
): CreateTableCommandInput {
  const attributes = new Map<string, KeyAttribute>();
  const remember = (key: KeyAttribute | undefined) => {
    if (key) attributes.set(key.name, key);
  };
  remember(table.partitionKey);
  remember(table.sortKey);
  for (const index of table.globalIndexes ?? []) {
    remember(index.partitionKey);
    remember(index.sortKey);
  }
  for (const index of table.localIndexes ?? []) remember(index.sortKey);

  const keySchema = (partition: KeyAttribute, sort?: KeyAttribute) => [
    { AttributeName: partition.name, KeyType: 'HASH' as const },
    ...(sort ? [{ AttributeName: sort.name, KeyType: 'RANGE' as const }] : []),
  ];
  const attributeDefinitions: AttributeDefinition[] = [...attributes.values()].map((a) => ({
    AttributeName: a.name,
    AttributeType: a.type,
  }));

  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attributeDefinitions,
    KeySchema: keySchema(table.partitionKey, table.sortKey),
    ...(table.globalIndexes?.length
      ? {
          GlobalSecondaryIndexes: table.globalIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: 'ALL' },
          })),
        }
      : {}),
    ...(table.localIndexes?.length
      ? {
          LocalSecondaryIndexes: table.localIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(table.partitionKey, index.sortKey),
            Projection: { ProjectionType: 'ALL' },
          })),
        }
      : {}),
  };
}

/** Each definition with its physical name (`Config.tables`, which names every table it loaded). */
export function namedTables(
  definitions: readonly TableDefinition[],
  names: Readonly<Record<string, string>>,
): Array<{ definition: TableDefinition; name: string }> {
  return definitions.map((definition) => {
    const name = names[definition.id];
    if (!name) throw new Error(`no table name configured for table "${definition.id}"`);
    return { definition, name };
  });
}

/** Creates the tables that don't exist yet; existing tables (and their data) are left alone. */
export async function ensureTables(
  client: DynamoDBClient,
  tables: ReadonlyArray<{ definition: TableDefinition; name: string }>,
): Promise<string[]> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start);

  const created: string[] = [];
  for (const { definition, name } of tables) {
    if (existing.has(name)) continue;
    try {
      await client.send(new CreateTableCommand(createTableInput(definition, name)));
      created.push(name);
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
      continue; // created concurrently by another process: fine
    }
    if (definition.timeToLiveAttribute) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: definition.timeToLiveAttribute, Enabled: true },
        }),
      );
    }
  }
  return created;
}
