import * as z from 'zod/mini';
import type { $RefinementCtx } from 'zod/v4/core';
import { ClientIdSchema } from '../../platform/ids.js';
import { strictBody, withMeta } from '../../platform/input.js';
import { executionStatuses } from '../../platform/workflow/workflow.js';
import { branches } from './customers.model.js';

/*
 * The HTTP shapes of the customers module: parameters, bodies and responses, validated
 * and published in the OpenAPI document from these schemas.
 */

export const CustomerIdParam = z.object({
  id: withMeta(ClientIdSchema, { param: { name: 'id', in: 'path' }, example: 'user_test' }),
});

export const PutCustomerResultSchema = withMeta(
  z.object({
    id: z.string(),
    created: withMeta(z.boolean(), { description: 'true when this request registered the id.' }),
  }),
  { id: 'PutCustomerResult' },
);

export const CustomerExistsSchema = withMeta(z.object({ id: z.string(), exists: z.boolean() }), {
  id: 'CustomerExists',
  example: { id: 'user_test', exists: true },
});
export type CustomerExistsResponse = z.infer<typeof CustomerExistsSchema>;

/**
 * A customer id as the API shows it: GET /customers/{id}'s body, and the `data` of its domain
 * events.
 */
export const customerBody = (id: string, exists: boolean): CustomerExistsResponse => ({
  id,
  exists,
});

export const ListedCustomerSchema = withMeta(
  z.object({
    id: z.string(),
    createdAt: withMeta(z.string(), {
      description: 'When it was registered (again, after a delete).',
    }),
  }),
  { id: 'ListedCustomer', example: { id: 'user_test', createdAt: '2026-03-01T09:00:00.000Z' } },
);

export const DeleteCustomerResultSchema = withMeta(
  z.object({ id: z.string(), deleted: z.literal(true) }),
  { id: 'DeleteCustomerResult' },
);

/** Refuses unknown fields: the workflow's input is `{id}` and nothing a client adds to it. */
export const SubmitWorkflowSchema = withMeta(
  strictBody({ id: withMeta(ClientIdSchema, { example: 'sfn-101' }) }),
  { id: 'SubmitWorkflow' },
);

export const SubmittedSchema = withMeta(z.object({ executionId: z.string() }), {
  id: 'SubmittedWorkflow',
});

export const ExecutionIdParam = z.object({
  executionId: withMeta(
    z
      .string()
      .check(z.regex(/^[A-Za-z0-9._:-]{1,80}$/, 'must be 1–80 characters of A-Z a-z 0-9 . _ : -')),
    { param: { name: 'executionId', in: 'path' } },
  ),
});

export const ExecutionSchema = withMeta(
  z.object({
    executionId: z.string(),
    id: withMeta(z.nullable(z.string()), {
      description: 'The customer id of its input (null when it had none).',
    }),
    status: z.enum(executionStatuses),
    input: withMeta(z.unknown(), {
      description:
        'The execution input, e.g. `{"id":"c-1"}`; a run started by `CustomerCreated` also carries the `version` its PUT created (`{"id":"c-1","version":1}`).',
    }),
    output: withMeta(z.unknown(), { description: 'The output once SUCCEEDED, else null.' }),
    branch: withMeta(z.nullable(z.enum(branches)), {
      description:
        '`Inserted`, `AlreadyExists`, or `Superseded` (the id was deleted after the run was started, and stays deleted) once SUCCEEDED, else null.',
    }),
    error: withMeta(z.nullable(z.object({ error: z.string(), cause: z.string() })), {
      description: 'Why it did not succeed (FAILED, TIMED_OUT, ABORTED).',
    }),
    startedAt: z.string(),
    stoppedAt: z.nullable(z.string()),
  }),
  { id: 'WorkflowExecution' },
);
export type ExecutionResponse = z.infer<typeof ExecutionSchema>;

const instant = (description: string) =>
  withMeta(z.optional(z.iso.datetime({ offset: true })), {
    description: `${description} An RFC 3339 date-time with Z or an offset.`,
  });

/**
 * GET /workflow/executions's filters (beside the page's): a customer's executions (`id`), or all
 * of them, or those of one `status`; started in [from, to).
 */
export const ExecutionFilters = z.object({
  id: withMeta(z.optional(ClientIdSchema), {
    description: 'Only the executions whose input had this customer id (not with `status`).',
    example: 'c-1',
  }),
  status: withMeta(z.optional(z.enum(executionStatuses)), {
    description: 'Only the executions with this status now.',
  }),
  from: instant('Only the executions started at or after this instant.'),
  to: instant('Only the executions started before this instant (after `from`).'),
});

/** What the fields alone do not say: `status` filters all executions, and from < to. */
export function checkExecutionFilters(
  query: z.infer<typeof ExecutionFilters>,
  ctx: $RefinementCtx,
): void {
  if (query.id !== undefined && query.status !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['status'],
      message: 'filters all executions; not with id',
    });
  }
  if (
    query.from !== undefined &&
    query.to !== undefined &&
    Date.parse(query.from) >= Date.parse(query.to)
  ) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  }
}
