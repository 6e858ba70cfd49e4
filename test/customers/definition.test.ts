import { readFileSync } from 'node:fs';
import validate from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { stepErrorNames } from '../../src/modules/customers/customers.errors.js';
import { customersModule, customerWorkflow } from '../../src/modules/customers/customers.module.js';
import { placeholdersOf, substitute } from '../../src/platform/workflow/workflow.js';

interface State {
  Type: string;
  Resource?: string;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Next?: string;
}

const text = readFileSync(customerWorkflow.definitionFile, 'utf8');
/** As CloudFormation substitutes it: Lambda ARNs for the placeholders. */
const definition = JSON.parse(
  substitute(
    text,
    Object.fromEntries(
      Object.entries(customerWorkflow.tasks).map(([key, task]) => [
        key,
        `arn:aws:lambda:eu-central-1:123456789012:function:roster-prod-${task}`,
      ]),
    ),
  ),
) as { StartAt: string; States: Record<string, State> };
const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');

describe('the workflow definition (customers.workflow.asl.json)', () => {
  it('passes asl-validator, paths and ARNs checked', () => {
    const result = validate(structuredClone(definition), { checkPaths: true, checkArn: true });

    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('is refused by asl-validator when a transition goes nowhere (the check is live)', () => {
    const broken = structuredClone(definition);
    (broken.States.ValidateExists as State).Next = 'Nowhere';

    expect(validate(broken).isValid).toBe(false);
  });

  it('runs only module tasks: each Task resource is a placeholder naming a task of the module', () => {
    const names = new Set((customersModule.tasks ?? []).map((task) => task.name));

    expect(placeholdersOf(text).sort()).toEqual(Object.keys(customerWorkflow.tasks).sort());
    for (const task of Object.values(customerWorkflow.tasks)) expect(names).toContain(task);
    expect(tasks.map(([name]) => name).sort()).toEqual(
      ['AlreadyExists', 'InsertId', 'RecordFailure', 'ValidateExists'].sort(),
    );
  });

  it('is ValidateExists → Choice on exists → InsertId or AlreadyExists', () => {
    expect(definition.StartAt).toBe('ValidateExists');
    expect(definition.States.ValidateExists?.Next).toBe('Exists');
    expect(definition.States.Exists).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.exists', BooleanEquals: true, Next: 'AlreadyExists' }],
      Default: 'InsertId',
    });
  });

  it('hands InsertId the version ValidateExists outputs, which its condition compares', () => {
    expect(definition.States.InsertId).toMatchObject({
      Parameters: { 'id.$': '$.id', 'version.$': '$.version' },
    });
  });

  it('retries transient task errors with backoff and catches every error into RecordFailure', () => {
    for (const [name, state] of tasks.filter(([n]) => n !== 'RecordFailure')) {
      const retry = state.Retry?.[0];
      expect(retry?.ErrorEquals, name).toContain(stepErrorNames.unavailable);
      expect(retry?.ErrorEquals, name).toContain('Lambda.TooManyRequestsException');
      expect(retry?.BackoffRate, name).toBeGreaterThan(1);
      expect(state.Catch?.at(-1), name).toEqual(
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'RecordFailure' }),
      );
    }
    expect(definition.States.InsertId?.Catch?.[0]).toMatchObject({
      ErrorEquals: [stepErrorNames.alreadyExists],
      Next: 'AlreadyExists',
    });
    expect(definition.States.RecordFailure?.Next).toBe('Failed');
    expect(definition.States.Failed?.Type).toBe('Fail');
  });
});
