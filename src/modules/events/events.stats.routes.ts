import { createRouter, jsonContent, problemResponses } from '../../platform/http/openapi.js';
import { createRoute } from '../../platform/http/routes.js';
import { EventIdParam } from './events.schemas.js';
import { EventStatsQuery, EventStatsSchema } from './events.stats.schemas.js';
import type { EventStatsService } from './events.stats.service.js';

const statsRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}/stats',
  tags: ['events'],
  summary: 'An event’s numbers: confirmed, offered and waiting against capacity, now and per hour',
  description:
    'The counts now, and per hour the registrations made and the counts at the hour’s end (at most 744 hours, 31 days; without `from`/`to`, the last 744 hours up to the latest change). Costs one read of the event and one query per page of its registrations (its registrations index), never a scan.',
  request: { params: EventIdParam, query: EventStatsQuery },
  responses: {
    200: jsonContent(EventStatsSchema, 'The counts'),
    ...problemResponses(401, 404, 422),
  },
});

export function eventStatsRoutes(service: EventStatsService) {
  const app = createRouter();

  app.openapi(statsRoute, async (c) => {
    const { eventId } = c.req.valid('param');
    const stats = await service.stats(eventId, c.req.valid('query'));
    return c.json({ ...stats, hours: [...stats.hours] }, 200);
  });

  return app;
}
