import * as z from 'zod/mini';
import { withMeta } from '../../platform/input.js';
import { MAX_STATS_HOURS } from './events.stats.model.js';

const HOUR_MS = 3_600_000;

const instant = (description: string) =>
  withMeta(z.optional(z.iso.datetime({ offset: true })), {
    description: `${description} An RFC 3339 date-time with Z or an offset; widened to whole UTC hours.`,
    example: '2026-03-01T10:00:00Z',
  });

/** The window of the hourly series: `[from, to)`, at most MAX_STATS_HOURS long. */
export const EventStatsQuery = z
  .object({
    from: instant('The first hour of the series (default: the hour of the first registration).'),
    to: instant('The end of the series, excluded (default: the hour after the last change).'),
  })
  .check(
    z.superRefine((query, ctx) => {
      if (query.from === undefined || query.to === undefined) return;
      const span = Date.parse(query.to) - Date.parse(query.from);
      if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
      else if (span > MAX_STATS_HOURS * HOUR_MS) {
        ctx.addIssue({
          code: 'custom',
          path: ['to'],
          message: `must be at most ${MAX_STATS_HOURS} hours (31 days) after from`,
        });
      }
    }),
  );

const count = (description: string) => withMeta(z.int(), { description });

export const HourStatsSchema = withMeta(
  z.object({
    hour: withMeta(z.string(), { description: 'The hour’s start (ISO 8601 UTC).' }),
    registered: count('Registrations made in this hour (of those still stored).'),
    confirmed: count('Confirmed at the end of the hour.'),
    offered: count('Holding an offered seat at the end of the hour.'),
    waitlisted: count('Waiting at the end of the hour.'),
  }),
  { id: 'EventStatsHour' },
);

export const EventStatsSchema = withMeta(
  z.object({
    eventId: z.string(),
    capacity: z.int(),
    confirmed: count('Confirmed now (the event’s counter).'),
    offered: count('Seats held by offers now.'),
    waitlisted: count('Waiting now.'),
    from: withMeta(z.string(), { description: 'The first hour of `hours` (ISO 8601 UTC).' }),
    to: withMeta(z.string(), { description: 'The end of the last hour of `hours`, excluded.' }),
    hours: withMeta(z.array(HourStatsSchema), {
      description:
        'Every hour of `[from, to)`, oldest first, read back from the timestamps on the event’s registration rows (`registeredAt`, `offeredAt`, `promotedAt`, `declinedAt`, and `offerExpiresAt` for a lapse). A cancelled registration’s row is deleted, so the hours show the registrations still stored: the last hour’s counts are the counts now, and earlier hours leave out whoever cancelled since (their registration, the seat or place they held). Capacity changes are not kept, so there is no capacity per hour. A lapsed offer counts until its deadline.',
    }),
  }),
  { id: 'EventStats' },
);
