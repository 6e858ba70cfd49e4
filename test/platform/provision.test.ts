import { randomBytes } from 'node:crypto';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients, type DynamoClients } from '../../src/platform/dynamo/client.js';
import { ensureTables } from '../../src/platform/dynamo/provision.js';
import { S, type TableDefinition } from '../../src/platform/dynamo/tables.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../src/runtime/local/dynamodb-local.js';

/** A table as an earlier release defined it, and as this one does: one index more. */
const before = {
  id: 'widgets',
  partitionKey: S('PK'),
  sortKey: S('SK'),
  globalIndexes: [{ indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') }],
} as const satisfies TableDefinition;
const after = {
  ...before,
  globalIndexes: [
    ...before.globalIndexes,
    { indexName: 'gsi2', partitionKey: S('GSI2PK'), sortKey: S('GSI2SK') },
    { indexName: 'gsi3', partitionKey: S('GSI3PK') },
  ],
} as const satisfies TableDefinition;

describe('ensureTables on a data directory of an earlier release', () => {
  // A DynamoDB Local of its own, as the local runtime has at start-up: on the one the whole suite
  // shares, a new index of an existing table was once still CREATING after 120 s while other
  // files wrote to it (alone it is ACTIVE in about a second).
  let local: DynamoDbLocal;
  let dynamo: DynamoClients;
  beforeAll(async () => {
    local = await startDynamoDbLocal();
    dynamo = createDynamoClients({ region: 'us-east-1', endpoint: local.endpoint });
  });
  afterAll(async () => {
    dynamo?.client.destroy();
    await local?.stop();
  });

  const indexesOf = async (name: string) =>
    (
      (await dynamo.client.send(new DescribeTableCommand({ TableName: name }))).Table
        ?.GlobalSecondaryIndexes ?? []
    )
      .map((index) => `${index.IndexName}:${index.IndexStatus}`)
      .sort();

  it('adds the indexes the table lacks, keeping its items, and they answer queries', async () => {
    const name = `t${randomBytes(6).toString('hex')}-widgets`;
    expect(await ensureTables(dynamo.client, [{ definition: before, name }])).toEqual([name]);
    const item = { PK: 'W#1', SK: 'W', GSI1PK: 'A', GSI1SK: '1', GSI2PK: 'B', GSI2SK: '2' };
    await dynamo.doc.send(new PutCommand({ TableName: name, Item: item }));

    expect(await ensureTables(dynamo.client, [{ definition: after, name }])).toEqual([]);

    expect(await indexesOf(name)).toEqual(['gsi1:ACTIVE', 'gsi2:ACTIVE', 'gsi3:ACTIVE']);
    const found = await dynamo.doc.send(
      new QueryCommand({
        TableName: name,
        IndexName: 'gsi2',
        KeyConditionExpression: 'GSI2PK = :b',
        ExpressionAttributeValues: { ':b': 'B' },
      }),
    );
    expect(found.Items).toEqual([item]);
  });

  it('changes nothing on a table that has every index', async () => {
    const name = `t${randomBytes(6).toString('hex')}-widgets`;
    await ensureTables(dynamo.client, [{ definition: after, name }]);
    const indexes = await indexesOf(name);

    expect(await ensureTables(dynamo.client, [{ definition: after, name }])).toEqual([]);

    expect(await indexesOf(name)).toEqual(indexes);
  });
});
