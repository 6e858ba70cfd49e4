import * as z from 'zod/mini';
import { createRouter, jsonContent, problemResponses } from '../../platform/http/openapi.js';
import { createRoute } from '../../platform/http/routes.js';
import { withMeta } from '../../platform/input.js';
import type { EnrollmentStatus } from './enrollments.model.js';
import type { EnrollmentsService } from './enrollments.service.js';

const count = z.int();

const EnrollmentStatsSchema = withMeta(
  z.object({
    counts: withMeta(
      z.object({ PENDING: count, PROCESSED: count, REJECTED: count } satisfies Record<
        EnrollmentStatus,
        typeof count
      >),
      { description: 'Enrollments with each status now.' },
    ),
    total: count,
    oldest_pending: withMeta(
      z.nullable(
        z.object({
          id: z.string(),
          created_at: z.string(),
          age_seconds: withMeta(count, {
            description: 'How long it has been PENDING, at `as_of`.',
          }),
        }),
      ),
      { description: 'The PENDING enrollment accepted first (null when none is PENDING).' },
    ),
    as_of: withMeta(z.string(), { description: 'When the ages were measured (ISO 8601 UTC).' }),
  }),
  { id: 'EnrollmentStats' },
);

const statsRoute = createRoute({
  method: 'get',
  path: '/enrollments/stats',
  tags: ['enrollments'],
  summary: 'Enrollments by status, and the oldest PENDING one',
  description:
    'Counted in the index `GET /enrollments?status=` reads (a count query per status, one per page of its records; never a scan). The index is eventually consistent: an enrollment processed a moment ago may still count as PENDING.',
  responses: {
    200: jsonContent(EnrollmentStatsSchema, 'The counts'),
    ...problemResponses(401, 503),
  },
});

/** Mounted before the module's `/enrollments/{id}`, which would take `stats` for an id. */
export function enrollmentStatsRoutes(service: EnrollmentsService) {
  const app = createRouter();

  app.openapi(statsRoute, async (c) => {
    const { counts, oldestPending, asOf } = await service.stats();
    return c.json(
      {
        counts,
        total: Object.values(counts).reduce((sum, n) => sum + n, 0),
        oldest_pending: oldestPending
          ? {
              id: oldestPending.id,
              created_at: oldestPending.createdAt,
              age_seconds: oldestPending.ageSeconds,
            }
          : null,
        as_of: asOf,
      },
      200,
    );
  });

  return app;
}
