import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { handle } from 'hono/aws-lambda';
import * as z from 'zod/mini';
import { createRoute, Router } from '../../src/platform/http/routes.js';

/**
 * The floor (floor-handler.ts) with the route declared the way Roster declares its routes: zod 4
 * (zod/mini) and Roster's route layer (src/platform/http/routes.ts), one schema; the OpenAPI
 * document is built when bundling, so nothing of it loads here. Not a Roster function: the bench
 * shows how much of the API's size and init these take by themselves.
 */
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const app = new Router((_target, error) => error);
const Health = z.object({ status: z.string(), found: z.boolean() }).check(z.meta({ id: 'Health' }));

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

export const handler = handle(app);
