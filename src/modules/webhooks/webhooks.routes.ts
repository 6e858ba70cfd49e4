import * as z from 'zod/mini';
import {
  createRouter,
  jsonBody,
  jsonContent,
  problemResponses,
} from '../../platform/http/openapi.js';
import { paginationQuery, setNextLink } from '../../platform/http/pagination.js';
import { createRoute } from '../../platform/http/routes.js';
import {
  CreateWebhookSchema,
  DeliveryAttemptSchema,
  DeliveryParams,
  DeliverySchema,
  EventTypeSchema,
  ReplayedSchema,
  ReplaySchema,
  UpdateWebhookSchema,
  WebhookEndpointSchema,
  WebhookIdParam,
  WebhookWithSecretSchema,
} from './webhooks.schemas.js';
import type { WebhooksService } from './webhooks.service.js';

const tags = ['webhooks'];

const eventTypesRoute = createRoute({
  method: 'get',
  path: '/webhooks/event-types',
  tags,
  summary: 'The domain event types an endpoint can subscribe to',
  description: 'The payload of each is described under `webhooks` in this document.',
  responses: {
    200: jsonContent(z.array(EventTypeSchema), 'The catalogue'),
    ...problemResponses(401),
  },
});

const createEndpointRoute = createRoute({
  method: 'post',
  path: '/webhooks',
  tags,
  summary: 'Create a webhook endpoint',
  description:
    'Account-wide: it receives every event of the listed types that occurs from now on (earlier ones by replay). The answer carries the signing secret — the only time it is shown. Not idempotent by `Idempotency-Key` (a stored answer would keep the secret).',
  request: { body: jsonBody(CreateWebhookSchema) },
  responses: {
    201: jsonContent(WebhookWithSecretSchema, 'Created, with its secret'),
    ...problemResponses(400, 401, 409, 413, 415, 422),
  },
});

const listEndpointsRoute = createRoute({
  method: 'get',
  path: '/webhooks',
  tags,
  summary: 'List webhook endpoints, oldest first',
  request: { query: paginationQuery },
  responses: {
    200: jsonContent(z.array(WebhookEndpointSchema), '`Link: rel="next"` when more remain'),
    ...problemResponses(400, 401),
  },
});

const getEndpointRoute = createRoute({
  method: 'get',
  path: '/webhooks/{id}',
  tags,
  summary: 'Get a webhook endpoint (never its secret)',
  request: { params: WebhookIdParam },
  responses: {
    200: jsonContent(WebhookEndpointSchema, 'The endpoint'),
    ...problemResponses(400, 401, 404),
  },
});

const updateEndpointRoute = createRoute({
  method: 'patch',
  path: '/webhooks/{id}',
  tags,
  summary: 'Change a webhook endpoint: URL, event types, description, enabled',
  request: { params: WebhookIdParam, body: jsonBody(UpdateWebhookSchema) },
  responses: {
    200: jsonContent(WebhookEndpointSchema, 'As changed'),
    ...problemResponses(400, 401, 404, 413, 415, 422),
  },
});

const deleteEndpointRoute = createRoute({
  method: 'delete',
  path: '/webhooks/{id}',
  tags,
  summary: 'Delete a webhook endpoint (its pending deliveries are abandoned)',
  request: { params: WebhookIdParam },
  responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 404) },
});

const rotateRoute = createRoute({
  method: 'post',
  path: '/webhooks/{id}/rotate',
  tags,
  summary: 'Rotate the signing secret',
  description:
    'A new secret, shown only in this answer. For 24 hours deliveries carry a signature by each (Standard Webhooks allows several in `webhook-signature`), so a receiver can switch without losing any.',
  request: { params: WebhookIdParam },
  responses: {
    200: jsonContent(WebhookWithSecretSchema, 'The endpoint and its new secret'),
    ...problemResponses(400, 401, 404),
  },
});

const attemptsRoute = createRoute({
  method: 'get',
  path: '/webhooks/{id}/deliveries',
  tags,
  summary: 'The delivery log: every attempt to this endpoint, newest first',
  request: { params: WebhookIdParam, query: paginationQuery },
  responses: {
    200: jsonContent(z.array(DeliveryAttemptSchema), '`Link: rel="next"` when more remain'),
    ...problemResponses(400, 401, 404),
  },
});

const deliveryRoute = createRoute({
  method: 'get',
  path: '/webhooks/{id}/deliveries/{eventId}',
  tags,
  summary: 'Where one event stands with this endpoint',
  request: { params: DeliveryParams },
  responses: {
    200: jsonContent(DeliverySchema, 'The delivery'),
    ...problemResponses(400, 401, 404),
  },
});

const replayRoute = createRoute({
  method: 'post',
  path: '/webhooks/{id}/replay',
  tags,
  summary: 'Send events again: one by id, or every event of a time window',
  description:
    'Each starts a new round of attempts with the same `webhook-id` (a receiver that has it already can tell). A window holding more events than the limit (10,000 by default) is refused whole.',
  request: { params: WebhookIdParam, body: jsonBody(ReplaySchema) },
  responses: {
    202: jsonContent(ReplayedSchema, 'Queued'),
    ...problemResponses(400, 401, 404, 413, 415, 422),
  },
});

export function webhookRoutes(service: WebhooksService) {
  const app = createRouter();

  app.openapi(eventTypesRoute, (c) => c.json(service.eventTypes(), 200));

  app.openapi(createEndpointRoute, async (c) => {
    const { endpoint, secret } = await service.createEndpoint(c.req.valid('json'));
    c.header('location', `/webhooks/${endpoint.id}`);
    c.header('cache-control', 'no-store');
    return c.json({ ...endpoint, secret }, 201);
  });

  app.openapi(listEndpointsRoute, async (c) => {
    const page = await service.listEndpoints(c.req.valid('query'));
    setNextLink(c, page.nextCursor);
    return c.json(page.items, 200);
  });

  app.openapi(getEndpointRoute, async (c) =>
    c.json(await service.getEndpoint(c.req.valid('param').id), 200),
  );

  app.openapi(updateEndpointRoute, async (c) =>
    c.json(await service.updateEndpoint(c.req.valid('param').id, c.req.valid('json')), 200),
  );

  app.openapi(deleteEndpointRoute, async (c) => {
    await service.deleteEndpoint(c.req.valid('param').id);
    return c.body(null, 204);
  });

  app.openapi(rotateRoute, async (c) => {
    const { endpoint, secret } = await service.rotateSecret(c.req.valid('param').id);
    c.header('cache-control', 'no-store');
    return c.json({ ...endpoint, secret }, 200);
  });

  app.openapi(attemptsRoute, async (c) => {
    const page = await service.listAttempts(c.req.valid('param').id, c.req.valid('query'));
    setNextLink(c, page.nextCursor);
    return c.json(page.items, 200);
  });

  app.openapi(deliveryRoute, async (c) => {
    const { id, eventId } = c.req.valid('param');
    return c.json(await service.getDelivery(id, eventId), 200);
  });

  app.openapi(replayRoute, async (c) => {
    const { eventId, since, until } = c.req.valid('json');
    const what = eventId !== undefined ? { eventId } : { since: since ?? '', until: until ?? '' };
    return c.json(await service.replay(c.req.valid('param').id, what), 202);
  });

  return app;
}

/** The `data` schema of each domain event of this module (the OpenAPI document's webhooks). */
export const webhooksEventSchemas = () => ({
  'webhook_endpoint.disabled': WebhookEndpointSchema,
});
