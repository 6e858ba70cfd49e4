import { createRoute, z } from '@hono/zod-openapi';
import { withIdempotencyKey } from '../../platform/http/idempotency.js';
import {
  createRouter,
  jsonBody,
  jsonContent,
  problemResponses,
} from '../../platform/http/openapi.js';
import { paginationQuery, setNextLink } from '../../platform/http/pagination.js';
import type { Event, PlacedRegistration, Registration } from './events.model.js';
import {
  CreateEventSchema,
  CreateUserSchema,
  DeleteEventResultSchema,
  EventIdParam,
  type EventResponse,
  EventSchema,
  EventStatusSchema,
  EventUserParams,
  RegisterBodySchema,
  RegisterForEventBodySchema,
  type RegistrationResponse,
  RegistrationSchema,
  UnregisterResultSchema,
  UpdateEventSchema,
  UserIdParam,
  UserRegistrationSchema,
  UserSchema,
} from './events.schemas.js';
import type { EventsService } from './events.service.js';

const tags = ['events'];

// ---- route specs -------------------------------------------------------------------------------

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
  request: { query: paginationQuery.extend({ status: EventStatusSchema.optional() }) },
  responses: {
    200: jsonContent(
      z.array(EventSchema),
      'Events, oldest first; `Link: rel="next"` when more remain',
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

const createUserRoute = createRoute(
  withIdempotencyKey({
    method: 'post',
    path: '/users',
    tags,
    summary: 'Create a user',
    request: { body: jsonBody(CreateUserSchema) },
    responses: {
      201: jsonContent(UserSchema, 'Created'),
      ...problemResponses(400, 401, 409, 413, 415, 422),
    },
  }),
);

const listUsersRoute = createRoute({
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
});

const getUserRoute = createRoute({
  method: 'get',
  path: '/users/{userId}',
  tags,
  summary: 'Get a user',
  request: { params: UserIdParam },
  responses: { 200: jsonContent(UserSchema, 'The user'), ...problemResponses(401, 404, 422) },
});

const userRegistrationsRoute = createRoute({
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
});

const registerDescription =
  'A free seat confirms; a full event with a waitlist waitlists (FIFO); a full event without one is a 409, ' +
  'as are a second registration and a cancelled or completed event. Unknown user or event: 404. ' +
  'A waitlisted answer tells the place in the waitlist at that moment: the waitlist is ordered by ' +
  'the moment each join took its place, counting joins still completing, so told places never repeat.';

const registerResponses = {
  201: jsonContent(
    RegistrationSchema,
    'Registered: `confirmed`, or `waitlisted` with its position',
  ),
  ...problemResponses(400, 401, 404, 409, 422, 503),
};

const registerRoute = createRoute(
  withIdempotencyKey({
    method: 'post',
    path: '/registrations',
    tags,
    summary: 'Register a user for an event',
    description: registerDescription,
    request: { body: jsonBody(RegisterBodySchema) },
    responses: registerResponses,
  }),
);

/** Seed 003's `/events/{eventId}/registrations` and seed 004's `/events/{eventId}/register`. */
const registerForEventRoutes = (
  ['/events/{eventId}/registrations', '/events/{eventId}/register'] as const
).map((path) =>
  createRoute(
    withIdempotencyKey({
      method: 'post',
      path,
      tags,
      summary: 'Register a user for this event',
      description: registerDescription,
      request: { params: EventIdParam, body: jsonBody(RegisterForEventBodySchema) },
      responses: registerResponses,
    }),
  ),
);

const eventRegistrationsRoute = createRoute({
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
});

/** The three unregister styles of the seeds. */
const unregisterRoutes = (
  [
    '/registrations/{userId}/{eventId}',
    '/events/{eventId}/registrations/{userId}',
    '/events/{eventId}/register/{userId}',
  ] as const
).map((path) =>
  createRoute({
    method: 'delete',
    path,
    tags,
    summary: 'Unregister a user from an event',
    description:
      'When a confirmed user leaves, the earliest waitlisted user is confirmed in the same atomic step.',
    request: { params: EventUserParams },
    responses: {
      200: jsonContent(
        UnregisterResultSchema,
        'Unregistered; `promoted` lists who got the freed seat',
      ),
      ...problemResponses(401, 404, 422, 503),
    },
  }),
);

// ---- response shapes -----------------------------------------------------------------------------

/** The event as clients see it (the waitlist bookkeeping stays inside). */
function eventBody(event: Event): EventResponse {
  const { waitlist: _, ...body } = event;
  return body;
}

function registrationBody(registration: Registration, position?: number): RegistrationResponse {
  const { ticket: _, ...body } = registration;
  return position === undefined ? body : { ...body, waitlistPosition: position };
}

const placedBody = ({ registration, position }: PlacedRegistration) =>
  registrationBody(registration, position);

// ---- sub-apps, one per resource --------------------------------------------------------------------

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
    const { status, limit, cursor } = c.req.valid('query');
    const page = await service.listEvents(status, { limit, cursor });
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

export function userRoutes(service: EventsService) {
  const app = createRouter();

  app.openapi(createUserRoute, async (c) => {
    const user = await service.createUser(c.req.valid('json'), c.get('requestKey'));
    c.header('location', `/users/${encodeURIComponent(user.userId)}`);
    return c.json(user, 201);
  });

  app.openapi(listUsersRoute, async (c) => {
    const page = await service.listUsers(c.req.valid('query'));
    setNextLink(c, page.nextCursor);
    return c.json(page.items, 200);
  });

  app.openapi(getUserRoute, async (c) =>
    c.json(await service.getUser(c.req.valid('param').userId), 200),
  );

  app.openapi(userRegistrationsRoute, async (c) => {
    const page = await service.userRegistrations(c.req.valid('param').userId, c.req.valid('query'));
    setNextLink(c, page.nextCursor);
    return c.json(
      page.items.map((item) => ({ ...placedBody(item), event: eventBody(item.event) })),
      200,
    );
  });

  return app;
}

export function registrationRoutes(service: EventsService) {
  const app = createRouter();

  app.openapi(registerRoute, async (c) => {
    const { eventId, userId } = c.req.valid('json');
    return c.json(placedBody(await service.register(eventId, userId, c.get('requestKey'))), 201);
  });

  for (const route of registerForEventRoutes) {
    app.openapi(route, async (c) => {
      const { eventId } = c.req.valid('param');
      const { userId } = c.req.valid('json');
      return c.json(placedBody(await service.register(eventId, userId, c.get('requestKey'))), 201);
    });
  }

  app.openapi(eventRegistrationsRoute, async (c) => {
    const page = await service.eventRegistrations(
      c.req.valid('param').eventId,
      c.req.valid('query'),
    );
    setNextLink(c, page.nextCursor);
    return c.json(page.items.map(placedBody), 200);
  });

  for (const route of unregisterRoutes) {
    app.openapi(route, async (c) => {
      const { eventId, userId } = c.req.valid('param');
      const { promoted } = await service.unregister(eventId, userId);
      return c.json(
        {
          message: `User ${userId} unregistered from event ${eventId}.`,
          eventId,
          userId,
          promoted: promoted.map((registration) => registrationBody(registration)),
        },
        200,
      );
    });
  }

  return app;
}
