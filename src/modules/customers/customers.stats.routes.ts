import * as z from 'zod/mini';
import { createRouter, jsonContent, problemResponses } from '../../platform/http/openapi.js';
import { createRoute } from '../../platform/http/routes.js';
import { withMeta } from '../../platform/input.js';
import type { WorkflowService } from './customers.service.js';
import { STATS_DEFAULT_DAYS } from './customers.service.js';

const DAY_MS = 86_400_000;
const EARLIEST = '0000-01-01T00:00:00.000Z';
const LATEST = '9999-12-31T23:59:59.999Z';

/**
 * As the records hold instants (ISO 8601 UTC, to the millisecond); one an offset takes out of the
 * years 0000–9999 would sort wrong against them, so it is the first or last instant there is (as
 * the list of executions does).
 */
function utcInstant(instant: string | undefined): string | undefined {
  if (instant === undefined) return undefined;
  const text = new Date(instant).toISOString();
  if (text.startsWith('-')) return EARLIEST;
  if (text.startsWith('+')) return LATEST;
  return text;
}
/** The longest range one request counts. */
const MAX_DAYS = 366;

const instant = (description: string) =>
  withMeta(z.optional(z.iso.datetime({ offset: true })), {
    description: `${description} An RFC 3339 date-time with Z or an offset.`,
  });

const StatsQuery = z
  .object({
    from: instant(
      `Runs started at or after this instant (default: ${STATS_DEFAULT_DAYS} days before \`to\`).`,
    ),
    to: instant('Runs started before this instant (default: now).'),
  })
  .check(
    z.superRefine((query, ctx) => {
      if (query.from === undefined || query.to === undefined) return;
      const span = Date.parse(query.to) - Date.parse(query.from);
      if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
      else if (span > MAX_DAYS * DAY_MS) {
        ctx.addIssue({
          code: 'custom',
          path: ['to'],
          message: `must be at most ${MAX_DAYS} days after from`,
        });
      }
    }),
  );

const count = z.int();

const ExecutionStatsSchema = withMeta(
  z.object({
    from: z.string(),
    to: z.string(),
    total: count,
    byStatus: withMeta(
      z.object({
        RUNNING: count,
        SUCCEEDED: count,
        FAILED: count,
        TIMED_OUT: count,
        ABORTED: count,
      }),
      { description: 'Runs by the status they have now.' },
    ),
    byBranch: withMeta(z.object({ Inserted: count, AlreadyExists: count, Superseded: count }), {
      description: 'The SUCCEEDED runs by the branch they ended on.',
    }),
  }),
  { id: 'WorkflowExecutionStats' },
);

const statsRoute = createRoute({
  method: 'get',
  path: '/workflow/executions/stats',
  tags: ['customers'],
  summary: 'Workflow runs by outcome',
  description: `The runs started in \`[from, to)\` (at most ${MAX_DAYS} days) by the status they have now, the successful ones by branch. One query per status in the index \`GET /workflow/executions?status=\` reads, a page at a time (the runs in the range only), never a scan.`,
  request: { query: StatsQuery },
  responses: {
    200: jsonContent(ExecutionStatsSchema, 'The counts'),
    ...problemResponses(401, 422, 503),
  },
});

/** Mounted before `/workflow/executions/{executionId}`, which would take `stats` for an id. */
export function workflowStatsRoutes(workflow: WorkflowService) {
  const app = createRouter();

  app.openapi(statsRoute, async (c) => {
    const { from, to } = c.req.valid('query');
    return c.json(
      await workflow.executionStats({ from: utcInstant(from), to: utcInstant(to) }),
      200,
    );
  });

  return app;
}
