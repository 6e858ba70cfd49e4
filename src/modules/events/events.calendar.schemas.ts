import * as z from 'zod/mini';
import { strictBody, withMeta } from '../../platform/input.js';
import { FEED_LINK_ID } from './events.model.js';

/* The HTTP shapes of the calendar exports (the calendars themselves are text/calendar). */

export const FeedLinkRequestSchema = withMeta(
  strictBody({
    expiresInDays: withMeta(z.optional(z.int().check(z.minimum(1), z.maximum(3650))), {
      description: 'Days the link works; without it, until the master secret changes.',
    }),
  }),
  { id: 'CalendarFeedLinkRequest' },
);

export const FeedLinkSchema = withMeta(
  z.object({
    url: withMeta(z.string(), {
      description: 'The feed, to subscribe to in a calendar client: it needs no API key.',
      example: 'http://localhost:3000/calendar.ics?token=eyJwIjoiY2FsZW5kYXItZmVlZCJ9.c2lnbmF0dXJl',
    }),
    linkId: withMeta(z.string(), {
      description: "The link's id: `DELETE /calendar/feed-links/{linkId}` revokes it.",
      example: 'q1Z3x8Ke0mS7dT2w',
    }),
    expiresAt: withMeta(z.optional(z.string()), { description: 'When the link stops working.' }),
  }),
  { id: 'CalendarFeedLink' },
);

export const FeedLinkIdParam = z.object({
  linkId: withMeta(
    z
      .string()
      .check(z.regex(FEED_LINK_ID, 'a feed link id: 16 characters of A-Z, a-z, 0-9, - and _')),
    { param: { name: 'linkId', in: 'path' }, example: 'q1Z3x8Ke0mS7dT2w' },
  ),
});

export const FeedQuerySchema = z.object({
  token: withMeta(z.string().check(z.minLength(1), z.maxLength(512)), {
    description: 'The signed token of a link from `POST /calendar/feed-link`.',
  }),
});
