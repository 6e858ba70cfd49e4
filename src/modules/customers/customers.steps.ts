import * as z from 'zod/mini';
import type { $ZodType } from 'zod/v4/core';
import { isDependencyUnavailable } from '../../platform/dynamo/errors.js';
import { ClientIdSchema } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { ModuleMetrics } from '../../platform/metrics/metrics.js';
import type { Outbox } from '../../platform/outbox/outbox.js';
import { StepError, stepErrorNames } from './customers.errors.js';
import type { CustomerRepository } from './customers.repository.js';
import { carriedVersion, customerEvent, failureFrom, outputOf } from './customers.rules.js';

/*
 * The workflow's Task states (customers.workflow.asl.json), one method each. They are module
 * tasks: on AWS each runs in its own task Lambda, locally aws-local-stepfunctions calls the same
 * function. Their input is what the state's Parameters build; their errors carry the names the
 * definition's Retry and Catch fields match (stepErrorNames).
 */

const nonEmpty = z.string().check(z.minLength(1));
const ValidateInput = z.object({
  id: z.unknown(),
  executionId: nonEmpty,
  startedAt: nonEmpty,
  input: z.unknown(),
});
const BranchInput = z.object({ id: ClientIdSchema, executionId: nonEmpty });
const InsertInput = z.extend(BranchInput, { version: z.optional(z.int().check(z.minimum(0))) });
const FailureInput = z.object({ executionId: nonEmpty, error: z.unknown() });

interface Deps {
  readonly repository: CustomerRepository;
  readonly clock: () => Date;
  readonly logger: Logger;
  /** The workflow's outcomes: IdInserted, IdAlreadyRegistered, InsertSuperseded, WorkflowFailed. */
  readonly metrics: ModuleMetrics;
  /** customer.created, committed with InsertId's insert. */
  readonly outbox: Outbox;
}

export class WorkflowSteps {
  constructor(private readonly deps: Deps) {}

  private now(): string {
    return this.deps.clock().toISOString();
  }

  /**
   * ValidateExists: records the execution (RUNNING), then reads whether the id is registered.
   * Its output carries the version InsertId may insert over: the one the run was started for
   * (a CustomerCreated event's), else the one read here — a run started without a version
   * (POST /workflow/submit, the schedule) decides on the registry as it finds it now, and a
   * DELETE answered after this read still stands.
   */
  async validateExists(raw: unknown): Promise<{ id: string; exists: boolean; version: number }> {
    const input = parse(ValidateInput, raw);
    const id = ClientIdSchema.safeParse(input.id);
    await transient(
      this.deps.repository.recordStarted({
        executionId: input.executionId,
        customerId: id.success ? id.data : undefined,
        input: input.input,
        startedAt: input.startedAt,
      }),
    );
    if (!id.success) {
      throw new StepError(
        stepErrorNames.invalidInput,
        'The input needs an "id" of 1–100 characters of A-Z a-z 0-9 . _ : -.',
      );
    }
    const carried = carriedVersion(input.input);
    if (carried === 'invalid') {
      throw new StepError(
        stepErrorNames.invalidInput,
        'The input\'s "version" must be a count (0, 1, 2, …).',
      );
    }
    const registration = await transient(this.deps.repository.registration(id.data));
    return { id: id.data, exists: registration.live, version: carried ?? registration.version };
  }

  /**
   * InsertId: a conditional put of the id, committed with the execution's `Inserted` outcome and
   * the id's customer.created event. Losing the race to another execution (or anyone) throws
   * Customers.AlreadyExists, which the definition catches into AlreadyExists: of two executions on
   * one new id, exactly one inserts. An id deleted after the version the run carries stays
   * deleted: the run ends `Superseded`. Run again after its commit, it writes nothing more.
   */
  async insertId(raw: unknown): Promise<{ id: string; branch: 'Inserted' | 'Superseded' }> {
    // An execution of the previous definition passes no version: it may insert only an id that
    // was never registered, as it was started before any tombstone this release writes.
    const { id, executionId, version = 0 } = parse(InsertInput, raw);
    const now = this.now();
    const output = outputOf(id, 'Inserted');
    const created = customerEvent(id, version + 1, true);
    const event = this.deps.outbox.event(created.type, created.aggregate, created.data, now);
    const result = await transient(
      this.deps.repository.insertForExecution(
        { id, createdAt: now, createdBy: executionId },
        version,
        executionId,
        output,
        now,
        [event],
      ),
    );
    if (result === 'exists') {
      throw new StepError(stepErrorNames.alreadyExists, `Customer ${id} was registered meanwhile.`);
    }
    if (result === 'superseded') return this.recordSuperseded(id, executionId, now);
    if (result === 'closed') throw executionClosed(executionId);
    if (result === 'inserted') {
      this.deps.metrics.count('IdInserted');
      await this.deps.outbox.announce([event]);
    }
    return output;
  }

  private async recordSuperseded(
    id: string,
    executionId: string,
    now: string,
  ): Promise<{ id: string; branch: 'Superseded' }> {
    const output = outputOf(id, 'Superseded');
    const recorded = await transient(
      this.deps.repository.recordOutcome(
        executionId,
        { status: 'SUCCEEDED', branch: 'Superseded', output },
        now,
      ),
    );
    if (!recorded) throw executionClosed(executionId);
    this.deps.metrics.count('InsertSuperseded');
    this.deps.logger.info('customer id deleted after this run was started: not inserted', {
      executionId,
    });
    return output;
  }

  /**
   * AlreadyExists: records that the id was registered already (the workflow's "log event",
   * docs/spec.md#customer-workflow).
   */
  async recordAlreadyExists(raw: unknown): Promise<{ id: string; branch: 'AlreadyExists' }> {
    const { id, executionId } = parse(BranchInput, raw);
    const output = outputOf(id, 'AlreadyExists');
    const recorded = await transient(
      this.deps.repository.recordOutcome(
        executionId,
        { status: 'SUCCEEDED', branch: 'AlreadyExists', output },
        this.now(),
      ),
    );
    if (recorded) this.deps.metrics.count('IdAlreadyRegistered');
    this.deps.logger.info('customer id already registered', { executionId, recorded });
    return output;
  }

  /** RecordFailure: records the error a Catch handed over (the execution then fails with it). */
  async recordFailure(raw: unknown): Promise<{ recorded: boolean }> {
    const { executionId, error } = parse(FailureInput, raw);
    const failure = failureFrom(error);
    const recorded = await transient(
      this.deps.repository.recordOutcome(
        executionId,
        { status: 'FAILED', error: failure },
        this.now(),
      ),
    );
    if (recorded) this.deps.metrics.count('WorkflowFailed');
    this.deps.logger.warn('workflow execution failed', { executionId, error: failure.error });
    return { recorded };
  }
}

const executionClosed = (executionId: string) =>
  new StepError(stepErrorNames.executionClosed, `Execution ${executionId} has ended.`);

function parse<T>(schema: $ZodType<T>, raw: unknown): T {
  const parsed = z.safeParse(schema, raw);
  if (!parsed.success) {
    throw new StepError(stepErrorNames.invalidInput, `Invalid task input: ${parsed.error.message}`);
  }
  return parsed.data;
}

/** A database that did not answer becomes the error the definition retries with backoff. */
async function transient<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isDependencyUnavailable(error)) {
      throw new StepError(stepErrorNames.unavailable, 'The customers table did not answer.', {
        cause: error,
      });
    }
    throw error;
  }
}
