import type { Context } from 'hono';
import { validationFailed } from '../../platform/errors.js';
import { entityTag } from '../../platform/http/conditional.js';
import type { AppEnv } from '../../platform/http/context.js';
import { withIdempotencyKey } from '../../platform/http/idempotency.js';
import {
  createRouter,
  fieldErrors,
  jsonContent,
  problemResponses,
} from '../../platform/http/openapi.js';
import { createRoute } from '../../platform/http/routes.js';
import { onFirstUse } from '../../platform/on-first-use.js';
import {
  FeedLinkIdParam,
  FeedLinkRequestSchema,
  FeedLinkSchema,
  FeedQuerySchema,
} from './events.calendar.schemas.js';
import type { CalendarEntry, CalendarService } from './events.calendar.service.js';
import { EventIdParam } from './events.schemas.js';

const tags = ['events'];
const CALENDAR_CONTENT_TYPE = 'text/calendar; charset=utf-8';
/** How often a subscribed client is asked to refresh the feed (REFRESH-INTERVAL), in seconds. */
const FEED_REFRESH_SECONDS = 3600;

const calendarContent = (description: string) => ({
  description,
  content: { 'text/calendar': { schema: { type: 'string' as const } } },
});

const eventCalendarRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}.ics',
  tags,
  summary: 'An event as an iCalendar file',
  description:
    'One VEVENT: UID `<eventId>@roster`, all-day for a `YYYY-MM-DD` date, SEQUENCE rising with every change of the event, STATUS:CANCELLED once cancelled.',
  request: { params: EventIdParam },
  responses: {
    200: calendarContent('The event (RFC 5545)'),
    ...problemResponses(401, 404, 422),
  },
});

const feedRoute = createRoute({
  method: 'get',
  path: '/calendar.ics',
  tags,
  summary: 'Every event, as a calendar to subscribe to',
  description:
    'Needs no API key, only the signed `token` of a link from `POST /calendar/feed-link`; an altered, expired, revoked or foreign token is a 404. Lists the newest 1000 events, cancelled ones included (STATUS:CANCELLED).',
  security: [],
  request: { query: FeedQuerySchema },
  responses: {
    200: calendarContent('The events (RFC 5545)'),
    ...problemResponses(404, 422),
  },
});

const feedLinkRoute = createRoute(
  withIdempotencyKey({
    method: 'post',
    path: '/calendar/feed-link',
    tags,
    summary: 'A new link to the calendar feed',
    description:
      'The link carries a token signed by the server instead of an API key, so it can be given to a calendar client. Optionally it expires.',
    request: {
      body: {
        required: false,
        content: { 'application/json': { schema: FeedLinkRequestSchema } },
      },
    },
    responses: {
      200: jsonContent(FeedLinkSchema, 'The link'),
      ...problemResponses(400, 401, 413, 415, 422),
    },
  }),
);

const revokeFeedLinkRoute = createRoute({
  method: 'delete',
  path: '/calendar/feed-links/{linkId}',
  tags,
  summary: 'Revoke a calendar feed link',
  description:
    'From now on the link opens nothing: a calendar client subscribed to it gets a 404. Revoking a revoked link again is a 204; an id no link was issued with is a 404.',
  request: { params: FeedLinkIdParam },
  responses: {
    204: { description: 'Revoked' },
    ...problemResponses(401, 404, 422),
  },
});

/**
 * `{eventId}.ics` is not a whole path segment: OpenAPI's path syntax allows that, Hono's does not —
 * its `:eventId.ics` is one parameter named `eventId.ics`, matching every `/events/{anything}`.
 * So the route is declared with that path (the one the OpenAPI document's path converts to), takes
 * only segments ending in `.ics`, hands every other one on to the event routes behind it, and
 * validates the id itself, as the OpenAPI validator would.
 */
const EVENT_CALENDAR_PATH = '/events/:eventId.ics';
const EVENT_CALENDAR_SEGMENT = 'eventId.ics';
const ICS_SUFFIX = '.ics';

/**
 * Calendar exports. Mounted before the event routes: `/events/{eventId}` would otherwise take
 * `/events/x.ics` as the event `x.ics`.
 */
export function calendarRoutes(service: CalendarService) {
  const app = createRouter();

  app.openAPIRegistry.registerPath(eventCalendarRoute);
  app.get(EVENT_CALENDAR_PATH, async (c, next) => {
    const segment = c.req.param(EVENT_CALENDAR_SEGMENT);
    if (!segment?.endsWith(ICS_SUFFIX)) return next();
    const params = EventIdParam.safeParse({ eventId: segment.slice(0, -ICS_SUFFIX.length) });
    if (!params.success) throw validationFailed(fieldErrors('param', params.error));
    const entry = await service.eventEntry(params.data.eventId);
    return calendarResponse(c, await renderCalendar(entry.summary, [entry]));
  });

  app.openapi(feedRoute, async (c) => {
    const entries = await service.feed(c.req.valid('query').token);
    const text = await renderCalendar('Roster events', entries, {
      refreshSeconds: FEED_REFRESH_SECONDS,
    });
    // The URL holds the token: no shared cache keeps the answer.
    c.header('cache-control', 'private, no-cache');
    return calendarResponse(c, text);
  });

  app.openapi(feedLinkRoute, async (c) => {
    const { expiresInDays } = c.req.valid('json');
    const { token, linkId, expiresAt } = await service.feedToken(expiresInDays);
    const url = new URL('calendar.ics', baseUrl(c));
    url.searchParams.set('token', token);
    return c.json({ url: url.toString(), linkId, ...(expiresAt ? { expiresAt } : {}) }, 200);
  });

  app.openapi(revokeFeedLinkRoute, async (c) => {
    await service.revokeFeedLink(c.req.valid('param').linkId);
    return c.body(null, 204);
  });

  return app;
}

function calendarResponse(c: Context<AppEnv>, text: string) {
  // Every 200 to a GET carries an ETag (conditional GET answers 304 from it).
  return c.body(text, 200, { 'content-type': CALENDAR_CONTENT_TYPE, etag: entityTag(text) });
}

/**
 * ical-generator, loaded by the first calendar asked for: only these two routes render one, so the
 * API does not load it as it starts (infra/bundling.ts puts what an `import()` loads in a chunk of
 * its own).
 */
const icalGenerator = onFirstUse(() => import('ical-generator'));

/**
 * iCalendar text of `entries`; the library escapes the text (commas, semicolons, backslashes,
 * line breaks) and folds long lines.
 */
async function renderCalendar(
  name: string,
  entries: readonly CalendarEntry[],
  options: { refreshSeconds?: number } = {},
): Promise<string> {
  const { default: ical, ICalCalendarMethod, ICalEventStatus } = await icalGenerator();
  const calendar = ical({
    name,
    prodId: { company: 'roster', product: 'events', language: 'EN' },
    method: ICalCalendarMethod.PUBLISH,
    ...(options.refreshSeconds ? { ttl: options.refreshSeconds } : {}),
  });
  for (const entry of entries) {
    calendar.createEvent({
      id: entry.uid,
      start: entry.start,
      end: entry.end ?? null,
      allDay: entry.allDay,
      summary: entry.summary,
      description: entry.description,
      location: entry.location,
      organizer: entry.organizerEmail
        ? { name: entry.organizerEmail, email: entry.organizerEmail }
        : null,
      sequence: entry.sequence,
      status: entry.status === 'CANCELLED' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
      // DTSTAMP: when this version of the event was made, so the same version always reads the
      // same (and answers the same ETag).
      stamp: entry.lastModified,
      created: entry.created,
      lastModified: entry.lastModified,
    });
  }
  return calendar.toString();
}

/**
 * The URL the client called up to the app's root, so the feed link points where the client can
 * reach it: on API Gateway the request's own path (`requestContext.path`) carries the stage
 * prefix that the path the app routes on has lost.
 */
function baseUrl(c: Context<AppEnv>): URL {
  const url = new URL(c.req.url);
  const event = c.env?.event as { requestContext?: { path?: unknown } } | undefined;
  const called = event?.requestContext?.path;
  if (typeof called === 'string' && called.endsWith(url.pathname)) url.pathname = called;
  // Resolving `calendar.ics` against `<prefix>/calendar/feed-link` drops `calendar/feed-link`.
  return new URL('..', url);
}
