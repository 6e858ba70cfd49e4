import * as z from 'zod/mini';
import { withIdempotencyKey } from '../../platform/http/idempotency.js';
import {
  createRouter,
  jsonBody,
  jsonContent,
  problemResponses,
} from '../../platform/http/openapi.js';
import { paginationQuery, setNextLink } from '../../platform/http/pagination.js';
import { createRoute } from '../../platform/http/routes.js';
import type { Execution } from './customers.model.js';
import { customerEvents } from './customers.model.js';
import {
  CustomerExistsSchema,
  CustomerIdParam,
  checkExecutionFilters,
  customerBody,
  DeleteCustomerResultSchema,
  ExecutionFilters,
  ExecutionIdParam,
  type ExecutionResponse,
  ExecutionSchema,
  ListedCustomerSchema,
  PutCustomerResultSchema,
  SubmittedSchema,
  SubmitWorkflowSchema,
} from './customers.schemas.js';
import type { CustomersService, WorkflowService } from './customers.service.js';

const tags = ['customers'];

const putCustomerRoute = createRoute({
  method: 'put',
  path: '/customers/{id}',
  tags,
  summary: 'Register a customer id',
  description:
    'Idempotent: 201 the first time (and a `CustomerCreated` event, `source=customer.api`, once the id is stored), 200 after. A body, if sent, is ignored.',
  request: { params: CustomerIdParam },
  responses: {
    201: jsonContent(PutCustomerResultSchema, 'Registered now'),
    200: jsonContent(PutCustomerResultSchema, 'Registered already'),
    ...problemResponses(400, 401, 413, 415, 422, 503),
  },
});

const getCustomerRoute = createRoute({
  method: 'get',
  path: '/customers/{id}',
  tags,
  summary: 'Whether a customer id is registered',
  description: 'Always 200: `exists` says whether the id is registered.',
  request: { params: CustomerIdParam },
  responses: {
    200: jsonContent(CustomerExistsSchema, 'Registered or not'),
    ...problemResponses(401, 422, 503),
  },
});

const listCustomersRoute = createRoute({
  method: 'get',
  path: '/customers',
  tags,
  summary: 'The registered customer ids',
  description:
    'Newest registration first (an id registered again after a delete counts from then); a deleted id is not listed.',
  request: { query: paginationQuery },
  responses: {
    200: jsonContent(
      z.array(ListedCustomerSchema),
      'Newest first; `Link: rel="next"` when more remain',
    ),
    ...problemResponses(400, 401, 422, 503),
  },
});

const deleteCustomerRoute = createRoute({
  method: 'delete',
  path: '/customers/{id}',
  tags,
  summary: 'Remove a customer id',
  request: { params: CustomerIdParam },
  responses: {
    200: jsonContent(DeleteCustomerResultSchema, 'Removed'),
    ...problemResponses(401, 404, 422, 503),
  },
});

const submitRoute = createRoute(
  withIdempotencyKey({
    method: 'post',
    path: '/workflow/submit',
    tags,
    summary: 'Start the workflow for an id',
    description:
      'ValidateExists → InsertId (new id) or AlreadyExists. Answers 202 once the execution has started; follow it at `Location`.',
    request: { body: jsonBody(SubmitWorkflowSchema) },
    responses: {
      202: jsonContent(SubmittedSchema, 'Started'),
      ...problemResponses(400, 401, 409, 413, 415, 422, 503),
    },
  }),
);

const getExecutionRoute = createRoute({
  method: 'get',
  path: '/workflow/executions/{executionId}',
  tags,
  summary: 'One workflow execution',
  request: { params: ExecutionIdParam },
  responses: {
    200: jsonContent(ExecutionSchema, 'The execution as recorded'),
    ...problemResponses(401, 404, 422, 503),
  },
});

const listExecutionsRoute = createRoute({
  method: 'get',
  path: '/workflow/executions',
  tags,
  summary: 'Workflow executions: all, by status, or of one customer id',
  description:
    'Newest start first. With `id`: every execution whose input had that id — started by the API, by a `CustomerCreated` event or by the schedule. Without: every execution, or with `status` those whose status is that now (an execution moves from RUNNING to the status it ends with). `from`/`to` keep those started in [from, to).',
  request: {
    query: z
      .extend(paginationQuery, ExecutionFilters.shape)
      .check(z.superRefine(checkExecutionFilters)),
  },
  responses: {
    200: jsonContent(z.array(ExecutionSchema), 'Newest first; `Link: rel="next"` when more remain'),
    ...problemResponses(400, 401, 422, 503),
  },
});

const EARLIEST = '0000-01-01T00:00:00.000Z';
const LATEST = '9999-12-31T23:59:59.999Z';

/**
 * As the records hold instants: ISO 8601 in UTC, to the millisecond. An offset can take an
 * instant out of years 0000–9999, whose UTC strings (`-000001-…`, `+010000-…`) would sort wrong
 * against the records': such a bound is the first or last instant there is.
 */
function utc(instant: string | undefined): string | undefined {
  if (instant === undefined) return undefined;
  const text = new Date(instant).toISOString();
  if (text.startsWith('-')) return EARLIEST;
  if (text.startsWith('+')) return LATEST;
  return text;
}

function executionBody(execution: Execution): ExecutionResponse {
  return {
    executionId: execution.executionId,
    id: execution.customerId ?? null,
    status: execution.status,
    input: execution.input,
    output: execution.output ?? null,
    branch: execution.branch ?? null,
    error: execution.error ?? null,
    startedAt: execution.startedAt,
    stoppedAt: execution.stoppedAt ?? null,
  };
}

export function customerRoutes(customers: CustomersService) {
  const app = createRouter();

  app.openapi(putCustomerRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { created } = await customers.register(id);
    return created ? c.json({ id, created }, 201) : c.json({ id, created }, 200);
  });

  app.openapi(getCustomerRoute, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(customerBody(id, await customers.exists(id)), 200);
  });

  app.openapi(listCustomersRoute, async (c) => {
    const page = await customers.list(c.req.valid('query'));
    setNextLink(c, page.nextCursor);
    return c.json(page.items, 200);
  });

  app.openapi(deleteCustomerRoute, async (c) => {
    const { id } = c.req.valid('param');
    await customers.remove(id);
    return c.json({ id, deleted: true as const }, 200);
  });

  return app;
}

export function workflowRoutes(workflow: WorkflowService) {
  const app = createRouter();

  app.openapi(submitRoute, async (c) => {
    const executionId = await workflow.submit(c.req.valid('json').id);
    c.header('location', `/workflow/executions/${encodeURIComponent(executionId)}`);
    return c.json({ executionId }, 202);
  });

  app.openapi(getExecutionRoute, async (c) =>
    c.json(executionBody(await workflow.getExecution(c.req.valid('param').executionId)), 200),
  );

  app.openapi(listExecutionsRoute, async (c) => {
    const { id, status, from, to, limit, cursor } = c.req.valid('query');
    const page = await workflow.listExecutions(
      { customerId: id, status, from: utc(from), to: utc(to) },
      { limit, cursor },
    );
    setNextLink(c, page.nextCursor);
    return c.json(page.items.map(executionBody), 200);
  });

  return app;
}

/** The `data` schema of each domain event of this module (the OpenAPI document's webhooks). */
export const customersEventSchemas = () => ({
  [customerEvents.created]: CustomerExistsSchema,
  [customerEvents.deleted]: CustomerExistsSchema,
});
