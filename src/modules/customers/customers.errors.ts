import { type AppError, notFound, unavailable } from '../../platform/errors.js';

/** Stable codes for everything the customers routes answer with besides success. */
export const CustomersErrors = {
  customerNotFound: (id: string) =>
    notFound('CUSTOMERS.CUSTOMER_NOT_FOUND', `Customer ${id} does not exist.`),
  executionNotFound: (executionId: string) =>
    notFound('CUSTOMERS.EXECUTION_NOT_FOUND', `Workflow execution ${executionId} does not exist.`),
  registryBusy: (id: string) =>
    unavailable(
      'CUSTOMERS.REGISTRY_BUSY',
      `Customer ${id} kept being created and deleted while this request tried; retry after the indicated delay.`,
    ),
  workflowUnavailable: (cause?: unknown) =>
    unavailable(
      'CUSTOMERS.WORKFLOW_UNAVAILABLE',
      'The workflow engine did not accept the execution; retry after the indicated delay.',
      1,
      cause,
    ),
} satisfies Record<string, (...args: never[]) => AppError>;

/**
 * Errors a workflow task throws, by the name the state machine matches in its Retry and Catch
 * fields (customers.workflow.asl.json): Step Functions reads a Lambda error's `name`, and
 * aws-local-stepfunctions the thrown error's, so one name works on both.
 */
export const stepErrorNames = {
  /** Transient (the database did not answer): retried with backoff. */
  unavailable: 'Customers.Unavailable',
  /** InsertId lost the race for a new id: caught, and the execution goes to AlreadyExists. */
  alreadyExists: 'Customers.AlreadyExists',
  /** The input has no usable id: not retried, caught and recorded as the failure. */
  invalidInput: 'Customers.InvalidInput',
  /** The record was closed by something else (a reconciliation) meanwhile: not retried. */
  executionClosed: 'Customers.ExecutionClosed',
} as const;

export class StepError extends Error {
  constructor(
    override readonly name: (typeof stepErrorNames)[keyof typeof stepErrorNames],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
