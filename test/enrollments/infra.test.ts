import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RosterStack } from '../../infra/roster-stack.js';
import {
  enrollmentQueue,
  enrollmentsTable,
} from '../../src/modules/enrollments/enrollments.module.js';
import { type Resource, synthStack } from '../support/template.js';

let stack: RosterStack;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(async () => {
  // No bundling: these assertions are about the template (test/infra bundles every function).
  // cdk-nag: the synth throws on an unacknowledged finding.
  const synthed = await synthStack({ id: 'Roster-enrollments', nag: true });
  ({ stack, template, resources } = synthed);
  return synthed.cleanup;
}, 120_000);

const id = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);
const arn = (construct: { node: { defaultChild?: unknown } }) => ({
  'Fn::GetAtt': [id(construct), 'Arn'],
});

function fn(task: 'process' | 'reconcile') {
  const built = stack.taskFunctions.get(`enrollments/${task}`);
  if (!built) throw new Error(`no ${task} function`);
  return built.function;
}

/** Every action a function's role is allowed on a resource (by its logical id in the ARN). */
function actionsOn(role: string, resourceId: string): string[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties.Roles).includes(role))
    .flatMap(
      (r) =>
        (
          r.Properties.PolicyDocument as {
            Statement: { Action: string | string[]; Resource: unknown }[];
          }
        ).Statement,
    )
    .filter((s) => JSON.stringify(s.Resource).includes(resourceId))
    .flatMap((s) => [s.Action].flat());
}

const roleOf = (f: ReturnType<typeof fn>) => id(f.role as never);

describe('enrollments infrastructure', () => {
  const queues = () => stack.queues.of(enrollmentQueue);

  it('has a queue whose redrive moves a message to the DLQ after 5 receives', () => {
    const { queue, deadLetterQueue } = queues();
    const props = resources[id(queue)]?.Properties;
    expect(props?.RedrivePolicy).toEqual({
      deadLetterTargetArn: arn(deadLetterQueue),
      maxReceiveCount: 5,
    });
    expect(enrollmentQueue.maxReceiveCount).toBeGreaterThanOrEqual(5);
  });

  it('hides a received message at least 6 × the processor’s timeout', () => {
    const visibility = resources[id(queues().queue)]?.Properties.VisibilityTimeout as number;
    const timeout = resources[id(fn('process'))]?.Properties.Timeout as number;
    expect(timeout).toBe(20);
    expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('encrypts both queues and refuses non-TLS access to them', () => {
    for (const queue of [queues().queue, queues().deadLetterQueue]) {
      expect(resources[id(queue)]?.Properties.SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id(queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('keeps dead letters for 14 days and alarms as soon as one arrives', () => {
    const { deadLetterQueue } = queues();
    expect(resources[id(deadLetterQueue)]?.Properties.MessageRetentionPeriod).toBe(1_209_600);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [id(deadLetterQueue), 'QueueName'] } },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: id(stack.alarms.topic) }],
    });
  });

  it('feeds the processor Lambda SQS batches with ReportBatchItemFailures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(fn('process')) },
      EventSourceArn: arn(queues().queue),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(resources[id(fn('process'))]?.Properties).toMatchObject({
      Architectures: ['arm64'],
      Environment: { Variables: { ROSTER_TASK: 'enrollments/process' } },
    });
  });

  it('runs the reconciler every minute through EventBridge Scheduler', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      Target: Match.objectLike({ Arn: arn(fn('reconcile')) }),
    });
    expect(resources[id(fn('reconcile'))]?.Properties).toMatchObject({
      Environment: { Variables: { ROSTER_TASK: 'enrollments/reconcile' } },
    });
  });

  it('gives every function the queue URLs, and each only the access it needs', () => {
    const table = stack.tables.of(enrollmentsTable);
    const { queue, deadLetterQueue } = queues();
    const api = stack.apiFunction.function;
    for (const f of [api, fn('process'), fn('reconcile')]) {
      const { Environment } = resources[id(f)]?.Properties ?? {};
      const variables = (Environment as { Variables: object } | undefined)?.Variables;
      expect(variables).toMatchObject({
        ENROLLMENTS_QUEUE_URL: { Ref: id(queue) },
        ENROLLMENTS_DLQ_URL: { Ref: id(deadLetterQueue) },
      });
    }
    // The API accepts requests: writes the table, sends to the queue, never reads it.
    expect(actionsOn(roleOf(api), id(table))).toContain(
      'dynamodb:TransactWriteItems'.replace('TransactWriteItems', 'PutItem'),
    );
    expect(actionsOn(roleOf(api), id(queue))).toContain('sqs:SendMessage');
    expect(actionsOn(roleOf(api), id(queue))).not.toContain('sqs:ReceiveMessage');
    // The processor receives and deletes, and puts poison messages on the DLQ itself.
    expect(actionsOn(roleOf(fn('process')), id(queue))).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']),
    );
    expect(actionsOn(roleOf(fn('process')), id(deadLetterQueue))).toContain('sqs:SendMessage');
    expect(actionsOn(roleOf(fn('process')), id(queue))).not.toContain('sqs:SendMessage');
    // The reconciler reads the pending index and sends; it writes no enrollment.
    expect(actionsOn(roleOf(fn('reconcile')), id(table))).toContain('dynamodb:Query');
    expect(actionsOn(roleOf(fn('reconcile')), id(table))).not.toContain('dynamodb:PutItem');
    expect(actionsOn(roleOf(fn('reconcile')), id(queue))).toContain('sqs:SendMessage');
  });
});
