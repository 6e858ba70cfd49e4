import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoClients } from '../../../src/platform/dynamo/client.js';

/** Every page of a query, read directly from the table (a test reading its own data). */
export async function queryAll(dynamo: DynamoClients, input: QueryCommand['input']) {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The items of one partition of an index. */
export const byIndex = (
  dynamo: DynamoClients,
  table: string,
  index: string,
  key: string,
  pk: string,
) =>
  queryAll(dynamo, {
    TableName: table,
    IndexName: index,
    KeyConditionExpression: `${key} = :pk`,
    ExpressionAttributeValues: { ':pk': pk },
  });
