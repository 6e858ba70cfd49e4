import { z } from 'zod';
import { ClientIdSchema } from '../../platform/ids.js';
import { strictBody } from '../../platform/input.js';
import { executionStatuses } from '../../platform/workflow/workflow.js';
import { branches } from './customers.model.js';

/*
 * The HTTP shapes of the customers module: parameters, bodies and responses, validated
 * and published in the OpenAPI document from these schemas.
 */

export const CustomerIdParam = z.object({
  id: ClientIdSchema.meta({ param: { name: 'id', in: 'path' }, example: 'user_test' }),
});

export const PutCustomerResultSchema = z
  .object({
    id: z.string(),
    created: z.boolean().meta({ description: 'true when this request registered the id.' }),
  })
  .meta({ id: 'PutCustomerResult' });

export const CustomerExistsSchema = z
  .object({ id: z.string(), exists: z.boolean() })
  .meta({ id: 'CustomerExists', example: { id: 'user_test', exists: true } });
export type CustomerExistsResponse = z.infer<typeof CustomerExistsSchema>;

/**
 * A customer id as the API shows it: GET /customers/{id}'s body, and the `data` of its domain
 * events.
 */
export const customerBody = (id: string, exists: boolean): CustomerExistsResponse => ({
  id,
  exists,
});

export const ListedCustomerSchema = z
  .object({
    id: z.string(),
    createdAt: z.string().meta({ description: 'When it was registered (again, after a delete).' }),
  })
  .meta({
    id: 'ListedCustomer',
    example: { id: 'user_test', createdAt: '2026-03-01T09:00:00.000Z' },
  });

export const DeleteCustomerResultSchema = z
  .object({ id: z.string(), deleted: z.literal(true) })
  .meta({ id: 'DeleteCustomerResult' });

/** Refuses unknown fields: the workflow's input is `{id}` and nothing a client adds to it. */
export const SubmitWorkflowSchema = strictBody({
  id: ClientIdSchema.meta({ example: 'sfn-101' }),
}).meta({ id: 'SubmitWorkflow' });

export const SubmittedSchema = z
  .object({ executionId: z.string() })
  .meta({ id: 'SubmittedWorkflow' });

export const ExecutionIdParam = z.object({
  executionId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,80}$/, 'must be 1–80 characters of A-Z a-z 0-9 . _ : -')
    .meta({ param: { name: 'executionId', in: 'path' } }),
});

export const ExecutionSchema = z
  .object({
    executionId: z.string(),
    id: z
      .string()
      .nullable()
      .meta({ description: 'The customer id of its input (null when it had none).' }),
    status: z.enum(executionStatuses),
    input: z.unknown().meta({
      description:
        'The execution input, e.g. `{"id":"c-1"}`; a run started by `CustomerCreated` also carries the `version` its PUT created (`{"id":"c-1","version":1}`).',
    }),
    output: z.unknown().meta({ description: 'The output once SUCCEEDED, else null.' }),
    branch: z.enum(branches).nullable().meta({
      description:
        '`Inserted`, `AlreadyExists`, or `Superseded` (the id was deleted after the run was started, and stays deleted) once SUCCEEDED, else null.',
    }),
    error: z
      .object({ error: z.string(), cause: z.string() })
      .nullable()
      .meta({ description: 'Why it did not succeed (FAILED, TIMED_OUT, ABORTED).' }),
    startedAt: z.string(),
    stoppedAt: z.string().nullable(),
  })
  .meta({ id: 'WorkflowExecution' });
export type ExecutionResponse = z.infer<typeof ExecutionSchema>;

const instant = (description: string) =>
  z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: `${description} An RFC 3339 date-time with Z or an offset.` });

/**
 * GET /workflow/executions's filters (beside the page's): a customer's executions (`id`), or all
 * of them, or those of one `status`; started in [from, to).
 */
export const ExecutionFilters = z.object({
  id: ClientIdSchema.optional().meta({
    description: 'Only the executions whose input had this customer id (not with `status`).',
    example: 'c-1',
  }),
  status: z
    .enum(executionStatuses)
    .optional()
    .meta({ description: 'Only the executions with this status now.' }),
  from: instant('Only the executions started at or after this instant.'),
  to: instant('Only the executions started before this instant (after `from`).'),
});

/** What the fields alone do not say: `status` filters all executions, and from < to. */
export function checkExecutionFilters(
  query: z.infer<typeof ExecutionFilters>,
  ctx: z.RefinementCtx,
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
