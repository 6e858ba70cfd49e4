import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';

/**
 * The floor of the Lambda bench: the least an HTTP Lambda on DynamoDB can be — Hono and the
 * DynamoDB document client, one route doing one GetItem — bundled by the same function as Roster's
 * (infra/bundling.ts), so the API's bundle and init time are compared with it in the same run.
 * Its second route refuses a body without a name as the API's `POST /events` does (422,
 * problem+json), checked by hand: the request the bench times after the import on both.
 */
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const app = new Hono();

app.get('/health', async (c) => {
  const { Item } = await doc.send(new GetCommand({ TableName: 'floor', Key: { id: 'health' } }));
  return c.json({ status: 'ok', found: Item !== undefined });
});

app.post('/events', async (c) => {
  const body = (await c.req.json().catch(() => undefined)) as { name?: unknown } | undefined;
  if (typeof body?.name !== 'string' || body.name.length === 0) {
    return c.json(
      {
        type: 'about:blank',
        title: 'Unprocessable Content',
        status: 422,
        detail: 'name: required',
      },
      422,
      { 'content-type': 'application/problem+json' },
    );
  }
  return c.json({ name: body.name }, 201);
});

export const handler = handle(app);
