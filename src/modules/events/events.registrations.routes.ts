import type { Context } from 'hono';
import * as z from 'zod/mini';
import { type CsvColumn, csvResponse, csvSchema, prefersCsv } from '../../platform/http/csv.js';
import { idempotencyKeyHeader, withIdempotencyKey } from '../../platform/http/idempotency.js';
import {
  createRouter,
  jsonBody,
  jsonContent,
  problemResponses,
} from '../../platform/http/openapi.js';
import { paginationQuery, setNextLink } from '../../platform/http/pagination.js';
import { createRoute } from '../../platform/http/routes.js';
import { AdmissionTokenHeader } from './events.queue.schemas.js';
import type { QueueService } from './events.queue.service.js';
import type { ExportedRegistration, RegistrationsService } from './events.registrations.service.js';
import {
  EventIdParam,
  EventUserParams,
  placedBody,
  RegisterBodySchema,
  RegisterForEventBodySchema,
  RegistrationSchema,
  registrationBody,
  UnregisterResultSchema,
} from './events.schemas.js';

const tags = ['events'];

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
  ...problemResponses(400, 401, 403, 404, 409, 422, 503),
};

/** A create route's Idempotency-Key, and the Admission-Token an event's waiting room asks for. */
const registerHeaders = z.extend(idempotencyKeyHeader, AdmissionTokenHeader.shape);

function withAdmissionToken<R extends { request: object }>(
  route: R,
): Omit<R, 'request'> & {
  request: Omit<R['request'], 'headers'> & { headers: typeof registerHeaders };
} {
  return { ...route, request: { ...route.request, headers: registerHeaders } } as Omit<
    R,
    'request'
  > & { request: Omit<R['request'], 'headers'> & { headers: typeof registerHeaders } };
}

const registerRoute = createRoute(
  withAdmissionToken(
    withIdempotencyKey({
      method: 'post',
      path: '/registrations',
      tags,
      summary: 'Register a user for an event',
      description: registerDescription,
      request: { body: jsonBody(RegisterBodySchema) },
      responses: registerResponses,
    }),
  ),
);

/** `/events/{eventId}/registrations`, and `/events/{eventId}/register` kept for compatibility (docs/seeds.md). */
const registerForEventRoutes = (
  ['/events/{eventId}/registrations', '/events/{eventId}/register'] as const
).map((path) =>
  createRoute(
    withAdmissionToken(
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
  ),
);

const csvDescription =
  'With `Accept: text/csv`, or at `/events/{eventId}/registrations.csv`: every registration as one ' +
  'CSV download (RFC 4180, UTF-8, a header row; `limit` and `cursor` do not apply), streamed page by page. ' +
  'Columns: ' +
  'registrationId, userId, userName, status, waitlistPosition (waitlisted only), registeredAt, promotedAt, offeredAt, offerExpiresAt. ' +
  "A text cell starting with `=`, `+`, `-`, `@`, tab or CR starts with `'` (formula injection).";

const eventRegistrationsRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}/registrations',
  tags,
  summary: "An event's registrations",
  description: `Confirmed in join order, then waitlisted by position. ${csvDescription}`,
  request: { params: EventIdParam, query: paginationQuery },
  responses: {
    200: {
      description: 'Registrations; `Link: rel="next"` when more remain. As CSV: all of them.',
      content: {
        'application/json': { schema: z.array(RegistrationSchema) },
        'text/csv': { schema: csvSchema },
      },
    },
    ...problemResponses(400, 401, 404, 422),
  },
});

const eventRegistrationsCsvRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}/registrations.csv',
  tags,
  summary: "An event's registrations as CSV",
  description: `Confirmed in join order, then waitlisted by position. ${csvDescription}`,
  request: { params: EventIdParam },
  responses: {
    200: { description: 'Every registration', content: { 'text/csv': { schema: csvSchema } } },
    ...problemResponses(401, 404, 422),
  },
});

/** The export's columns (docs/spec.md#events). */
const registrationColumns: readonly CsvColumn<ExportedRegistration>[] = [
  { header: 'registrationId', value: (r) => r.registration.registrationId },
  { header: 'userId', value: (r) => r.registration.userId },
  { header: 'userName', value: (r) => r.userName },
  { header: 'status', value: (r) => r.registration.status },
  { header: 'waitlistPosition', value: (r) => r.position },
  { header: 'registeredAt', value: (r) => r.registration.registeredAt },
  { header: 'promotedAt', value: (r) => r.registration.promotedAt },
  { header: 'offeredAt', value: (r) => r.registration.offeredAt },
  { header: 'offerExpiresAt', value: (r) => r.registration.offerExpiresAt },
];

/** The three unregister paths (docs/spec.md#events). */
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

export function registrationRoutes(
  service: RegistrationsService,
  admission: Pick<QueueService, 'admit'>,
) {
  const app = createRouter();

  app.openapi(registerRoute, async (c) => {
    const { eventId, userId } = c.req.valid('json');
    // While the event's waiting room is on, only an admitted user gets this far.
    await admission.admit(eventId, userId, c.req.valid('header')['admission-token']);
    return c.json(placedBody(await service.register(eventId, userId, c.get('requestKey'))), 201);
  });

  for (const route of registerForEventRoutes) {
    app.openapi(route, async (c) => {
      const { eventId } = c.req.valid('param');
      const { userId } = c.req.valid('json');
      await admission.admit(eventId, userId, c.req.valid('header')['admission-token']);
      return c.json(placedBody(await service.register(eventId, userId, c.get('requestKey'))), 201);
    });
  }

  const exportCsv = async (c: Context, eventId: string) =>
    csvResponse(c, {
      filename: `registrations-${eventId}.csv`,
      columns: registrationColumns,
      pages: await service.exportEventRegistrations(eventId),
    });

  app.openapi(eventRegistrationsRoute, async (c) => {
    const { eventId } = c.req.valid('param');
    c.header('vary', 'Accept', { append: true });
    if (prefersCsv(c)) return exportCsv(c, eventId);
    const page = await service.eventRegistrations(eventId, c.req.valid('query'));
    setNextLink(c, page.nextCursor);
    return c.json(page.items.map(placedBody), 200);
  });

  app.openapi(eventRegistrationsCsvRoute, (c) => exportCsv(c, c.req.valid('param').eventId));

  for (const route of unregisterRoutes) {
    app.openapi(route, async (c) => {
      const { eventId, userId } = c.req.valid('param');
      const { promoted, offered } = await service.unregister(eventId, userId);
      return c.json(
        {
          message: `User ${userId} unregistered from event ${eventId}.`,
          eventId,
          userId,
          promoted: promoted.map((registration) => registrationBody(registration)),
          offered: offered.map((registration) => registrationBody(registration)),
        },
        200,
      );
    });
  }

  return app;
}
