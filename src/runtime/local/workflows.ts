import { readFileSync } from 'node:fs';
import {
  ExecutionAbortedError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { v7 as uuidv7 } from 'uuid';
import type { Logger } from '../../platform/logger.js';
import type { AnyModule } from '../../platform/module.js';
import {
  type ExecutionDescription,
  executionArnOf,
  substitute,
  type WorkflowDefinition,
  type Workflows,
} from '../../platform/workflow/workflow.js';
import { Journal } from './journal.js';

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22+); the scripts run on the node
// devDependency (24), but the code still runs on Node 20 (docs/decisions/node-runtime.md).
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((done, fail) => {
        resolve = done;
        reject = fail;
      });
      return { promise, resolve, reject };
    },
  });
}

/** Runs one of a module's tasks: the same function its task Lambda exports. */
export type TaskRunner = (module: AnyModule, task: string, input: unknown) => Promise<unknown>;

export interface LocalWorkflowsOptions {
  readonly modules: readonly AnyModule[];
  readonly runTask: TaskRunner;
  readonly logger: Logger;
  /**
   * Pause before every retry, in milliseconds, instead of what the definition's Retry fields
   * compute (tests: the retry path without waiting seconds). The number of attempts is unchanged.
   */
  readonly retryIntervalMs?: number;
  /** Finished executions remembered for `describe` (the database keeps the records). */
  readonly remember?: number;
  /**
   * A directory where a started execution stays until it ends (the local runtime's
   * `<data dir>/workflows`): `resume()` runs again what a crash or a stop cut short. Without
   * one, executions live in memory only (tests).
   */
  readonly journal?: string;
}

/** A started execution, as the journal keeps it until the execution ends. */
interface Started {
  readonly workflow: string;
  readonly name: string;
  readonly input: unknown;
  readonly startedAt: string;
}

interface Loaded {
  readonly machine: StateMachine;
  readonly definition: StateMachineDefinition;
  /** Task state name → the task it runs. */
  readonly handlers: Record<string, (input: unknown) => Promise<unknown>>;
  readonly arn: string;
}

interface Running extends ExecutionDescription {
  readonly abort?: () => void;
  readonly done?: Promise<void>;
}

const REGION = 'us-east-1';

/** An execution's key here and in the journal: names are unique per workflow. */
const keyOf = (workflow: string, name: string) => `${workflow}/${name}`;
const ACCOUNT = '000000000000';

/**
 * The workflow port in-process: aws-local-stepfunctions runs each module's ASL file as is, its
 * Task states' `${Placeholder}` resources mapped to the module tasks they name — the functions
 * the task Lambdas export on AWS. Executions run in the background, like Step Functions', and
 * are known here only while this process lives: the module's own records (written by its tasks)
 * are what survives a restart.
 *
 * Step Functions runs a started execution to its end whatever happens to the caller. With a
 * journal, so does this engine, across a crash: `start` resolves once the execution (name,
 * input) is on disk, the entry goes when the execution ends, and `resume()` at the next start
 * runs what is left again from the beginning, under the same name — so a workflow's steps must
 * be idempotent, as on AWS where a step may be retried. An execution lost without a journal
 * is unknown to `describe`; the module's start-up task closes its record.
 */
export class LocalWorkflows implements Workflows {
  private readonly workflows = new Map<string, Loaded>();
  private readonly executions = new Map<string, Running>();
  private readonly finished: string[] = [];
  private readonly journal: Journal<Started> | undefined;
  /** Executions being started (their journal entry being written), by key. */
  private readonly starting = new Map<string, Promise<void>>();
  /** Journal removals under way. */
  private readonly removals = new Set<Promise<unknown>>();

  constructor(private readonly options: LocalWorkflowsOptions) {
    this.journal = options.journal ? new Journal(options.journal) : undefined;
    for (const module of options.modules) {
      for (const workflow of module.workflows ?? []) {
        this.workflows.set(workflow.id, load(module, workflow, options.runTask));
      }
    }
  }

  async start(
    workflow: string,
    input: unknown,
    options: { name?: string } = {},
  ): Promise<{ executionId: string }> {
    this.loaded(workflow);
    const name = options.name ?? uuidv7();
    const key = keyOf(workflow, name);
    // Step Functions (standard) answers a repeated name with the execution it already has,
    // also while that one is still being started.
    if (this.executions.has(key)) return { executionId: name };
    let starting = this.starting.get(key);
    if (!starting) {
      const started: Started = { workflow, name, input, startedAt: new Date().toISOString() };
      starting = (async () => {
        // On disk before it is acknowledged: from here on it runs to its end, restarts included.
        await this.journal?.write(key, started);
        this.run(started);
      })().finally(() => this.starting.delete(key));
      this.starting.set(key, starting);
    }
    await starting;
    return { executionId: name };
  }

  /** Runs again, from the beginning, every execution a previous process did not finish. */
  async resume(): Promise<number> {
    if (!this.journal) return 0;
    const left = await this.journal.entries((file, error) =>
      this.options.logger.error('unreadable execution left in the journal', { file, error }),
    );
    const resumed = left.filter(([key]) => !this.executions.has(key));
    for (const [key, started] of resumed) {
      try {
        this.run(started);
      } catch (error) {
        // Its workflow is no longer declared by a listed module: nothing can run it.
        this.options.logger.error('execution left in the journal cannot run', { key, error });
      }
    }
    if (resumed.length > 0) {
      this.options.logger.info('running again executions a restart interrupted', {
        executions: resumed.map(([key]) => key),
      });
    }
    return resumed.length;
  }

  private run({ workflow, name, input, startedAt }: Started): void {
    const loaded = this.loaded(workflow);
    const key = keyOf(workflow, name);
    const stateMachineArn = loaded.arn;
    const execution = loaded.machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: loaded.handlers as never,
        ...(this.options.retryIntervalMs !== undefined
          ? {
              retryIntervalOverrides: retryOverrides(
                loaded.definition,
                this.options.retryIntervalMs,
              ),
            }
          : {}),
      },
      // What Step Functions puts in the context object ($$), so the same paths work here.
      context: {
        Execution: {
          Id: executionArnOf(stateMachineArn, name),
          Name: name,
          Input: input as never,
          StartTime: startedAt,
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/roster-local`,
        },
        StateMachine: { Id: stateMachineArn, Name: workflow },
      },
    });
    const done = execution.result.then(
      (output) => this.finish(key, { status: 'SUCCEEDED', output, startedAt }),
      (error: unknown) => this.finish(key, { ...failure(error), startedAt }),
    );
    this.executions.set(key, { status: 'RUNNING', startedAt, abort: execution.abort, done });
  }

  async describe(workflow: string, executionId: string): Promise<ExecutionDescription | undefined> {
    this.loaded(workflow);
    const found = this.executions.get(keyOf(workflow, executionId));
    if (!found) return undefined;
    const { abort: _, done: __, ...description } = found;
    return description;
  }

  /** How the execution ended, once it has (undefined if this engine does not know it). */
  async settled(workflow: string, executionId: string): Promise<ExecutionDescription | undefined> {
    await this.executions.get(keyOf(workflow, executionId))?.done;
    return this.describe(workflow, executionId);
  }

  /** Executions running now. */
  get running(): number {
    let count = 0;
    for (const execution of this.executions.values()) if (execution.done) count++;
    return count;
  }

  /** Resolves when no execution is running (those started meanwhile included). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.executions.values()].flatMap((e) => (e.done ? [e.done] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /**
   * Waits up to `graceMs` for running executions, then aborts the rest: their records stay
   * RUNNING, as after a crash, and the next start-up closes them.
   */
  async stop(graceMs = 5_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.idle(),
      new Promise((done) => {
        timer = setTimeout(done, graceMs);
      }),
    ]);
    clearTimeout(timer);
    for (const execution of this.executions.values()) execution.abort?.();
  }

  /** Resolves when the journal no longer holds an execution that has ended. */
  async flushed(): Promise<void> {
    while (this.removals.size > 0) await Promise.allSettled([...this.removals]);
  }

  private finish(key: string, outcome: ExecutionDescription): void {
    this.executions.set(key, { ...outcome, stoppedAt: new Date().toISOString() });
    // An execution a stop aborted stays in the journal: the next start runs it again.
    if (this.journal && outcome.status !== 'ABORTED') {
      const removal = this.journal.remove(key).catch((error: unknown) => {
        this.options.logger.error('ended execution left in the journal', { key, error });
      });
      this.removals.add(removal);
      void removal.finally(() => this.removals.delete(removal));
    }
    if (outcome.status !== 'SUCCEEDED') {
      this.options.logger.warn('workflow execution did not succeed', {
        execution: key,
        status: outcome.status,
        error: outcome.error,
      });
    }
    this.finished.push(key);
    while (this.finished.length > (this.options.remember ?? 1000)) {
      const oldest = this.finished.shift();
      if (oldest) this.executions.delete(oldest);
    }
  }

  private loaded(workflow: string): Loaded {
    const loaded = this.workflows.get(workflow);
    if (!loaded) throw new Error(`no workflow "${workflow}" is declared by a listed module`);
    return loaded;
  }
}

function load(module: AnyModule, workflow: WorkflowDefinition, runTask: TaskRunner): Loaded {
  // The same substitution CloudFormation makes, with ARNs of the shape a Lambda ARN has.
  const arnOf = (task: string) =>
    `arn:aws:lambda:${REGION}:${ACCOUNT}:function:roster-local-${module.name}-${task}`;
  const byArn = new Map<string, string>();
  const values: Record<string, string> = {};
  for (const [placeholder, task] of Object.entries(workflow.tasks)) {
    if (!module.tasks?.some((t) => t.name === task)) {
      throw new Error(
        `workflow "${workflow.id}": task "${task}" is not a task of "${module.name}"`,
      );
    }
    values[placeholder] = arnOf(task);
    byArn.set(arnOf(task), task);
  }
  const text = substitute(readFileSync(workflow.definitionFile, 'utf8'), values);
  const definition = JSON.parse(text) as StateMachineDefinition;
  const handlers: Loaded['handlers'] = {};
  for (const [stateName, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const task = byArn.get(state.Resource);
    if (!task) {
      throw new Error(
        `workflow "${workflow.id}": Task state ${stateName} runs ${state.Resource}, which no task backs`,
      );
    }
    handlers[stateName] = (input) => runTask(module, task, input);
  }
  return {
    machine: new StateMachine(definition),
    definition,
    handlers,
    arn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:roster-local-${workflow.id}`,
  };
}

function retryOverrides(definition: StateMachineDefinition, ms: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(definition.States)
      .filter(([, state]) => 'Retry' in state && state.Retry)
      .map(([name]) => [name, ms]),
  );
}

/** A failed execution as Step Functions describes it: the error and cause of the last failure. */
function failure(error: unknown): Omit<ExecutionDescription, 'startedAt'> {
  if (error instanceof ExecutionTimeoutError) {
    return { status: 'TIMED_OUT', error: 'States.Timeout', cause: error.message };
  }
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  const cause = (error as Error).cause as Error | undefined;
  return {
    status: 'FAILED',
    error: cause?.name ?? (error as Error).name,
    cause: cause?.message ?? (error as Error).message,
  };
}
