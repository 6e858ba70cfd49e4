import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../platform/http/context.js';
import {
  createRouter,
  jsonBody,
  jsonContent,
  problemResponses,
} from '../../platform/http/openapi.js';
import { paginationQuery, setNextLink } from '../../platform/http/pagination.js';
import {
  CreateEventSchema,
  CreateUserSchema,
  DeleteEventResultSchema,
  EventIdParam,
  EventSchema,
  EventStatusSchema,
  EventUserParams,
  RegisterBodySchema,
  RegisterForEventBodySchema,
  RegistrationSchema,
  UnregisterResultSchema,
  UpdateEventSchema,
  UserIdParam,
  UserRegistrationSchema,
  UserSchema,
} from './events.schemas.js';
import type { EventsService } from './events.service.js';

export interface EventsRoutesDeps {
  readonly service: EventsService;
  /** Idempotency-Key support for the create routes. */
  readonly idempotent: MiddlewareHandler<AppEnv>;
}

const tags = ['events'];
const idempotencyHeader = z.object({
  'idempotency-key': z.string().optional().openapi({
    description: 'Replays the first response for 24 h when sent again with the same body.',
  }),
});

const registerResponses = {
  201: jsonContent(
    RegistrationSchema,
    'Registered: `confirmed`, or `waitlisted` with its position',
  ),
  ...problemResponses(400, 401, 404, 409, 422, 503),
};
const registerDescription =
  'A free seat confirms; a full event with a waitlist waitlists (FIFO); a full event without one is a 409, ' +
  'as are a second registration and a cancelled or completed event. Unknown user or event: 404.';

const unregisterResponses = {
  200: jsonContent(UnregisterResultSchema, 'Unregistered; `promoted` lists who got the freed seat'),
  ...problemResponses(401, 404, 422, 503),
};
const unregisterDescription =
  'When a confirmed user leaves, the earliest waitlisted user is confirmed in the same atomic step.';

export function eventsRoutes({ service, idempotent }: EventsRoutesDeps): OpenAPIHono<AppEnv> {
  const app = createRouter();

  // ---- events ----
  app.openapi(
    createRoute({
      method: 'post',
      path: '/events',
      tags,
      summary: 'Create an event',
      middleware: [idempotent] as const,
      request: { headers: idempotencyHeader, body: jsonBody(CreateEventSchema) },
      responses: {
        201: jsonContent(EventSchema, 'Created'),
        ...problemResponses(400, 401, 409, 413, 415, 422),
      },
    }),
    async (c) => {
      const event = await service.createEvent(c.req.valid('json'));
      c.header('location', `/events/${encodeURIComponent(event.eventId)}`);
      return c.json(event, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/events',
      tags,
      summary: 'List events, optionally by status',
      request: { query: paginationQuery.extend({ status: EventStatusSchema.optional() }) },
      responses: {
        200: jsonContent(
          z.array(EventSchema),
          'Events, oldest first; `Link: rel="next"` when more remain',
        ),
        ...problemResponses(400, 401, 422),
      },
    }),
    async (c) => {
      const { status, limit, cursor } = c.req.valid('query');
      const page = await service.listEvents(status, { limit, cursor });
      setNextLink(c, page.nextCursor);
      return c.json(page.items, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/events/{eventId}',
      tags,
      summary: 'Get an event',
      request: { params: EventIdParam },
      responses: { 200: jsonContent(EventSchema, 'The event'), ...problemResponses(401, 404, 422) },
    }),
    async (c) => c.json(await service.getEvent(c.req.valid('param').eventId), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/events/{eventId}',
      tags,
      summary: 'Change some fields of an event',
      description:
        'Partial update. Capacity below the confirmed count is a 409; raising it confirms waitlisted users in join order.',
      request: { params: EventIdParam, body: jsonBody(UpdateEventSchema) },
      responses: {
        200: jsonContent(EventSchema, 'The updated event'),
        ...problemResponses(400, 401, 404, 409, 413, 415, 422, 503),
      },
    }),
    async (c) =>
      c.json(await service.updateEvent(c.req.valid('param').eventId, c.req.valid('json')), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/events/{eventId}',
      tags,
      summary: 'Delete an event and its registrations',
      request: { params: EventIdParam },
      responses: {
        200: jsonContent(DeleteEventResultSchema, 'Deleted'),
        ...problemResponses(401, 404, 422),
      },
    }),
    async (c) => {
      const { eventId } = c.req.valid('param');
      const deletedRegistrations = await service.deleteEvent(eventId);
      return c.json({ message: `Event ${eventId} deleted.`, eventId, deletedRegistrations }, 200);
    },
  );

  // ---- users ----
  app.openapi(
    createRoute({
      method: 'post',
      path: '/users',
      tags,
      summary: 'Create a user',
      middleware: [idempotent] as const,
      request: { headers: idempotencyHeader, body: jsonBody(CreateUserSchema) },
      responses: {
        201: jsonContent(UserSchema, 'Created'),
        ...problemResponses(400, 401, 409, 413, 415, 422),
      },
    }),
    async (c) => {
      const user = await service.createUser(c.req.valid('json'));
      c.header('location', `/users/${encodeURIComponent(user.userId)}`);
      return c.json(user, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/users',
      tags,
      summary: 'List users',
      request: { query: paginationQuery },
      responses: {
        200: jsonContent(
          z.array(UserSchema),
          'Users, oldest first; `Link: rel="next"` when more remain',
        ),
        ...problemResponses(400, 401, 422),
      },
    }),
    async (c) => {
      const page = await service.listUsers(c.req.valid('query'));
      setNextLink(c, page.nextCursor);
      return c.json(page.items, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/users/{userId}',
      tags,
      summary: 'Get a user',
      request: { params: UserIdParam },
      responses: { 200: jsonContent(UserSchema, 'The user'), ...problemResponses(401, 404, 422) },
    }),
    async (c) => c.json(await service.getUser(c.req.valid('param').userId), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/users/{userId}/registrations',
      tags,
      summary: "A user's registrations, each with its event",
      request: { params: UserIdParam, query: paginationQuery },
      responses: {
        200: jsonContent(
          z.array(UserRegistrationSchema),
          'Newest first; `Link: rel="next"` when more remain',
        ),
        ...problemResponses(400, 401, 404, 422),
      },
    }),
    async (c) => {
      const page = await service.userRegistrations(
        c.req.valid('param').userId,
        c.req.valid('query'),
      );
      setNextLink(c, page.nextCursor);
      return c.json(page.items, 200);
    },
  );

  // ---- registrations: the three route styles of the seeds ----
  app.openapi(
    createRoute({
      method: 'post',
      path: '/registrations',
      tags,
      summary: 'Register a user for an event',
      description: registerDescription,
      middleware: [idempotent] as const,
      request: { headers: idempotencyHeader, body: jsonBody(RegisterBodySchema) },
      responses: registerResponses,
    }),
    async (c) => {
      const { eventId, userId } = c.req.valid('json');
      return c.json(await service.register(eventId, userId), 201);
    },
  );

  for (const path of ['/events/{eventId}/registrations', '/events/{eventId}/register'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path,
        tags,
        summary: 'Register a user for this event',
        description: registerDescription,
        middleware: [idempotent] as const,
        request: {
          headers: idempotencyHeader,
          params: EventIdParam,
          body: jsonBody(RegisterForEventBodySchema),
        },
        responses: registerResponses,
      }),
      async (c) => {
        const { eventId } = c.req.valid('param');
        return c.json(await service.register(eventId, c.req.valid('json').userId), 201);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/events/{eventId}/registrations',
      tags,
      summary: "An event's registrations",
      description: 'Confirmed in join order, then waitlisted by position.',
      request: { params: EventIdParam, query: paginationQuery },
      responses: {
        200: jsonContent(
          z.array(RegistrationSchema),
          'Registrations; `Link: rel="next"` when more remain',
        ),
        ...problemResponses(400, 401, 404, 422),
      },
    }),
    async (c) => {
      const page = await service.eventRegistrations(
        c.req.valid('param').eventId,
        c.req.valid('query'),
      );
      setNextLink(c, page.nextCursor);
      return c.json(page.items, 200);
    },
  );

  const unregisterRoutes = [
    '/registrations/{userId}/{eventId}',
    '/events/{eventId}/registrations/{userId}',
    '/events/{eventId}/register/{userId}',
  ] as const;
  for (const path of unregisterRoutes) {
    app.openapi(
      createRoute({
        method: 'delete',
        path,
        tags,
        summary: 'Unregister a user from an event',
        description: unregisterDescription,
        request: { params: EventUserParams },
        responses: unregisterResponses,
      }),
      async (c) => {
        const { eventId, userId } = c.req.valid('param');
        const { promoted } = await service.unregister(eventId, userId);
        return c.json(
          {
            message: `User ${userId} unregistered from event ${eventId}.`,
            eventId,
            userId,
            promoted,
          },
          200,
        );
      },
    );
  }

  return app;
}
