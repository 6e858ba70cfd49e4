import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RosterStack } from '../../infra/roster-stack.js';
import {
  customersModule,
  customersTable,
  customerWorkflow,
} from '../../src/modules/customers/customers.module.js';
import { workflowEnvVar } from '../../src/platform/workflow/workflow.js';
import { type RecordingAwsSolutionsChecks, unacknowledgedFindings } from '../support/nag.js';
import {
  ofType as ofTypeIn,
  type Resource,
  type Statement,
  statementsOfRole,
  synthStack,
} from '../support/template.js';

let app: App;
let outdir: string;
let stack: RosterStack;
let template: Template;
let resources: Record<string, Resource>;
let nag: RecordingAwsSolutionsChecks;

beforeAll(async () => {
  // No bundling: these assertions are about the template (roster-stack.test.ts checks bundles).
  const synthed = await synthStack({
    id: 'Roster-customers',
    nag: true,
    props: { modules: [customersModule] },
  });
  ({ app, outdir, stack, template, resources, nag } = synthed);
  return synthed.cleanup;
}, 120_000);

const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

const ofType = (type: string) => ofTypeIn(resources, type);

function taskFunction(task: string) {
  const fn = stack.taskFunctions.get(`customers/${task}`);
  if (!fn) throw new Error(`no task function ${task}`);
  return fn.function;
}

/** Every statement of every policy attached to a function's role. */
const statementsOf = (fn: { role?: unknown }): Statement[] =>
  statementsOfRole(resources, logicalId(fn.role as never));

const actionsOf = (fn: { role?: unknown }) =>
  statementsOf(fn)
    .flatMap((statement) => [statement.Action].flat())
    .sort();

function stateMachine(): Resource {
  const [found] = ofType('AWS::StepFunctions::StateMachine');
  if (!found) throw new Error('no state machine');
  return found[1];
}

const stateMachineRef = () => ({ Ref: ofType('AWS::StepFunctions::StateMachine')[0]?.[0] });

describe('the customers state machine', () => {
  it('is one standard state machine built from customers.workflow.asl.json', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const props = stateMachine().Properties as {
      StateMachineType: string;
      DefinitionS3Location: { Key: string };
      DefinitionSubstitutions: Record<string, unknown>;
    };
    expect(props.StateMachineType).toBe('STANDARD');
    const file = readFileSync(customerWorkflow.definitionFile, 'utf8');
    // The definition is the file itself, uploaded as an asset (the same bytes the local engine reads).
    const asset = join(outdir, `asset.${props.DefinitionS3Location.Key}`);
    expect(readFileSync(asset, 'utf8')).toBe(file);
    // The file's placeholders, each bound to its task's Lambda.
    expect(Object.keys(props.DefinitionSubstitutions).sort()).toEqual(
      Object.keys(customerWorkflow.tasks).sort(),
    );
    for (const [placeholder, task] of Object.entries(customerWorkflow.tasks)) {
      expect(file).toContain(`\${${placeholder}}`);
      expect(props.DefinitionSubstitutions[placeholder]).toEqual({
        'Fn::GetAtt': [logicalId(taskFunction(task)), 'Arn'],
      });
    }
  });

  it('logs every event and traces with X-Ray', () => {
    expect(stateMachine().Properties).toMatchObject({
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
  });

  it('may invoke exactly its four step Lambdas', () => {
    const [role] = (stateMachine().Properties.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'];
    if (!role) throw new Error('the state machine has no role');
    const invoked = statementsOfRole(resources, role)
      .filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'))
      .flatMap((s) => [s.Resource].flat())
      .filter((r) => (r as Record<string, unknown>)['Fn::GetAtt'] !== undefined)
      .map((r) => (r as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0])
      .sort();
    expect(invoked).toEqual(
      Object.values(customerWorkflow.tasks)
        .map((task) => logicalId(taskFunction(task)))
        .sort(),
    );
  });
});

describe('triggers', () => {
  it('starts the state machine on CustomerCreated from customer.api with the event detail', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['customer.api'], 'detail-type': ['CustomerCreated'] },
      Targets: [
        Match.objectLike({
          Arn: stateMachineRef(),
          InputPath: '$.detail',
        }),
      ],
    });
  });

  it('runs the scheduled check on EventBridge Scheduler every 5 minutes by default', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [logicalId(taskFunction('scheduled-check')), 'Arn'] },
      }),
    });
  });

  it('tells the API and the scheduled check which state machine to start', () => {
    for (const fn of [stack.apiFunction.function, taskFunction('scheduled-check')]) {
      const props = resources[logicalId(fn)]?.Properties as {
        Environment: { Variables: Record<string, unknown> };
      };
      expect(props.Environment.Variables[workflowEnvVar(customerWorkflow)]).toEqual(
        stateMachineRef(),
      );
    }
  });
});

describe('least privilege', () => {
  it('lets each step Lambda do only the table operations its step makes', () => {
    expect(actionsOf(taskFunction('validate-exists'))).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem']),
    );
    const tableActions = (task: string) =>
      actionsOf(taskFunction(task)).filter((action) => action.startsWith('dynamodb:'));
    expect(tableActions('validate-exists')).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    // InsertId puts the customer and, into the platform's outbox, its domain event.
    expect(tableActions('insert-id')).toEqual([
      'dynamodb:PutItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(tableActions('record-already-exists')).toEqual(['dynamodb:UpdateItem']);
    expect(tableActions('record-failure')).toEqual(['dynamodb:UpdateItem']);
    for (const task of Object.values(customerWorkflow.tasks)) {
      const actions = actionsOf(taskFunction(task));
      expect(
        actions.filter((a) => a.startsWith('states:') || a.startsWith('events:')),
        task,
      ).toEqual([]);
    }
  });

  it('lets only the API and the outbox sweep publish, and only as customer.api to the default bus', () => {
    const publishers = [stack.apiFunction.function, taskFunction('publish-pending-events')];
    for (const fn of publishers) {
      expect(statementsOf(fn)).toContainEqual(
        expect.objectContaining({
          Action: 'events:PutEvents',
          Condition: { StringEquals: { 'events:source': ['customer.api'] } },
        }),
      );
    }
    for (const [task, fn] of stack.taskFunctions) {
      if (publishers.includes(fn.function)) continue;
      expect(actionsOf(fn.function), task).not.toContain('events:PutEvents');
    }
  });

  it('uses no wildcard action anywhere', () => {
    const actions = ofType('AWS::IAM::Policy').flatMap(([, policy]) =>
      (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.flatMap((s) =>
        [s.Action].flat(),
      ),
    );
    expect(actions.filter((action) => action.endsWith(':*') || action === '*')).toEqual([]);
  });

  it('grants the reconciler DescribeExecution, not StartExecution', () => {
    const actions = actionsOf(taskFunction('reconcile-executions'));
    expect(actions).toContain('states:DescribeExecution');
    expect(actions).not.toContain('states:StartExecution');
  });
});

describe('alarms', () => {
  const topic = () => ({ Ref: logicalId(stack.alarms.topic) });

  it('alarms on failed and timed-out executions', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Threshold: 1,
        AlarmActions: [topic()],
      });
    }
  });

  it('alarms on errors of every customers task Lambda', () => {
    for (const task of customersModule.tasks ?? []) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(taskFunction(task.name)) } }],
        AlarmActions: [topic()],
      });
    }
  });

  it('alarms on API 5XX answers', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      AlarmActions: [topic()],
    });
  });
});

describe('the customers table', () => {
  it('has the key schema and indexes of its definition', () => {
    const table = stack.tables.byDefinition.get(customersTable);
    if (!table) throw new Error('no customers table');
    const indexes = resources[logicalId(table)]?.Properties.GlobalSecondaryIndexes as {
      IndexName: string;
    }[];
    expect(indexes.map((index) => index.IndexName)).toEqual(['gsi1', 'gsi2', 'gsi3']);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('finds no unacknowledged errors or warnings', () => {
    expect(unacknowledgedFindings(nag, app)).toEqual([]);
  });
});
