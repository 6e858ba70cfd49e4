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
import type { RegistrationsService } from './events.registrations.service.js';
import {
  CreateUserSchema,
  eventBody,
  placedBody,
  UserIdParam,
  UserRegistrationSchema,
  UserSchema,
} from './events.schemas.js';
import type { UsersService } from './events.users.service.js';

const tags = ['events'];

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

export function userRoutes(service: UsersService, registrations: RegistrationsService) {
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
    const page = await registrations.userRegistrations(
      c.req.valid('param').userId,
      c.req.valid('query'),
    );
    setNextLink(c, page.nextCursor);
    return c.json(
      page.items.map((item) => ({ ...placedBody(item), event: eventBody(item.event) })),
      200,
    );
  });

  return app;
}
