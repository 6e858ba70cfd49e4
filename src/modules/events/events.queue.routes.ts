import {
  createRouter,
  jsonBody,
  jsonContent,
  problemResponses,
} from '../../platform/http/openapi.js';
import { createRoute } from '../../platform/http/routes.js';
import { JoinQueueBodySchema, QueuePlaceSchema } from './events.queue.schemas.js';
import type { QueueService } from './events.queue.service.js';
import { EventIdParam, EventUserParams } from './events.schemas.js';

const tags = ['events'];

const joinRoute = createRoute({
  method: 'post',
  path: '/events/{eventId}/queue',
  tags,
  summary: "Join an event's waiting room",
  description:
    'For an event with `admission` on: a place in its queue, and when it is admitted at the current rate. The same user again gets the same place (200). An event without a queue switched on: 409 EVENTS.QUEUE_OFF.',
  request: { params: EventIdParam, body: jsonBody(JoinQueueBodySchema) },
  responses: {
    201: jsonContent(QueuePlaceSchema, 'In the queue'),
    200: jsonContent(QueuePlaceSchema, 'Already in the queue: the same place'),
    ...problemResponses(400, 401, 404, 409, 422),
  },
});

const placeRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}/queue/{userId}',
  tags,
  summary: "A user's place in an event's waiting room",
  description:
    'The place and when it is admitted; once admitted, an admission token for the registration (a fresh one each read, good for the event’s `tokenSeconds`). A user with no place: 404 EVENTS.NOT_IN_QUEUE.',
  request: { params: EventUserParams },
  responses: {
    200: jsonContent(QueuePlaceSchema, 'The place, with a token once admitted'),
    ...problemResponses(401, 404, 409, 422),
  },
});

export function queueRoutes(service: QueueService) {
  const app = createRouter();

  app.openapi(joinRoute, async (c) => {
    const { eventId } = c.req.valid('param');
    const { userId } = c.req.valid('json');
    const { place, created } = await service.join(eventId, userId);
    return created ? c.json(place, 201) : c.json(place, 200);
  });

  app.openapi(placeRoute, async (c) => {
    const { eventId, userId } = c.req.valid('param');
    return c.json(await service.place(eventId, userId), 200);
  });

  return app;
}
