import * as z from 'zod/mini';
import { invalidRequest } from '../../platform/errors.js';
import { createRouter, jsonContent, problemResponses } from '../../platform/http/openapi.js';
import { createRoute } from '../../platform/http/routes.js';
import { withMeta } from '../../platform/input.js';
import { severities } from './sla-errors.model.js';
import {
  type SlaErrorStats,
  type SlaErrorsService,
  STATS_DEFAULT_DAYS,
  STATS_MAX_DAYS,
} from './sla-errors.service.js';

const DAY_MS = 86_400_000;
/** The last day whose next day still has a four-digit year. */
const LAST_DAY = '9999-12-31';

const day = (description: string) =>
  withMeta(z.optional(z.iso.date()), { description: `${description} A UTC day, YYYY-MM-DD.` });

const StatsQuery = z
  .object({
    from: day(`The first day (default: ${STATS_DEFAULT_DAYS} days before \`to\`).`).check(
      z.refine((from) => from === undefined || from < LAST_DAY, `must be before ${LAST_DAY}`),
    ),
    to: day(
      `The day after the last one (default: tomorrow, or with \`from\` alone at most ${STATS_MAX_DAYS} days after it).`,
    ).check(z.refine((to) => to === undefined || to <= LAST_DAY, `must be ${LAST_DAY} or before`)),
  })
  .check(
    z.superRefine((query, ctx) => {
      if (query.from === undefined || query.to === undefined) return;
      const days = (Date.parse(query.to) - Date.parse(query.from)) / DAY_MS;
      if (days <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
      else if (days > STATS_MAX_DAYS) {
        ctx.addIssue({
          code: 'custom',
          path: ['to'],
          message: `must be at most ${STATS_MAX_DAYS} days after from`,
        });
      }
    }),
  );

const count = z.int();
const bySeverity = z.object({ low: count, medium: count, high: count, critical: count });

const SlaErrorStatsSchema = withMeta(
  z.object({
    from: withMeta(z.string(), { description: 'The first day.' }),
    to: withMeta(z.string(), { description: 'The day after the last one.' }),
    days: withMeta(z.array(z.extend(bySeverity, { day: z.string(), total: count })), {
      description: 'Every day of `[from, to)`, oldest first: records received that UTC day.',
    }),
    totals: bySeverity,
    total: count,
  }),
  { id: 'SlaErrorStats' },
);

const statsRoute = createRoute({
  method: 'get',
  path: '/sla-errors/stats',
  tags: ['sla-errors'],
  summary: 'SLA error records per day and severity',
  description: `Records received on each UTC day of \`[from, to)\` (at most ${STATS_MAX_DAYS} days), counted by severity (${severities.join(', ')}). Reads the index by time within the range (one query per page of those records), never a scan. Any user error is a 400.`,
  request: { query: StatsQuery },
  responses: {
    200: jsonContent(SlaErrorStatsSchema, 'The counts'),
    ...problemResponses(400, 401),
  },
});

/** Mounted before the module's `/sla-errors/{id}`, which would take `stats` for an id. */
export function slaErrorStatsRoutes(service: SlaErrorsService) {
  // docs/spec.md#sla-errors: any user error is a 400.
  const app = createRouter({ invalid: (errors) => invalidRequest(errors) });

  app.openapi(statsRoute, async (c) => {
    const stats: SlaErrorStats = await service.stats(c.req.valid('query'));
    return c.json({ ...stats, days: [...stats.days] }, 200);
  });

  return app;
}
