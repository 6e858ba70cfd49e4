import { z } from '@hono/zod-openapi';
import { ClientIdSchema } from '../../platform/http/ids.js';
import { executionStatuses } from '../../platform/workflow/workflow.js';
import { branches } from './customers.model.js';

/*
 * The HTTP shapes of the customers module (seed 001): parameters, bodies and responses, validated
 * and published in the OpenAPI document from these schemas.
 */

export const CustomerIdParam = z.object({
  id: ClientIdSchema.openapi({ param: { name: 'id', in: 'path' }, example: 'user_test' }),
});

export const PutCustomerResultSchema = z
  .object({
    id: z.string(),
    created: z.boolean().openapi({ description: 'true when this request registered the id.' }),
  })
  .openapi('PutCustomerResult');

export const CustomerExistsSchema = z
  .object({ id: z.string(), exists: z.boolean() })
  .openapi('CustomerExists', { example: { id: 'user_test', exists: true } });

export const DeleteCustomerResultSchema = z
  .object({ id: z.string(), deleted: z.literal(true) })
  .openapi('DeleteCustomerResult');

export const SubmitWorkflowSchema = z
  .object({ id: ClientIdSchema.openapi({ example: 'sfn-101' }) })
  .openapi('SubmitWorkflow');

export const SubmittedSchema = z.object({ executionId: z.string() }).openapi('SubmittedWorkflow');

export const ExecutionIdParam = z.object({
  executionId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,80}$/, 'must be 1–80 characters of A-Z a-z 0-9 . _ : -')
    .openapi({ param: { name: 'executionId', in: 'path' } }),
});

export const ExecutionSchema = z
  .object({
    executionId: z.string(),
    id: z
      .string()
      .nullable()
      .openapi({ description: 'The customer id of its input (null when it had none).' }),
    status: z.enum(executionStatuses),
    input: z.unknown().openapi({ description: 'The execution input, e.g. `{"id":"c-1"}`.' }),
    output: z.unknown().openapi({ description: 'The output once SUCCEEDED, else null.' }),
    branch: z
      .enum(branches)
      .nullable()
      .openapi({ description: '`Inserted` or `AlreadyExists` once SUCCEEDED, else null.' }),
    error: z
      .object({ error: z.string(), cause: z.string() })
      .nullable()
      .openapi({ description: 'Why it did not succeed (FAILED, TIMED_OUT, ABORTED).' }),
    startedAt: z.string(),
    stoppedAt: z.string().nullable(),
  })
  .openapi('WorkflowExecution');
export type ExecutionResponse = z.infer<typeof ExecutionSchema>;
