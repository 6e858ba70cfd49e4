import { Arn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { ModuleAccess } from '../../../infra/access.js';
import type { ModuleInfra } from '../../../infra/module-infra.js';
import { acknowledge } from '../../../infra/nag.js';
import type { EventPattern, EventRule } from '../../platform/event-bus/bus.js';
import { outboxTable } from '../../platform/outbox/outbox.js';
import { workflowEnvVar } from '../../platform/workflow/workflow.js';
import { customersKeys } from './customers.dynamo.js';
import { customerCreatedRule, customersTable, customerWorkflow } from './customers.module.js';

const { pendingIndex, byCustomerIndex, listIndex } = customersKeys;

/**
 * What each customers function does on its table (the stack grants exactly this):
 * - the API: registers an id with its outbox event and its domain event (a transaction of puts,
 *   the last into the platform's outbox), deletes the outbox event once published (batch), reads
 *   ids and deletes them (an update into a tombstone, with its domain event), records executions
 *   it starts, reads them, lists a customer's executions (by-customer index, then one batch read),
 *   all executions or one status's (list index, pending index), counts them by status (pending
 *   index), and the registered ids (list index);
 * - the workflow steps: ValidateExists records the execution and reads the id, InsertId puts the
 *   id, closes the record and puts its domain event in one transaction (or only closes it,
 *   Superseded), the two others close the record;
 * - the sweeps: the outbox (pending index, batch deletes) and the executions left RUNNING (same
 *   index, updates); the scheduled check records the execution it starts;
 * - the list backfill (a migration) scans the table for items without list keys and updates them.
 */
export const access: ModuleAccess = {
  api: [
    {
      table: customersTable,
      actions: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'BatchWriteItem'],
      indexes: [byCustomerIndex, pendingIndex, listIndex],
    },
    { table: outboxTable, actions: ['PutItem'] },
  ],
  'validate-exists': [{ table: customersTable, actions: ['GetItem', 'PutItem'] }],
  'insert-id': [
    { table: customersTable, actions: ['PutItem', 'UpdateItem'] },
    { table: outboxTable, actions: ['PutItem'] },
  ],
  'record-already-exists': [{ table: customersTable, actions: ['UpdateItem'] }],
  'record-failure': [{ table: customersTable, actions: ['UpdateItem'] }],
  'scheduled-check': [{ table: customersTable, actions: ['PutItem'] }],
  'reconcile-executions': [
    { table: customersTable, actions: ['UpdateItem'], indexes: [pendingIndex] },
  ],
  'backfill-list-indexes': [{ table: customersTable, actions: ['Scan', 'UpdateItem'] }],
  'publish-pending-events': [
    { table: customersTable, actions: ['BatchWriteItem'], indexes: [pendingIndex] },
  ],
};

/**
 * The customers module on AWS. The stack has built its table and one Lambda per task (the
 * scheduled check and the two sweeps on EventBridge Scheduler); this adds the state machine from
 * the same ASL file the local engine runs, its Task states bound to the step tasks' Lambdas, the
 * EventBridge rule that starts it on CustomerCreated, the grants on them and alarms (the table
 * access above is granted by the stack).
 */
export const infra: ModuleInfra = (scope, context) => {
  const { apiFunction, taskFunctions, alarms, stage } = context;
  const stack = Stack.of(scope);
  const fn = (task: string): lambda.Function => {
    const found = taskFunctions.get(task);
    if (!found) throw new Error(`customers: no Lambda for task "${task}"`);
    return found;
  };

  const logGroup = new logs.LogGroup(scope, 'WorkflowLogs', {
    // The prefix Step Functions recommends, so the log-delivery resource policy stays small.
    logGroupName: `/aws/vendedlogs/states/roster-${stage}-${customerWorkflow.id}`,
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const steps = Object.entries(customerWorkflow.tasks);
  const stateMachine = new sfn.StateMachine(scope, 'Workflow', {
    stateMachineType: sfn.StateMachineType.STANDARD,
    comment: `Roster ${stage}: the customer-ID workflow (customers.workflow.asl.json)`,
    definitionBody: sfn.DefinitionBody.fromFile(customerWorkflow.definitionFile),
    // The same file the local engine runs: each placeholder becomes its task's Lambda ARN.
    definitionSubstitutions: Object.fromEntries(
      steps.map(([placeholder, task]) => [placeholder, fn(task).functionArn]),
    ),
    tracingEnabled: true,
    // Inputs carry customer ids: the records in the table keep them, the logs don't need to.
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
  });
  for (const [, task] of steps) fn(task).grantInvoke(stateMachine);

  // Who starts it: the API (POST /workflow/submit), the scheduled check; the reconciler
  // describes executions. They find it by the workflow's environment variable.
  const arnVariable = workflowEnvVar(customerWorkflow);
  for (const starter of [apiFunction, fn('scheduled-check')]) {
    starter.addEnvironment(arnVariable, stateMachine.stateMachineArn);
    stateMachine.grantStartExecution(starter);
  }
  const reconciler = fn('reconcile-executions');
  reconciler.addEnvironment(arnVariable, stateMachine.stateMachineArn);
  stateMachine.grantExecution(reconciler, 'states:DescribeExecution');

  // PutEvents on the default bus, for the one source this module publishes.
  const defaultBus = Arn.format(
    { service: 'events', resource: 'event-bus', resourceName: 'default' },
    stack,
  );
  for (const publisher of [apiFunction, fn('publish-pending-events')]) {
    publisher.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [defaultBus],
        conditions: { StringEquals: { 'events:source': [customerCreatedRule.pattern.source[0]] } },
      }),
    );
  }
  new events.Rule(scope, 'CustomerCreatedRule', {
    description: customerCreatedRule.description,
    eventPattern: cdkPattern(customerCreatedRule),
    targets: [
      new targets.SfnStateMachine(stateMachine, {
        input: events.RuleTargetInput.fromEventPath(customerCreatedRule.target.inputPath),
      }),
    ],
  });

  // The workflow's alarms; task Lambda errors and API 5XX are the stack's.
  alarms.addSumAlarm(
    'CustomersWorkflowFailed',
    stateMachine.metricFailed(),
    1,
    'A customers workflow execution failed (its record holds the error).',
  );
  alarms.addSumAlarm(
    'CustomersWorkflowTimedOut',
    stateMachine.metricTimedOut(),
    1,
    'A customers workflow execution timed out.',
  );

  const role = stateMachine.role;
  acknowledge(
    role,
    'AwsSolutions-IAM5[Resource::*]',
    'CloudWatch Logs delivery and X-Ray actions Step Functions needs for logging and tracing do not support resource-level permissions.',
  );
  for (const [, task] of steps) {
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn(task).node.defaultChild as never)}.Arn>:*]`,
      'lambda:InvokeFunction on the versions and aliases of the one step function this Task state runs (the grant CDK makes for a Lambda).',
    );
  }
  const machine = stack.getLogicalId(stateMachine.node.defaultChild as never);
  acknowledge(
    reconciler,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machine}"}]}]}:*]`,
    'DescribeExecution on the executions of the one state machine whose records this task reconciles; execution names are not known in advance.',
  );
};

/** EventBridge's pattern (`detail-type`) as CDK spells it (`detailType`). */
function cdkPattern(rule: EventRule): events.EventPattern {
  const {
    source,
    'detail-type': detailType,
    detail,
    ...rest
  } = rule.pattern as EventPattern & {
    source?: string[];
    'detail-type'?: string[];
    detail?: Record<string, unknown>;
  };
  if (Object.keys(rest).length > 0) {
    throw new Error(`rule ${rule.name}: only source, detail-type and detail are mapped to CDK`);
  }
  return {
    ...(source ? { source } : {}),
    ...(detailType ? { detailType } : {}),
    ...(detail ? { detail } : {}),
  };
}
