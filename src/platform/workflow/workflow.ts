/**
 * The workflow port: a state machine written in Amazon States Language, run by Step Functions on
 * AWS (step-functions.ts) and in-process locally (src/runtime/local/workflows.ts) from the same
 * file. A module declares its workflows (`ModuleDefinition.workflows`); each Task state's
 * `Resource` is a `${Placeholder}` that names one of the module's tasks, so on AWS it becomes
 * that task's Lambda ARN and locally a call of the same task function.
 */
import { envName } from '../env-names.js';

export const executionStatuses = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];

export interface WorkflowDefinition {
  /** kebab-case, unique across modules: construct ids and `<ID>_STATE_MACHINE_ARN`. */
  readonly id: string;
  /** Absolute path of the ASL (JSON) file. */
  readonly definitionFile: string;
  /**
   * `${Placeholder}` in the file → the name of the module task that runs that Task state (its
   * Lambda on AWS, the same function in-process locally).
   */
  readonly tasks: Readonly<Record<string, string>>;
}

export interface StartedExecution {
  /** The execution's name: unique per workflow, what the API shows as its id. */
  readonly executionId: string;
}

export interface ExecutionDescription {
  readonly status: ExecutionStatus;
  readonly output?: unknown;
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
  readonly startedAt: string;
  readonly stoppedAt?: string | undefined;
}

export interface Workflows {
  /**
   * Starts an execution of `workflow` (a definition id) with `input`. `name` must be unique per
   * workflow; a generated one is used when absent. Resolves once the engine has accepted it.
   */
  start(workflow: string, input: unknown, options?: { name?: string }): Promise<StartedExecution>;
  /**
   * How an execution stands, or undefined when the engine does not know it: never started, or
   * (locally) lost with the process that ran it.
   */
  describe(workflow: string, executionId: string): Promise<ExecutionDescription | undefined>;
}

/** `customer-ids` → `CUSTOMER_IDS_STATE_MACHINE_ARN`: where the stack passes the ARN. */
export function workflowEnvVar(workflow: Pick<WorkflowDefinition, 'id'>): string {
  return envName(workflow.id, 'STATE_MACHINE_ARN');
}

/** The `${Placeholder}`s of an ASL text, in order of first appearance. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] as string))];
}

/** Replaces each `${Placeholder}` with its value; throws for one without a value. */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`no value for \${${key}} in the workflow definition`);
    return value;
  });
}

/** `arn:…:stateMachine:<machine>` + name → `arn:…:execution:<machine>:<name>`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
