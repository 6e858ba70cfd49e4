import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';

/**
 * The floor of the Lambda bench: the least an HTTP Lambda on DynamoDB can be — Hono and the
 * DynamoDB document client, one route doing one GetItem — bundled by the same function as Roster's
 * (infra/bundling.ts), so the API's bundle and init time are compared with it in the same run.
 */
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const app = new Hono();

app.get('/health', async (c) => {
  const { Item } = await doc.send(new GetCommand({ TableName: 'floor', Key: { id: 'health' } }));
  return c.json({ status: 'ok', found: Item !== undefined });
});

export const handler = handle(app);
