import {
  DescribeExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { v7 as uuidv7 } from 'uuid';
import {
  type ExecutionDescription,
  type ExecutionStatus,
  executionArnOf,
  type StartedExecution,
  type Workflows,
} from './workflow.js';

/**
 * The workflow port on AWS Step Functions (standard workflows). Each workflow id maps to the ARN
 * of its state machine, which the CDK stack passes as `<ID>_STATE_MACHINE_ARN` (config.workflows).
 */
export class StepFunctionsWorkflows implements Workflows {
  constructor(
    private readonly client: SFNClient,
    private readonly arns: Readonly<Record<string, string | undefined>>,
  ) {}

  async start(
    workflow: string,
    input: unknown,
    options: { name?: string } = {},
  ): Promise<StartedExecution> {
    const name = options.name ?? uuidv7();
    // A standard workflow treats a repeated name with the same input as the same execution, so a
    // retried start never runs twice.
    await this.client.send(
      new StartExecutionCommand({
        stateMachineArn: this.arnOf(workflow),
        name,
        input: JSON.stringify(input ?? {}),
      }),
    );
    return { executionId: name };
  }

  async describe(workflow: string, executionId: string): Promise<ExecutionDescription | undefined> {
    try {
      const out = await this.client.send(
        new DescribeExecutionCommand({
          executionArn: executionArnOf(this.arnOf(workflow), executionId),
        }),
      );
      return {
        status: (out.status ?? 'RUNNING') as ExecutionStatus,
        ...(out.output !== undefined ? { output: JSON.parse(out.output) as unknown } : {}),
        error: out.error,
        cause: out.cause,
        startedAt: (out.startDate ?? new Date(0)).toISOString(),
        stoppedAt: out.stopDate?.toISOString(),
      };
    } catch (error) {
      if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
  }

  private arnOf(workflow: string): string {
    const arn = this.arns[workflow];
    if (!arn) throw new Error(`no state machine ARN configured for workflow "${workflow}"`);
    return arn;
  }
}
