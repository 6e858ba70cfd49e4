import * as z from 'zod/mini';
import { withIdempotencyKey } from '../../platform/http/idempotency.js';
import {
  createRouter,
  jsonBody,
  jsonContent,
  problemResponses,
} from '../../platform/http/openapi.js';
import { paginationQuery, setNextLink } from '../../platform/http/pagination.js';
import { createRoute } from '../../platform/http/routes.js';
import {
  CreateEventSchema,
  DeleteEventResultSchema,
  EventIdParam,
  EventOrderSchema,
  EventSchema,
  EventStatusSchema,
  eventBody,
  RegistrationSchema,
  UpdateEventSchema,
} from './events.schemas.js';
import type { EventsService } from './events.service.js';

const tags = ['events'];

const createEventRoute = createRoute(
  withIdempotencyKey({
    method: 'post',
    path: '/events',
    tags,
    summary: 'Create an event',
    request: { body: jsonBody(CreateEventSchema) },
    responses: {
      201: jsonContent(EventSchema, 'Created'),
      ...problemResponses(400, 401, 409, 413, 415, 422),
    },
  }),
);

const listEventsRoute = createRoute({
  method: 'get',
  path: '/events',
  tags,
  summary: 'List events, optionally by status',
  request: {
    query: z.extend(paginationQuery, {
      status: z.optional(EventStatusSchema),
      order: z._default(z.optional(EventOrderSchema), 'oldest'),
    }),
  },
  responses: {
    200: jsonContent(
      z.array(EventSchema),
      'Events by creation, oldest first unless `order=newest`; `Link: rel="next"` when more remain',
    ),
    ...problemResponses(400, 401, 422),
  },
});

const getEventRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}',
  tags,
  summary: 'Get an event',
  request: { params: EventIdParam },
  responses: { 200: jsonContent(EventSchema, 'The event'), ...problemResponses(401, 404, 422) },
});

const updateEventRoute = createRoute({
  method: 'put',
  path: '/events/{eventId}',
  tags,
  summary: 'Change some fields of an event',
  description:
    'Partial update. Capacity below the confirmed count is a 409; raising it confirms waitlisted users in join order. Answers the event as committed.',
  request: { params: EventIdParam, body: jsonBody(UpdateEventSchema) },
  responses: {
    200: jsonContent(EventSchema, 'The updated event'),
    ...problemResponses(400, 401, 404, 409, 413, 415, 422, 503),
  },
});

const deleteEventRoute = createRoute({
  method: 'delete',
  path: '/events/{eventId}',
  tags,
  summary: 'Delete an event and its registrations',
  description:
    'The event disappears at once; its id can be used again once its registrations are removed (until then creating it again is a 409).',
  request: { params: EventIdParam },
  responses: {
    200: jsonContent(DeleteEventResultSchema, 'Deleted'),
    ...problemResponses(401, 404, 422),
  },
});

export function eventRoutes(service: EventsService) {
  const app = createRouter();

  app.openapi(createEventRoute, async (c) => {
    const { waitlistEnabled, hasWaitlist, ...input } = c.req.valid('json');
    const event = await service.createEvent(
      { ...input, hasWaitlist: hasWaitlist ?? waitlistEnabled },
      c.get('requestKey'),
    );
    c.header('location', `/events/${encodeURIComponent(event.eventId)}`);
    return c.json(eventBody(event), 201);
  });

  app.openapi(listEventsRoute, async (c) => {
    const { status, order, limit, cursor } = c.req.valid('query');
    const page = await service.listEvents({ status, order }, { limit, cursor });
    setNextLink(c, page.nextCursor);
    return c.json(page.items.map(eventBody), 200);
  });

  app.openapi(getEventRoute, async (c) =>
    c.json(eventBody(await service.getEvent(c.req.valid('param').eventId)), 200),
  );

  app.openapi(updateEventRoute, async (c) => {
    const { waitlistEnabled, hasWaitlist, ...changes } = c.req.valid('json');
    const waitlist = hasWaitlist ?? waitlistEnabled;
    const event = await service.updateEvent(c.req.valid('param').eventId, {
      ...changes,
      ...(waitlist === undefined ? {} : { hasWaitlist: waitlist }),
    });
    return c.json(eventBody(event), 200);
  });

  app.openapi(deleteEventRoute, async (c) => {
    const { eventId } = c.req.valid('param');
    const deletedRegistrations = await service.deleteEvent(eventId);
    return c.json({ message: `Event ${eventId} deleted.`, eventId, deletedRegistrations }, 200);
  });

  return app;
}

/** The `data` schema of each domain event of this module (the OpenAPI document's webhooks). */
export const eventsEventSchemas = () => ({
  'event.created': EventSchema,
  'event.updated': EventSchema,
  'event.cancelled': EventSchema,
  'event.deleted': EventSchema,
  'registration.confirmed': RegistrationSchema,
  'registration.waitlisted': RegistrationSchema,
  'registration.promoted': RegistrationSchema,
  'registration.cancelled': RegistrationSchema,
  'registration.offered': RegistrationSchema,
  'registration.offer_expired': RegistrationSchema,
  'registration.offer_declined': RegistrationSchema,
});
