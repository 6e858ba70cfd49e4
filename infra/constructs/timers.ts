import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct, type IConstruct } from 'constructs';
import { timerEnvVars, timerQueues } from '../../src/platform/config.js';
import type { AnyModule } from '../../src/platform/module.js';
import type { QueueDefinition } from '../../src/platform/queue/queue.js';
import { API_ACCESS } from '../access.js';
import { acknowledge } from '../nag.js';
import type { Queues } from './queues.js';

/**
 * The queues on which the function `name` of `module` (`api`, or one of its tasks — the names of
 * its access declaration) may set timers: the module's own timer queues, for the functions that
 * build its services — its tasks, and the API where it has routes. The stack grants exactly this;
 * the access test holds the timers each function sets to it.
 */
export function timerQueuesSetBy(module: AnyModule, name: string): QueueDefinition[] {
  const builds =
    name === API_ACCESS
      ? module.routes !== undefined
      : (module.tasks ?? []).some((task) => task.name === name);
  return builds ? timerQueues([module]) : [];
}

export interface TimersProps {
  readonly stage: string;
  /** The queues timers deliver to (`timerTarget`); none: nothing is built. */
  readonly definitions: readonly QueueDefinition[];
  readonly queues: Queues;
}

/**
 * What EventBridge Scheduler needs to deliver the app's timers (platform/timers): one schedule
 * group for the stage, which every timer's one-time schedule is created in, and per timer queue a
 * role Scheduler assumes (from this account only) that may send to that queue and its DLQ and
 * nowhere else. The functions that set timers are granted creating schedules in the group and
 * passing those roles to Scheduler (`grantSet`), and are told where they are (`environment`).
 */
export class Timers extends Construct {
  /** The schedule group; undefined when no queue takes timers. */
  readonly group: scheduler.ScheduleGroup | undefined;
  readonly groupName: string;
  /** The role Scheduler sends to each timer queue with. */
  readonly roles: ReadonlyMap<QueueDefinition, iam.Role>;
  private readonly queues: Queues;
  private readonly granted = new Map<iam.IPrincipal, Set<QueueDefinition>>();

  constructor(scope: Construct, id: string, props: TimersProps) {
    super(scope, id);
    this.queues = props.queues;
    this.groupName = `roster-${props.stage}-timers`;
    const roles = new Map<QueueDefinition, iam.Role>();
    this.roles = roles;
    if (props.definitions.length === 0) return;
    this.group = new scheduler.ScheduleGroup(this, 'Group', {
      scheduleGroupName: this.groupName,
      // Its schedules go with it: pending deadlines are also in the modules' data, and their
      // sweeps act on them.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const account = Stack.of(this).account;
    for (const definition of props.definitions) {
      if (!definition.timerTarget) {
        throw new Error(`queue "${definition.id}" is not a timer target (timerTarget: true)`);
      }
      const { queue, deadLetterQueue } = props.queues.of(definition);
      const role = new iam.Role(this, `${definition.id}-scheduler`, {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': account } },
        }),
        description: `EventBridge Scheduler delivering timers to the ${definition.id} queue`,
      });
      // The queue for the timers; its DLQ for the deliveries Scheduler gives up on.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn, deadLetterQueue.queueArn],
        }),
      );
      roles.set(definition, role);
    }
  }

  /** `arn:…:schedule/<group>/*`: every schedule of the group (names are derived per timer). */
  get schedulesArn(): string {
    return Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.groupName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /**
   * Lets the function `fn` set timers on `definitions`: create schedules in the group, and pass
   * each queue's role to Scheduler (to no other service).
   */
  grantSet(fn: IConstruct & iam.IGrantable, definitions: readonly QueueDefinition[]): void {
    if (definitions.length === 0) return;
    const principal = fn.grantPrincipal;
    let done = this.granted.get(principal);
    if (!done) {
      done = new Set();
      this.granted.set(principal, done);
      principal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['scheduler:CreateSchedule'],
          resources: [this.schedulesArn],
        }),
      );
      acknowledge(
        fn,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.groupName}/*]`,
        'CreateSchedule in the app’s timer group: each timer’s schedule has a name derived from its deadline, unknown until it is set; the role passed with it decides where it may send.',
      );
    }
    const roles = definitions
      .filter((definition) => !done.has(definition))
      .map((definition) => {
        done.add(definition);
        return this.roleOf(definition);
      });
    if (roles.length > 0) {
      principal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: roles.map((role) => role.roleArn),
          conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        }),
      );
    }
  }

  /**
   * What a function setting timers on `definitions` reads (`TIMER_SCHEDULE_GROUP`,
   * `<QUEUE>_QUEUE_ARN`, `<QUEUE>_DLQ_ARN`, `<QUEUE>_TIMER_ROLE_ARN`; platform/config).
   */
  environment(definitions: readonly QueueDefinition[]): Record<string, string> {
    if (definitions.length === 0) return {};
    const environment: Record<string, string> = { TIMER_SCHEDULE_GROUP: this.groupName };
    for (const definition of definitions) {
      const { queue, deadLetterQueue } = this.queues.of(definition);
      const names = timerEnvVars(definition);
      environment[names.queueArn] = queue.queueArn;
      environment[names.deadLetterArn] = deadLetterQueue.queueArn;
      environment[names.roleArn] = this.roleOf(definition).roleArn;
    }
    return environment;
  }

  private roleOf(definition: QueueDefinition): iam.Role {
    const role = this.roles.get(definition);
    if (!role) throw new Error(`no timers built for queue "${definition.id}" (timerTarget: true)`);
    return role;
  }
}
