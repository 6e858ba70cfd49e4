import type { Context } from 'hono';
import * as z from 'zod/mini';
import { invalidRequest } from '../../platform/errors.js';
import { withBearerToken } from '../../platform/http/auth.js';
import {
  type CsvColumn,
  csvResponse,
  csvSchema,
  everyPage,
  prefersCsv,
} from '../../platform/http/csv.js';
import { withIdempotencyKey } from '../../platform/http/idempotency.js';
import {
  createRouter,
  jsonBody,
  jsonContent,
  problemResponses,
} from '../../platform/http/openapi.js';
import { MAX_PAGE_SIZE, paginationQuery, setNextLink } from '../../platform/http/pagination.js';
import { createRoute } from '../../platform/http/routes.js';
import { type SlaError, type SlaErrorFilter, slaErrorEvents } from './sla-errors.model.js';
import {
  CreatedSlaErrorSchema,
  CreateSlaErrorSchema,
  SlaErrorFilters,
  SlaErrorIdParam,
  SlaErrorSchema,
} from './sla-errors.schemas.js';
import type { SlaErrorsService } from './sla-errors.service.js';

const tags = ['sla-errors'];

const createSlaErrorRoute = createRoute(
  withBearerToken(
    withIdempotencyKey({
      method: 'post',
      path: '/sla-errors',
      tags,
      summary: 'File an SLA error record',
      description:
        'Bearer access token only (an API key is not enough); the token’s subject is stored with the record. Any user error is a 400.',
      request: { body: jsonBody(CreateSlaErrorSchema) },
      responses: {
        200: jsonContent(CreatedSlaErrorSchema, 'Filed'),
        ...problemResponses(400, 401, 413, 415, 422, 500, 503),
      },
    }),
  ),
);

const csvDescription =
  'With `Accept: text/csv`, or at `/sla-errors.csv` (same filters): every matching record as one CSV ' +
  'download (RFC 4180, UTF-8, a header row; `limit` and `cursor` do not apply), streamed page by page. ' +
  'Columns: the record’s fields. ' +
  "A text cell starting with `=`, `+`, `-`, `@`, tab or CR starts with `'` (formula injection).";

const listSlaErrorsRoute = createRoute({
  method: 'get',
  path: '/sla-errors',
  tags,
  summary: 'List SLA error records, newest first',
  description: `By time, or one file’s (\`fileName\`), received in \`[from, to)\`; through an index, paginated. ${csvDescription}`,
  request: { query: z.extend(paginationQuery, SlaErrorFilters.shape) },
  responses: {
    200: {
      description: 'Newest first; `Link: rel="next"` when more remain. As CSV: all of them.',
      content: {
        'application/json': { schema: z.array(SlaErrorSchema) },
        'text/csv': { schema: csvSchema },
      },
    },
    ...problemResponses(400, 401),
  },
});

const listSlaErrorsCsvRoute = createRoute({
  method: 'get',
  path: '/sla-errors.csv',
  tags,
  summary: 'SLA error records as CSV, newest first',
  description: `By time, or one file’s (\`fileName\`), received in \`[from, to)\`. ${csvDescription}`,
  request: { query: SlaErrorFilters },
  responses: {
    200: { description: 'Every matching record', content: { 'text/csv': { schema: csvSchema } } },
    ...problemResponses(400, 401),
  },
});

/** The export's columns: every field of a record, in the order of the JSON. */
const slaErrorColumns: readonly CsvColumn<SlaError>[] = (
  [
    'id',
    'fileName',
    'slaDeadline',
    'receivedAt',
    'errorCode',
    'message',
    'severity',
    'source',
    'submittedBy',
    'createdAt',
  ] as const
).map((field) => ({ header: field, value: (record) => record[field] }));

const getSlaErrorRoute = createRoute({
  method: 'get',
  path: '/sla-errors/{id}',
  tags,
  summary: 'Get an SLA error record',
  request: { params: SlaErrorIdParam },
  responses: {
    200: jsonContent(SlaErrorSchema, 'The record'),
    ...problemResponses(400, 401, 404),
  },
});

export function slaErrorRoutes(service: SlaErrorsService) {
  // docs/spec.md#sla-errors: 200 for success, 400 for any user error (validation included), 500
  // internal.
  const app = createRouter({ invalid: (errors) => invalidRequest(errors) });

  app.openapi(createSlaErrorRoute, async (c) => {
    const record = await service.recordSlaError(
      c.req.valid('json'),
      c.get('caller')?.subject,
      c.get('requestKey'),
    );
    c.header('location', `/sla-errors/${record.id}`);
    return c.json({ id: record.id }, 200);
  });

  const exportCsv = (c: Context, filter: SlaErrorFilter) =>
    csvResponse(c, {
      filename: 'sla-errors.csv',
      columns: slaErrorColumns,
      pages: everyPage((page) => service.listSlaErrors(filter, page), MAX_PAGE_SIZE),
    });

  app.openapi(listSlaErrorsRoute, async (c) => {
    const { fileName, from, to, limit, cursor } = c.req.valid('query');
    c.header('vary', 'Accept', { append: true });
    if (prefersCsv(c)) return exportCsv(c, { fileName, from, to });
    const page = await service.listSlaErrors({ fileName, from, to }, { limit, cursor });
    setNextLink(c, page.nextCursor);
    return c.json(page.items, 200);
  });

  app.openapi(listSlaErrorsCsvRoute, (c) => {
    const { fileName, from, to } = c.req.valid('query');
    return exportCsv(c, { fileName, from, to });
  });

  app.openapi(getSlaErrorRoute, async (c) =>
    c.json(await service.getSlaError(c.req.valid('param').id), 200),
  );

  return app;
}

/** The `data` schema of each domain event of this module (the OpenAPI document's webhooks). */
export const slaErrorsEventSchemas = () => ({
  [slaErrorEvents.recorded]: SlaErrorSchema,
});
