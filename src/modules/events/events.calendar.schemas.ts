import { z } from 'zod';
import { strictBody } from '../../platform/input.js';
import { FEED_LINK_ID } from './events.model.js';

/* The HTTP shapes of the calendar exports (the calendars themselves are text/calendar). */

export const FeedLinkRequestSchema = strictBody({
  expiresInDays: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .optional()
    .meta({ description: 'Days the link works; without it, until the master secret changes.' }),
}).meta({ id: 'CalendarFeedLinkRequest' });

export const FeedLinkSchema = z
  .object({
    url: z.string().meta({
      description: 'The feed, to subscribe to in a calendar client: it needs no API key.',
      example: 'http://localhost:3000/calendar.ics?token=eyJwIjoiY2FsZW5kYXItZmVlZCJ9.c2lnbmF0dXJl',
    }),
    linkId: z.string().meta({
      description: "The link's id: `DELETE /calendar/feed-links/{linkId}` revokes it.",
      example: 'q1Z3x8Ke0mS7dT2w',
    }),
    expiresAt: z.string().optional().meta({ description: 'When the link stops working.' }),
  })
  .meta({ id: 'CalendarFeedLink' });

export const FeedLinkIdParam = z.object({
  linkId: z
    .string()
    .regex(FEED_LINK_ID, 'a feed link id: 16 characters of A-Z, a-z, 0-9, - and _')
    .meta({ param: { name: 'linkId', in: 'path' }, example: 'q1Z3x8Ke0mS7dT2w' }),
});

export const FeedQuerySchema = z.object({
  token: z
    .string()
    .min(1)
    .max(512)
    .meta({ description: 'The signed token of a link from `POST /calendar/feed-link`.' }),
});
