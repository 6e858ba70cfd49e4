import { z } from 'zod';
import { strictBody } from '../../platform/input.js';

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
    expiresAt: z.string().optional().meta({ description: 'When the link stops working.' }),
  })
  .meta({ id: 'CalendarFeedLink' });

export const FeedQuerySchema = z.object({
  token: z
    .string()
    .min(1)
    .max(512)
    .meta({ description: 'The signed token of a link from `POST /calendar/feed-link`.' }),
});
