import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModuleAccess } from '../../infra/access.js';
import type { LoadedModuleInfra } from '../../infra/module-infra.js';
import { RosterStack } from '../../infra/roster-stack.js';
import { modules } from '../../src/modules/index.js';
import { loadConfig, timerEnvVars, timerQueues, timerTargetOf } from '../../src/platform/config.js';
import { type AnyModule, defineModule } from '../../src/platform/module.js';
import type { QueueDefinition } from '../../src/platform/queue/queue.js';
import {
  RecordingAwsSolutionsChecks,
  staleAcknowledgements,
  unacknowledgedFindings,
} from '../support/nag.js';
import {
  cdkJsonContext,
  grantPairs,
  ofType,
  projectRoot,
  type Resource,
  statementsOfRole,
  synthStack,
} from '../support/template.js';

/*
 * What the stack builds for timers (platform/timers on EventBridge Scheduler): first on fixture
 * modules — one whose queue takes timers, with routes and three tasks, and one that sets none —
 * then for the timer queues of the real module list.
 */

const expiries: QueueDefinition = {
  id: 'fixture-expiries',
  maxReceiveCount: 5,
  consumerTimeoutSeconds: 30,
  batchSize: 10,
  timerTarget: true,
};
const work: QueueDefinition = {
  id: 'fixture-work',
  maxReceiveCount: 3,
  consumerTimeoutSeconds: 10,
  batchSize: 10,
};
const run = async () => 0;
const timed = defineModule({
  name: 'timed',
  tables: [],
  services: () => ({}),
  routes: () => [],
  tasks: [
    { name: 'expire', description: 'Lapses what is due.', queue: expiries, run },
    { name: 'sweep', description: 'Finds what is overdue.', run },
    { name: 'work', description: 'Other work.', queue: work, run },
  ],
});
const untimed = defineModule({
  name: 'untimed',
  tables: [],
  services: () => ({}),
  tasks: [{ name: 'other', description: 'Sets no timers.', run }],
});
const fixtureAccess: Record<string, ModuleAccess> = {
  timed: { api: [], expire: [], sweep: [], work: [] },
  untimed: { other: [] },
};

interface Synthesized {
  readonly app: App;
  readonly stack: RosterStack;
  readonly template: Template;
  readonly resources: Record<string, Resource>;
  readonly nag: RecordingAwsSolutionsChecks;
  readonly cleanup: () => void;
}

/** RosterStack on the fixture modules (constructs that add nothing), synthesized with cdk-nag. */
function synthFixture(): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'roster-timers-'));
  const app = new App({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const list = [timed, untimed];
  const moduleInfra = new Map<AnyModule, LoadedModuleInfra>(
    list.map((module) => [
      module,
      { construct: () => {}, access: fixtureAccess[module.name] ?? {} },
    ]),
  );
  const stack = new RosterStack(app, 'Roster-timers', {
    stage: 'test',
    projectRoot,
    modules: list,
    moduleInfra,
  });
  const nag = new RecordingAwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  app.synth();
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  return {
    app,
    stack,
    template,
    resources,
    nag,
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

const logicalIdIn = (stack: RosterStack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

/** A function's environment variables, as the template gives them. */
function environmentOf(
  { stack, resources }: Synthesized,
  fn: { node: { defaultChild?: unknown } },
): Record<string, unknown> {
  const props = resources[logicalIdIn(stack, fn)]?.Properties;
  const env = props?.Environment as { Variables?: Record<string, unknown> } | undefined;
  if (!env?.Variables) throw new Error(`no environment for ${fn}`);
  return env.Variables;
}

/** The checks that hold for any stack: per timer queue, per function of the module owning it. */
function timerChecks(
  get: () => Synthesized,
  owners: () => ReadonlyMap<QueueDefinition, AnyModule>,
) {
  const functionsOf = (module: AnyModule) => {
    const { stack } = get();
    return [
      ...(module.routes ? [{ name: 'api', fn: stack.apiFunction.function }] : []),
      ...(module.tasks ?? []).map((task) => {
        const found = stack.taskFunctions.get(`${module.name}/${task.name}`);
        if (!found) throw new Error(`no function for ${module.name}/${task.name}`);
        return { name: task.name, fn: found.function };
      }),
    ];
  };
  const roleOfFunction = (fn: { role?: unknown }) =>
    logicalIdIn(get().stack, fn.role as { node: { defaultChild?: unknown } });
  const schedulesArn = {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':scheduler:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        ':schedule/roster-test-timers/*',
      ],
    ],
  };

  it('creates one schedule group for the stage', () => {
    const groups = ofType(get().resources, 'AWS::Scheduler::ScheduleGroup');
    expect(groups.map(([, group]) => group.Properties)).toEqual([{ Name: 'roster-test-timers' }]);
  });

  it('gives each timer queue a role only Scheduler, from this account, assumes, that may send to that queue and its DLQ and nothing else', () => {
    const { stack, resources } = get();
    for (const definition of owners().keys()) {
      const role = stack.timers.roles.get(definition);
      if (!role) throw new Error(`no role for ${definition.id}`);
      const id = logicalIdIn(stack, role);
      expect(resources[id]?.Properties.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      });
      expect(resources[id]?.Properties.ManagedPolicyArns).toBeUndefined();
      const { queue, deadLetterQueue } = stack.queues.of(definition);
      const arn = (construct: typeof queue) => ({
        'Fn::GetAtt': [logicalIdIn(stack, construct), 'Arn'],
      });
      expect(grantPairs(statementsOfRole(resources, id))).toEqual(
        new Set([
          `sqs:SendMessage ${JSON.stringify(arn(queue))}`,
          `sqs:SendMessage ${JSON.stringify(arn(deadLetterQueue))}`,
        ]),
      );
    }
  });

  it('lets every function that builds the owning module’s services create schedules in the group and pass that role to Scheduler only', () => {
    const { stack, resources } = get();
    for (const [definition, owner] of owners()) {
      const role = stack.timers.roles.get(definition);
      if (!role) throw new Error(`no role for ${definition.id}`);
      const roleArn = { 'Fn::GetAtt': [logicalIdIn(stack, role), 'Arn'] };
      for (const { name, fn } of functionsOf(owner)) {
        const statements = statementsOfRole(resources, roleOfFunction(fn));
        expect(
          statements.filter((s) => [s.Action].flat().includes('scheduler:CreateSchedule')),
          `${owner.name} ${name}`,
        ).toEqual([
          { Effect: 'Allow', Action: 'scheduler:CreateSchedule', Resource: schedulesArn },
        ]);
        const passRole = statements.filter((s) => [s.Action].flat().includes('iam:PassRole'));
        expect(
          passRole.flatMap((s) => [s.Resource].flat()),
          `${owner.name} ${name}`,
        ).toContainEqual(roleArn);
        for (const statement of passRole) {
          expect(statement.Condition).toEqual({
            StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
          });
        }
      }
    }
  });

  it('tells those functions where their timers go, by the names platform/config reads', () => {
    const { stack } = get();
    for (const [definition, owner] of owners()) {
      const role = stack.timers.roles.get(definition);
      const { queue, deadLetterQueue } = stack.queues.of(definition);
      const names = timerEnvVars(definition);
      for (const { name, fn } of functionsOf(owner)) {
        const env = environmentOf(get(), fn);
        expect(env, `${owner.name} ${name}`).toMatchObject({
          TIMER_SCHEDULE_GROUP: 'roster-test-timers',
          [names.queueArn]: { 'Fn::GetAtt': [logicalIdIn(stack, queue), 'Arn'] },
          [names.deadLetterArn]: { 'Fn::GetAtt': [logicalIdIn(stack, deadLetterQueue), 'Arn'] },
          [names.roleArn]: {
            'Fn::GetAtt': [logicalIdIn(stack, role as { node: { defaultChild?: unknown } }), 'Arn'],
          },
        });
        // The same names, as the function's configuration reads them.
        const asDeployed = Object.fromEntries(
          Object.keys(env)
            .filter((key) => key === 'TIMER_SCHEDULE_GROUP' || key.endsWith('_ARN'))
            .map((key) => [key, key.endsWith('_ARN') ? `arn:aws:x:${key}` : 'roster-test-timers']),
        );
        expect(() => timerTargetOf(loadConfig(asDeployed, [owner]), definition)).not.toThrow();
      }
    }
  });

  it('is clean under cdk-nag (AwsSolutions), acknowledging only what it grants', () => {
    const { nag, app } = get();
    expect(unacknowledgedFindings(nag, app)).toEqual([]);
    expect(staleAcknowledgements(nag, app)).toEqual([]);
  });
}

describe('timers on fixture modules', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthFixture();
    return synthesized.cleanup;
  }, 120_000);
  const get = () => synthesized;

  timerChecks(get, () => new Map([[expiries, timed]]));

  it('builds a role only for the queue that takes timers', () => {
    const { stack, resources } = get();
    expect([...stack.timers.roles.keys()]).toEqual([expiries]);
    const assumedByScheduler = ofType(resources, 'AWS::IAM::Role').filter(([, role]) =>
      JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
    );
    expect(assumedByScheduler).toHaveLength(1);
  });

  it('grants nothing of it, and passes none of it, to a function of another module', () => {
    const { stack, resources } = get();
    const other = stack.taskFunctions.get('untimed/other')?.function;
    if (!other) throw new Error('no untimed/other');
    const statements = statementsOfRole(resources, logicalIdIn(stack, other.role as never));
    const actions = statements.flatMap((statement) => [statement.Action].flat());
    expect(actions.filter((action) => /^(scheduler|iam):/.test(action))).toEqual([]);
    const env = environmentOf(get(), other);
    expect(Object.keys(env).filter((key) => /TIMER|_ARN$/.test(key))).toEqual(['APP_SECRET_ARN']);
  });
});

describe('timers of the module list', () => {
  const owners = new Map<QueueDefinition, AnyModule>(
    modules.flatMap((module) => timerQueues([module]).map((queue) => [queue, module] as const)),
  );
  let synthesized: Synthesized;
  beforeAll(async () => {
    if (owners.size === 0) return;
    const built = await synthStack({ id: 'Roster-timers-modules', nag: true });
    synthesized = { ...built, nag: built.nag };
    return built.cleanup;
  }, 120_000);

  if (owners.size === 0) {
    it('has no queue that takes timers yet: no group, no role', async () => {
      const built = await synthStack({ id: 'Roster-no-timers' });
      try {
        expect(ofType(built.resources, 'AWS::Scheduler::ScheduleGroup')).toEqual([]);
        expect(built.stack.timers.roles.size).toBe(0);
      } finally {
        built.cleanup();
      }
    });
  } else {
    timerChecks(
      () => synthesized,
      () => owners,
    );
  }
});
