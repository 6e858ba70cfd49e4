import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTableCommand,
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

/**
 * Creates the tables that don't exist yet, and adds to existing ones the global indexes their
 * definition gained since they were created (a data directory of an earlier release); their
 * items are kept, and indexed as DynamoDB builds each new index.
 */
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
    if (existing.has(name)) {
      await addMissingIndexes(client, definition, name);
      continue;
    }
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

/** How long a new index of an existing local table may take to become ACTIVE. */
const INDEX_BUILD_TIMEOUT_MS = 120_000;

/**
 * Creates the global indexes of `definition` that table `name` lacks, one UpdateTable each
 * (DynamoDB creates one index per call), waiting for each to be ACTIVE before the next. Indexes
 * the table has and the definition does not are left: dropping one is a decision, not an upgrade.
 */
async function addMissingIndexes(
  client: DynamoDBClient,
  definition: TableDefinition,
  name: string,
): Promise<void> {
  const described = await client.send(new DescribeTableCommand({ TableName: name }));
  const present = new Set(
    (described.Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName),
  );
  const wanted = createTableInput(definition, name);
  for (const index of wanted.GlobalSecondaryIndexes ?? []) {
    if (present.has(index.IndexName)) continue;
    const keyNames = new Set((index.KeySchema ?? []).map((key) => key.AttributeName));
    await client.send(
      new UpdateTableCommand({
        TableName: name,
        AttributeDefinitions: (wanted.AttributeDefinitions ?? []).filter((attribute) =>
          keyNames.has(attribute.AttributeName),
        ),
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    );
    await indexActive(client, name, String(index.IndexName));
  }
}

async function indexActive(client: DynamoDBClient, name: string, indexName: string) {
  const deadline = Date.now() + INDEX_BUILD_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    const index = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === indexName);
    if (Table?.TableStatus === 'ACTIVE' && index?.IndexStatus === 'ACTIVE') return;
    if (Date.now() > deadline) {
      throw new Error(`index ${indexName} of table ${name} is not ACTIVE after 120 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
