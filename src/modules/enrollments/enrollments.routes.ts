import type { Context } from 'hono';
import * as z from 'zod/mini';
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
import type { AgeGroup, Enrollment } from './enrollments.model.js';
import { enrollmentEvents } from './enrollments.model.js';
import {
  AgeGroupIdParam,
  type AgeGroupResponse,
  AgeGroupSchema,
  CreateAgeGroupSchema,
  CreateEnrollmentSchema,
  DeleteAgeGroupResultSchema,
  EnrollmentAcceptedSchema,
  EnrollmentIdParam,
  EnrollmentSchema,
  enrollmentBody,
  ListEnrollmentsFilter,
} from './enrollments.schemas.js';
import type { EnrollmentsService } from './enrollments.service.js';

const tags = ['enrollments'];

const createAgeGroupRoute = createRoute(
  withIdempotencyKey({
    method: 'post',
    path: '/age-groups',
    tags,
    summary: 'Create an age group',
    description:
      'Ages are integers 0–150, `min_age` ≤ `max_age`; a group overlapping another is a 409.',
    request: { body: jsonBody(CreateAgeGroupSchema) },
    responses: {
      201: jsonContent(AgeGroupSchema, 'Created'),
      ...problemResponses(400, 401, 409, 413, 415, 422, 503),
    },
  }),
);

const listAgeGroupsRoute = createRoute({
  method: 'get',
  path: '/age-groups',
  tags,
  summary: 'List age groups, ordered by min_age',
  request: { query: paginationQuery },
  responses: {
    200: jsonContent(
      z.array(AgeGroupSchema),
      'Age groups by `min_age`; `Link: rel="next"` when more remain',
    ),
    ...problemResponses(400, 401, 422),
  },
});

const deleteAgeGroupRoute = createRoute({
  method: 'delete',
  path: '/age-groups/{id}',
  tags,
  summary: 'Delete an age group',
  description: 'Pending enrollments matched with it are REJECTED when processed.',
  request: { params: AgeGroupIdParam },
  responses: {
    200: jsonContent(DeleteAgeGroupResultSchema, 'Deleted'),
    ...problemResponses(401, 404, 422, 503),
  },
});

const createEnrollmentRoute = createRoute(
  withIdempotencyKey({
    method: 'post',
    path: '/enrollments',
    tags,
    summary: 'Request an enrollment',
    description:
      'Accepted (202) once the PENDING record is stored; processed asynchronously through a queue. ' +
      '422 when the CPF is not valid or no age group covers the age; 409 when the CPF already has an enrollment.',
    request: { body: jsonBody(CreateEnrollmentSchema) },
    responses: {
      202: jsonContent(EnrollmentAcceptedSchema, 'Accepted: PENDING'),
      ...problemResponses(400, 401, 409, 413, 415, 422, 503),
    },
  }),
);

const csvDescription =
  'With `Accept: text/csv`, or at `/enrollments.csv` (same filters): every matching enrollment as one ' +
  'CSV download (RFC 4180, UTF-8, a header row; `limit` and `cursor` do not apply), streamed page by ' +
  'page. Columns: id, name, age, cpf (masked), status, age_group_id, created_at, processed_at, reason. ' +
  "A text cell starting with `=`, `+`, `-`, `@`, tab or CR starts with `'` (formula injection).";

const listEnrollmentsRoute = createRoute({
  method: 'get',
  path: '/enrollments',
  tags,
  summary: 'List enrollments, newest first',
  description:
    'Every enrollment, newest first (by `created_at`, then id), optionally only those with one ' +
    '`status` and/or matched with one `ageGroupId`; CPFs masked as in GET /enrollments/{id}. ' +
    'A request is listed under the status it has: processing moves it from PENDING to ' +
    `PROCESSED or REJECTED. Read from indexes (no scan), which on AWS may lag a change by a moment. ${csvDescription}`,
  request: { query: z.extend(paginationQuery, ListEnrollmentsFilter.shape) },
  responses: {
    200: {
      description:
        'Enrollments, newest first; `Link: rel="next"` when more remain. As CSV: all of them.',
      content: {
        'application/json': { schema: z.array(EnrollmentSchema) },
        'text/csv': { schema: csvSchema },
      },
    },
    ...problemResponses(400, 401, 422),
  },
});

const listEnrollmentsCsvRoute = createRoute({
  method: 'get',
  path: '/enrollments.csv',
  tags,
  summary: 'Enrollments as CSV, newest first',
  description: `Optionally one \`status\` and/or one \`ageGroupId\`. ${csvDescription}`,
  request: { query: ListEnrollmentsFilter },
  responses: {
    200: {
      description: 'Every matching enrollment',
      content: { 'text/csv': { schema: csvSchema } },
    },
    ...problemResponses(400, 401, 422),
  },
});

/** The export's columns: the list's fields (`enrollment_id` is `id` again, left out). */
const enrollmentColumns: readonly CsvColumn<Enrollment>[] = [
  { header: 'id', value: (e) => e.id },
  { header: 'name', value: (e) => e.name },
  { header: 'age', value: (e) => e.age },
  { header: 'cpf', value: (e) => e.cpfMasked },
  { header: 'status', value: (e) => e.status },
  { header: 'age_group_id', value: (e) => e.ageGroupId },
  { header: 'created_at', value: (e) => e.createdAt },
  { header: 'processed_at', value: (e) => e.processedAt },
  { header: 'reason', value: (e) => e.reason },
];

const getEnrollmentRoute = createRoute({
  method: 'get',
  path: '/enrollments/{id}',
  tags,
  summary: 'Get an enrollment and its status',
  request: { params: EnrollmentIdParam },
  responses: {
    200: jsonContent(EnrollmentSchema, 'The enrollment, CPF masked'),
    ...problemResponses(401, 404, 422),
  },
});

function ageGroupBody(group: AgeGroup): AgeGroupResponse {
  return { id: group.id, min_age: group.minAge, max_age: group.maxAge };
}

export function ageGroupRoutes(service: EnrollmentsService) {
  const app = createRouter();

  app.openapi(createAgeGroupRoute, async (c) => {
    const { min_age, max_age } = c.req.valid('json');
    const group = await service.createAgeGroup({ minAge: min_age, maxAge: max_age });
    return c.json(ageGroupBody(group), 201);
  });

  app.openapi(listAgeGroupsRoute, async (c) => {
    const page = await service.listAgeGroups(c.req.valid('query'));
    setNextLink(c, page.nextCursor);
    return c.json(page.items.map(ageGroupBody), 200);
  });

  app.openapi(deleteAgeGroupRoute, async (c) => {
    const { id } = c.req.valid('param');
    await service.deleteAgeGroup(id);
    return c.json({ message: `Age group ${id} deleted successfully` }, 200);
  });

  return app;
}

export function enrollmentRoutes(service: EnrollmentsService) {
  const app = createRouter();

  app.openapi(createEnrollmentRoute, async (c) => {
    const enrollment = await service.enroll(c.req.valid('json'), c.get('requestKey'));
    c.header('location', `/enrollments/${encodeURIComponent(enrollment.id)}`);
    return c.json({ enrollment_id: enrollment.id, status: 'PENDING' as const }, 202);
  });

  const exportCsv = (c: Context, filter: Parameters<EnrollmentsService['listEnrollments']>[0]) =>
    csvResponse(c, {
      filename: 'enrollments.csv',
      columns: enrollmentColumns,
      pages: everyPage((page) => service.listEnrollments(filter, page), MAX_PAGE_SIZE),
    });

  app.openapi(listEnrollmentsRoute, async (c) => {
    const { limit, cursor, status, ageGroupId } = c.req.valid('query');
    c.header('vary', 'Accept', { append: true });
    if (prefersCsv(c)) return exportCsv(c, { status, ageGroupId });
    const page = await service.listEnrollments({ status, ageGroupId }, { limit, cursor });
    setNextLink(c, page.nextCursor);
    return c.json(page.items.map(enrollmentBody), 200);
  });

  app.openapi(listEnrollmentsCsvRoute, (c) => {
    const { status, ageGroupId } = c.req.valid('query');
    return exportCsv(c, { status, ageGroupId });
  });

  app.openapi(getEnrollmentRoute, async (c) =>
    c.json(enrollmentBody(await service.getEnrollment(c.req.valid('param').id)), 200),
  );

  return app;
}

/** The `data` schema of each domain event of this module (the OpenAPI document's webhooks). */
export const enrollmentsEventSchemas = () => ({
  [enrollmentEvents.accepted]: EnrollmentSchema,
  [enrollmentEvents.processed]: EnrollmentSchema,
  [enrollmentEvents.rejected]: EnrollmentSchema,
});
