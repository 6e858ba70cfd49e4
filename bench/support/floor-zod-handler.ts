import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { handle } from 'hono/aws-lambda';

/**
 * The floor (floor-handler.ts) with the route declared the way Roster declares its routes:
 * @hono/zod-openapi and zod 4 (classic), one schema, the OpenAPI document. Not a Roster function:
 * the bench shows how much of the API's size and init these two libraries take by themselves.
 */
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const app = new OpenAPIHono();
const Health = z.object({ status: z.string(), found: z.boolean() }).openapi('Health');

app.openapi(
  createRoute({
    method: 'get',
    path: '/health',
    responses: {
      200: { description: 'ok', content: { 'application/json': { schema: Health } } },
    },
  }),
  async (c) => {
    const { Item } = await doc.send(new GetCommand({ TableName: 'floor', Key: { id: 'health' } }));
    return c.json({ status: 'ok', found: Item !== undefined }, 200);
  },
);
app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'floor', version: '1' } });

export const handler = handle(app);
