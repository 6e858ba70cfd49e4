import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { safeParse } from 'zod/v4/core';
import { API_ACCESS, type TableAccess } from '../../infra/access.js';
import type { RosterFunction } from '../../infra/constructs/roster-function.js';
import type { LoadedModuleInfra } from '../../infra/module-infra.js';
import { RosterStack } from '../../infra/roster-stack.js';
import { modules } from '../../src/modules/index.js';
import {
  deliveryQueue,
  webhooksModule,
  webhooksTable,
} from '../../src/modules/webhooks/webhooks.module.js';
import { loadConfig } from '../../src/platform/config.js';
import type { TableDefinition } from '../../src/platform/dynamo/tables.js';
import { type AnyModule, defineModule } from '../../src/platform/module.js';
import { outboxQueue, outboxTable } from '../../src/platform/outbox/outbox.js';
import {
  DEFAULT_MAX_CONCURRENCY,
  type QueueDefinition,
  queueEnvVars,
} from '../../src/platform/queue/queue.js';
import { type RecordingAwsSolutionsChecks, unacknowledgedFindings } from '../support/nag.js';
import {
  cdkJsonContext,
  grantPairs,
  projectRoot,
  type Resource,
  type SynthesizedStack,
  statementsOfRole,
  synthStack,
} from '../support/template.js';

let app: App;
let stack: RosterStack;
let template: Template;
let resources: Record<string, Resource>;
let nag: RecordingAwsSolutionsChecks;
let moduleInfra: SynthesizedStack['moduleInfra'];

beforeAll(async () => {
  // Every module: who may commit domain events is read from all of their declarations.
  // No bundling (the template is what is asserted); cdk-nag throws on an unacknowledged finding.
  const synthed = await synthStack({ id: 'Roster-webhooks', nag: true });
  ({ app, stack, template, resources, nag, moduleInfra } = synthed);
  return synthed.cleanup;
}, 120_000);

const id = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);
const arn = (construct: { node: { defaultChild?: unknown } }) => ({
  'Fn::GetAtt': [id(construct), 'Arn'],
});

type Task = 'dispatch' | 'deliver' | 'sweep';
function task(name: Task): lambda.Function {
  const found = stack.taskFunctions.get(`webhooks/${name}`);
  if (!found) throw new Error(`no webhooks/${name} function`);
  return found.function;
}
const api = () => stack.apiFunction.function;
const webhooksFunctions = () => [api(), task('dispatch'), task('deliver'), task('sweep')];

const propertiesOf = (fn: lambda.Function) => resources[id(fn)]?.Properties ?? {};
const variablesOf = (fn: lambda.Function) =>
  ((propertiesOf(fn).Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables ?? {}) as Record<string, unknown>;

/** `action resource` pairs a function's role is allowed (resources as the template spells them). */
const grantsOf = (fn: lambda.Function, prefix = '') =>
  grantPairs(statementsOfRole(resources, id(fn.role as never)), prefix);
/** The actions a function's role is allowed on the resource whose logical id is `resourceId`. */
const actionsOn = (fn: lambda.Function, resourceId: string) =>
  [...grantsOf(fn)]
    .filter((pair) => pair.split(' ').slice(1).join(' ').includes(`"${resourceId}"`))
    .map((pair) => pair.split(' ')[0])
    .sort();

/**
 * The functions whose module declares a PutItem on the outbox (they commit domain events), from
 * the declarations alone: the API when any module's routes do, and each such task.
 */
function committers(): RosterFunction[] {
  const puts = (accesses: readonly TableAccess[] = []) =>
    accesses.some((a) => a.table === outboxTable && a.actions.includes('PutItem'));
  const accessOf = (name: string) =>
    moduleInfra.get(modules.find((m) => m.name === name) as never)?.access;
  const found: RosterFunction[] = [];
  if (modules.some((m) => m.routes && puts(accessOf(m.name)?.[API_ACCESS]))) {
    found.push(stack.apiFunction);
  }
  for (const [taskId, fn] of stack.taskFunctions) {
    const [module = '', name = ''] = taskId.split('/');
    if (puts(accessOf(module)?.[name])) found.push(fn);
  }
  return found;
}

describe.each([
  ['domain-events', outboxQueue, 'dispatch'],
  ['webhook-deliveries', deliveryQueue, 'deliver'],
] as const)('the %s queue', (_name, definition: QueueDefinition, consumer: Task) => {
  const built = () => stack.queues.of(definition);

  it(`moves a message to its DLQ after ${definition.maxReceiveCount} receives`, () => {
    const { queue, deadLetterQueue } = built();
    expect(resources[id(queue)]?.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: arn(deadLetterQueue),
      maxReceiveCount: definition.maxReceiveCount,
    });
    expect(resources[id(deadLetterQueue)]?.Properties.MessageRetentionPeriod).toBe(1_209_600);
  });

  it(`hides a received message for 6 × the ${consumer} Lambda’s timeout, which is the consumer timeout`, () => {
    const timeout = propertiesOf(task(consumer)).Timeout;
    expect(timeout).toBe(definition.consumerTimeoutSeconds);
    expect(resources[id(built().queue)]?.Properties.VisibilityTimeout).toBe(
      6 * definition.consumerTimeoutSeconds,
    );
  });

  it(`feeds ${consumer} batches with partial failures, at bounded concurrency`, () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(task(consumer)) },
      EventSourceArn: arn(built().queue),
      BatchSize: definition.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: definition.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY },
    });
    // Poison messages go to the DLQ at once, sent by the consumer itself.
    expect(actionsOn(task(consumer), id(built().deadLetterQueue))).toContain('sqs:SendMessage');
  });

  it('alarms, to the topic, as soon as a message reaches its DLQ', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [id(built().deadLetterQueue), 'QueueName'] },
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: id(stack.alarms.topic) }],
    });
  });
});

describe('the webhooks functions', () => {
  it('runs the sweep every minute through EventBridge Scheduler', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Target: Match.objectLike({ Arn: arn(task('sweep')) }),
    });
  });

  it('holds every one of them to the public target policy (WEBHOOKS_TARGETS=public)', () => {
    for (const fn of webhooksFunctions()) {
      expect(variablesOf(fn).WEBHOOKS_TARGETS, id(fn)).toBe('public');
    }
  });

  it('lets deliver reach the internet (no VPC) within its queue’s consumer timeout', () => {
    const props = propertiesOf(task('deliver'));
    expect(props.VpcConfig).toBeUndefined();
    expect(props.Timeout).toBe(deliveryQueue.consumerTimeoutSeconds);
    // A batch's attempts run side by side: none may take the consumer's whole timeout.
    const schema = webhooksModule.settings;
    const attempt = (seconds: number) =>
      schema && safeParse(schema, { attemptTimeoutSeconds: String(seconds) }).success;
    expect(attempt(deliveryQueue.consumerTimeoutSeconds / 2)).toBe(true);
    expect(attempt(deliveryQueue.consumerTimeoutSeconds)).toBe(false);
  });

  it('lets the API, dispatch, deliver and sweep send deliveries, and nothing else', () => {
    const { queue } = stack.queues.of(deliveryQueue);
    const senders = stack
      .rosterFunctions()
      .filter((fn) => actionsOn(fn.function, id(queue)).includes('sqs:SendMessage'))
      .map((fn) => id(fn.function))
      .sort();
    expect(senders).toEqual(webhooksFunctions().map(id).sort());
  });

  it('grants deliver only what an attempt does: reads, its claim and log, the disabling event; no delete, no query', () => {
    const deliver = task('deliver');
    const table = id(stack.tables.of(webhooksTable));
    const outbox = id(stack.tables.of(outboxTable));
    expect(actionsOn(deliver, table)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn(deliver, outbox)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    const dynamo = [...grantsOf(deliver, 'dynamodb:')];
    expect(
      dynamo.filter((pair) => /^dynamodb:(DeleteItem|BatchWriteItem|Query)/.test(pair)),
    ).toEqual([]);
  });

  it('lets dispatch take events off the pending index, and the sweep move them on in it', () => {
    const outbox = id(stack.tables.of(outboxTable));
    expect(actionsOn(task('dispatch'), outbox)).toContain('dynamodb:UpdateItem');
    expect(actionsOn(task('dispatch'), outbox)).not.toContain('dynamodb:PutItem');
    expect(actionsOn(task('sweep'), outbox).sort()).toEqual([
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(grantsOf(task('sweep'), 'dynamodb:')).toContain(
      `dynamodb:Query ${JSON.stringify({ 'Fn::Join': ['', [arn(stack.tables.of(outboxTable)), '/index/gsi1']] })}`,
    );
  });
});

describe('waking the consumer of domain events', () => {
  it('lets exactly the functions that commit domain events, and the sweep, send to domain-events', () => {
    const { queue } = stack.queues.of(outboxQueue);
    const sweep = stack.taskFunctions.get('webhooks/sweep');
    if (!sweep) throw new Error('no sweep function');
    const expected = [...committers(), sweep];
    expect(expected).toEqual(expect.arrayContaining([stack.apiFunction]));
    expect(expected.map((fn) => fn.function)).toContain(task('deliver'));
    const senders = stack
      .rosterFunctions()
      .filter((fn) => actionsOn(fn.function, id(queue)).includes('sqs:SendMessage'));
    expect(senders.map((fn) => fn.node.path).sort()).toEqual(
      expected.map((fn) => fn.node.path).sort(),
    );
    // Its consumer receives; it commits nothing, so it sends nothing there.
    expect(actionsOn(task('dispatch'), id(queue))).toContain('sqs:ReceiveMessage');
    expect(actionsOn(task('dispatch'), id(queue))).not.toContain('sqs:SendMessage');
  });

  it('tells each of them the queue’s URL, in a variable its configuration reads', () => {
    const { queue } = stack.queues.of(outboxQueue);
    const { url } = queueEnvVars(outboxQueue);
    for (const fn of committers()) {
      const variables = variablesOf(fn.function);
      expect(variables[url], fn.node.path).toEqual({ Ref: id(queue) });
      // The function's configuration, from its environment with the modules it bundles.
      const bundled = fn.bundle.modules
        ? modules.filter((m) => fn.bundle.modules?.includes(m.name))
        : modules;
      const config = loadConfig(withPlaceholders(variables), bundled);
      expect(config.queues[outboxQueue.id]?.url, fn.node.path).toBe(`placeholder:${url}`);
    }
  });

  it('derives them from the access declarations: a task of any module that puts events gets the queue', () => {
    const scratch = defineModule({
      name: 'scratch-notes',
      tables: [],
      services: () => ({}),
      tasks: [
        { name: 'announce', description: 'Commits events.', run: async () => 0 },
        { name: 'tidy', description: 'Commits nothing.', run: async () => 0 },
      ],
    });
    const infraOf = (module: typeof webhooksModule) => {
      const found = moduleInfra.get(module);
      if (!found) throw new Error('no webhooks infra');
      return found;
    };
    const build = (withConsumer: boolean) => {
      const list = withConsumer ? [webhooksModule, scratch] : [scratch];
      const access = {
        announce: [{ table: outboxTable, actions: ['PutItem'] }],
        tidy: [{ table: outboxTable, actions: ['GetItem'] }],
      } as const satisfies Record<string, readonly TableAccess[]>;
      const built = new RosterStack(
        new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } }),
        'Roster-scratch',
        {
          stage: 'scratch',
          projectRoot,
          modules: list,
          moduleInfra: new Map<AnyModule, LoadedModuleInfra>([
            ...(withConsumer ? [[webhooksModule, infraOf(webhooksModule)] as const] : []),
            [scratch, { construct: () => {}, access }],
          ]),
        },
      );
      return { built, template: Template.fromStack(built) };
    };
    const { url } = queueEnvVars(outboxQueue);
    const variables = (built: RosterStack, template: Template, name: string) => {
      const fn = built.taskFunctions.get(`scratch-notes/${name}`)?.function;
      const props = template.toJSON().Resources[built.getLogicalId(fn?.node.defaultChild as never)]
        ?.Properties as { Environment: { Variables: Record<string, unknown> } };
      return props.Environment.Variables;
    };

    const withConsumer = build(true);
    expect(variables(withConsumer.built, withConsumer.template, 'announce')[url]).toBeDefined();
    expect(variables(withConsumer.built, withConsumer.template, 'tidy')[url]).toBeUndefined();
    // No consumer deployed: no queue to send to, and a stack that still builds.
    const alone = build(false);
    expect(variables(alone.built, alone.template, 'announce')[url]).toBeUndefined();
    alone.template.resourceCountIs('AWS::SQS::Queue', 0);
  });
});

describe.each([
  ['domain-events', outboxTable],
  ['webhooks', webhooksTable],
] as const)('the %s table', (_name, definition: TableDefinition) => {
  const table = () => resources[id(stack.tables.of(definition))];

  it('is point-in-time recoverable, and expires items by expiresAt', () => {
    const [replica] = (table()?.Properties.Replicas ?? []) as Record<string, unknown>[];
    expect(replica).toMatchObject({
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(table()?.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
  });

  it('has the indexes its readers query', () => {
    const names = (
      (table()?.Properties.GlobalSecondaryIndexes ?? []) as { IndexName: string }[]
    ).map((index) => index.IndexName);
    expect(names).toEqual((definition.globalIndexes ?? []).map((index) => index.indexName));
    expect(names.length).toBeGreaterThan(0);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('finds no unacknowledged errors or warnings', () => {
    expect(unacknowledgedFindings(nag, app)).toEqual([]);
  });
});

const PLACEHOLDERS: Record<string, string> = {
  COGNITO_USER_POOL_ID: 'us-east-1_Placeholder0',
  COGNITO_CLIENT_ID: 'placeholderclient',
};
const placeholder = (name: string) =>
  name.endsWith('_ARN') ? `arn:aws:placeholder:${name}` : `placeholder:${name}`;

/** A function's variables as Lambda would see them, each CloudFormation value a placeholder. */
function withPlaceholders(variables: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : (PLACEHOLDERS[name] ?? placeholder(name)),
    ]),
  );
}
