import { CfnOutput, Duration, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { allQueues, allTables, loadConfig } from '../src/platform/config.js';
import { idempotencyTable, type TableDefinition } from '../src/platform/dynamo/tables.js';
import type { AnyModule } from '../src/platform/module.js';
import type { QueueDefinition } from '../src/platform/queue/queue.js';
import { isAwsRate } from '../src/platform/schedule.js';
import { describeApi } from '../src/runtime/describe.js';
import { Alarms } from './constructs/alarms.js';
import { ConsoleHosting, restApiOrigin, withConsoleOrigin } from './constructs/console.js';
import { Queues } from './constructs/queues.js';
import { RosterRestApi, type ThrottleSettings } from './constructs/rest-api.js';
import { RosterFunction } from './constructs/roster-function.js';
import { Tables } from './constructs/tables.js';
import type { ModuleInfra } from './module-infra.js';
import { acknowledge } from './nag.js';

export interface RosterStackProps extends StackProps {
  /** Environment name: dev, staging, prod… Used in resource names and as the API stage. */
  readonly stage: string;
  /** Repository root (package-lock.json, node_modules, src/). */
  readonly projectRoot: string;
  /** The modules to deploy (src/modules/index.ts) and their constructs (loadModuleInfra). */
  readonly modules: readonly AnyModule[];
  readonly moduleInfra: ReadonlyMap<AnyModule, ModuleInfra>;
  /** Allowed CORS origins. @default ['*'] */
  readonly corsOrigins?: readonly string[];
  /** E-mail subscribed to the alarm topic. @default none */
  readonly alarmEmail?: string;
  /** @default 100 rps, burst 200 */
  readonly stageThrottle?: ThrottleSettings;
  /** @default 50 rps, burst 100 per key, 100 000 requests per day */
  readonly usagePlanThrottle?: ThrottleSettings;
  readonly usagePlanDailyQuota?: number;
  /** The web console on S3 + CloudFront, from its build folder. @default none */
  readonly console?: { readonly assetsDir: string };
}

export const API_ENTRY = 'src/runtime/lambda/api.ts';
export const TASK_ENTRY = 'src/runtime/lambda/task.ts';

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/**
 * Everything one environment of Roster needs on AWS, for whichever modules it is given: the
 * platform's pieces (tables, master secret, API Lambda, REST API, alarms) and, per module, its
 * tables, one Lambda per task (scheduled when the task has a schedule) and its own construct.
 */
export class RosterStack extends Stack {
  readonly tables: Tables;
  readonly queues: Queues;
  readonly secret: secretsmanager.Secret;
  readonly apiFunction: RosterFunction;
  readonly restApi: RosterRestApi;
  readonly alarms: Alarms;
  readonly console: ConsoleHosting | undefined;
  /** Task Lambdas by `<module>/<task>`. */
  readonly taskFunctions = new Map<string, RosterFunction>();

  constructor(scope: Construct, id: string, props: RosterStackProps) {
    super(scope, id, props);
    if (!STAGE_PATTERN.test(props.stage)) {
      throw new Error(`stage must match ${STAGE_PATTERN}, got "${props.stage}"`);
    }
    // The console is built first so that its origin joins the API's CORS list; what it needs of
    // the API (origin for its CSP, URL for config.json) is read once the API exists, below.
    this.console = props.console
      ? new ConsoleHosting(this, 'Console', {
          stage: props.stage,
          assetsDir: props.console.assetsDir,
          apiOrigin: Lazy.string({
            produce: () => restApiOrigin(this, this.restApi.api.restApiId),
          }),
          apiUrl: Lazy.string({ produce: () => this.restApi.api.url }),
        })
      : undefined;
    const corsOrigins = withConsoleOrigin(props.corsOrigins ?? ['*'], this.console?.origin);
    const { modules } = props;
    // The modules' settings with their defaults, as a function will read them.
    const config = loadConfig({}, modules);

    this.tables = new Tables(this, 'Tables', { definitions: allTables(modules) });
    this.queues = new Queues(this, 'Queues', { definitions: allQueues(modules) });

    // The master secret every function derives its keys from (cursor signing, …).
    this.secret = new secretsmanager.Secret(this, 'AppSecret', {
      description: `Roster ${props.stage}: master secret (keys for cursors and keyed lookups derive from it)`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    const environment: Record<string, string> = {
      ...this.tables.environment(),
      ...this.queues.environment(),
      APP_SECRET_ARN: this.secret.secretArn,
      LOG_LEVEL: 'info',
      POWERTOOLS_SERVICE_NAME: 'roster',
    };

    this.apiFunction = new RosterFunction(this, 'ApiFunction', {
      projectRoot: props.projectRoot,
      entry: API_ENTRY,
      description: 'Roster HTTP API (Hono behind API Gateway REST, proxy integration)',
      docsAssets: true,
      environment: {
        ...environment,
        API_KEY_SOURCE: 'api-gateway',
        CORS_ORIGINS: corsOrigins.join(','),
      },
    });

    const described = describeApi(modules);
    this.restApi = new RosterRestApi(this, 'Http', {
      stage: props.stage,
      handler: this.apiFunction.function,
      publicRoutes: described.publicRoutes,
      bearerOnlyRoutes: described.bearerOnlyRoutes,
      corsOrigins,
      stageThrottle: props.stageThrottle ?? { rateLimit: 100, burstLimit: 200 },
      usagePlanThrottle: props.usagePlanThrottle ?? { rateLimit: 50, burstLimit: 100 },
      usagePlanDailyQuota: props.usagePlanDailyQuota ?? 100_000,
    });

    this.alarms = new Alarms(this, 'Alarms', {
      stage: props.stage,
      ...(props.alarmEmail ? { email: props.alarmEmail } : {}),
    });
    this.alarms.addSumAlarm(
      'ApiFunctionErrors',
      this.apiFunction.function.metricErrors(),
      1,
      'The API Lambda threw or timed out (unhandled errors, not 4XX answers).',
    );
    this.alarms.addSumAlarm(
      'ApiFunctionThrottles',
      this.apiFunction.function.metricThrottles(),
      1,
      'The API Lambda was throttled (account or reserved concurrency exhausted).',
    );
    this.alarms.addSumAlarm(
      'Api5xx',
      this.restApi.api.metricServerError(),
      5,
      'API Gateway answered 5XX (app 500/503, integration failures or timeouts).',
    );

    this.tables.of(idempotencyTable).grantReadWriteData(this.apiFunction.function);
    for (const module of modules) this.addModule(module, props, environment, config.settings);
    // Last: a module's construct may have put the token issuer's authorizers on the gateway.
    this.restApi.addRoutes();
    this.secret.grantRead(this.apiFunction.function);

    // RestApi adds an "Endpoint" output with a generated name; ApiUrl replaces it.
    this.restApi.api.node.tryRemoveChild('Endpoint');
    new CfnOutput(this, 'ApiUrl', {
      value: this.restApi.api.url,
      description: 'Base URL of the API (stage included)',
    });
    new CfnOutput(this, 'ApiKeyId', {
      value: this.restApi.apiKey.keyId,
      description:
        'Id of the default API key; its value: aws apigateway get-api-key --include-value --api-key <id>',
    });
    for (const [definition, table] of this.tables.byDefinition) {
      new CfnOutput(this, `${pascalCase(definition.id)}TableName`, {
        value: table.tableName,
        description: `Physical name of the ${definition.id} table`,
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    if (this.console) {
      new CfnOutput(this, 'ConsoleUrl', {
        value: this.console.url,
        description: 'The web console (sign in with an API key)',
      });
    }

    this.acknowledgeNagFindings();
  }

  /** A module's task Lambdas and schedules, then its own construct. */
  private addModule(
    module: AnyModule,
    props: RosterStackProps,
    environment: Record<string, string>,
    settings: Readonly<Record<string, unknown>>,
  ): void {
    const scope = new Construct(this, pascalCase(module.name));
    const taskFunctions = new Map<string, NodejsFunction>();
    for (const task of module.tasks ?? []) {
      const taskId = `${module.name}/${task.name}`;
      const fn = new RosterFunction(scope, `${pascalCase(task.name)}Task`, {
        projectRoot: props.projectRoot,
        entry: TASK_ENTRY,
        description: `Roster task ${taskId}: ${task.description}`,
        // A queue consumer's timeout is the one its queue's visibility timeout is six times of.
        timeout: task.queue
          ? Duration.seconds(task.queue.consumerTimeoutSeconds)
          : Duration.minutes(5),
        environment: { ...environment, ROSTER_TASK: taskId },
      });
      this.secret.grantRead(fn.function);
      this.taskFunctions.set(taskId, fn);
      taskFunctions.set(task.name, fn.function);
      this.alarms.addSumAlarm(
        `${pascalCase(module.name)}${pascalCase(task.name)}TaskErrors`,
        fn.function.metricErrors(),
        1,
        `The ${taskId} task failed (it runs again on its next trigger).`,
      );
      if (task.queue) this.addConsumer(taskId, fn.function, task.queue);

      const rate = task.schedule?.(settings[module.name]);
      if (!rate) continue;
      if (!isAwsRate(rate)) {
        throw new Error(`${taskId}: "${rate}" is not a rate EventBridge Scheduler accepts`);
      }
      const role = new iam.Role(scope, `${pascalCase(task.name)}ScheduleRole`, {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
        }),
        description: `EventBridge Scheduler invoking ${taskId}`,
      });
      new scheduler.Schedule(scope, `${pascalCase(task.name)}Schedule`, {
        description: `Runs ${taskId}`,
        schedule: scheduler.ScheduleExpression.expression(rate),
        target: new schedulerTargets.LambdaInvoke(fn.function, {
          role,
          input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
        }),
      });
      acknowledge(
        role,
        `AwsSolutions-IAM5[Resource::<${this.getLogicalId(fn.function.node.defaultChild as never)}.Arn>:*]`,
        'lambda:InvokeFunction on the versions and aliases of the one task function this schedule runs (the grant CDK makes for a Lambda target).',
      );
    }

    const infra = props.moduleInfra.get(module);
    if (!infra) throw new Error(`no CDK construct loaded for module "${module.name}"`);
    infra(scope, {
      stack: this,
      stage: props.stage,
      projectRoot: props.projectRoot,
      module,
      table: (definition: TableDefinition): dynamodb.TableV2 => {
        if (!module.tables.includes(definition)) {
          throw new Error(`module "${module.name}" does not declare table "${definition.id}"`);
        }
        return this.tables.of(definition);
      },
      queue: (definition: QueueDefinition) => {
        if (!(module.tasks ?? []).some((task) => task.queue === definition)) {
          throw new Error(`module "${module.name}" consumes no queue "${definition.id}"`);
        }
        return this.queues.of(definition);
      },
      apiFunction: this.apiFunction.function,
      restApi: this.restApi,
      taskFunctions,
      environment,
      alarms: this.alarms,
    });
  }

  /**
   * A queue trigger: SQS batches to the task Lambda, which reports the failed messages alone
   * (ReportBatchItemFailures) and puts poison messages on the DLQ itself; an alarm as soon as
   * anything sits in the DLQ.
   */
  private addConsumer(taskId: string, fn: NodejsFunction, definition: QueueDefinition): void {
    const { queue, deadLetterQueue } = this.queues.of(definition);
    fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: definition.batchSize,
        reportBatchItemFailures: true,
      }),
    );
    deadLetterQueue.grantSendMessages(fn);
    this.alarms.add(`${pascalCase(definition.id)}DeadLetters`, {
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: `Messages of the ${definition.id} queue reached its dead-letter queue (consumer ${taskId}).`,
    });
  }

  /**
   * cdk-nag AwsSolutions findings accepted on purpose, each on the narrowest construct and
   * finding that carries it. Anything not listed here fails synthesis.
   */
  private acknowledgeNagFindings(): void {
    const http = this.restApi;
    // Every Roster function: the API's, the tasks', and any a module's construct added.
    const functions = this.node
      .findAll()
      .filter((construct): construct is RosterFunction => construct instanceof RosterFunction)
      .map((fn) => fn.function);
    for (const fn of functions) {
      acknowledge(
        fn,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'AWSLambdaBasicExecutionRole only allows writing the function’s own CloudWatch Logs; it is the AWS-maintained minimum for a Lambda.',
      );
      acknowledge(
        fn,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions (added by tracing: ACTIVE).',
      );
      for (const [definition, table] of this.tables.byDefinition) {
        if (!definition.globalIndexes?.length && !definition.localIndexes?.length) continue;
        const logicalId = this.getLogicalId(table.node.defaultChild as never);
        acknowledge(
          fn,
          `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
          'The function queries the indexes of a table its module owns; the wildcard is limited to that table’s indexes.',
        );
      }
    }
    acknowledge(
      this.secret,
      'AwsSolutions-SMG4',
      'The master secret keys values stored in the tables (keyed lookups); rotating it would orphan them, so it is not rotated automatically.',
    );

    const cloudWatchRole = http.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(
        cloudWatchRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'The AWS-managed policy API Gateway documents for the account-level logging role; it only grants CloudWatch Logs writes.',
      );
    }
    acknowledge(
      http.api,
      'AwsSolutions-APIG2',
      'Requests are validated in the app against the same zod schemas that generate the OpenAPI document (422 problem+json with field errors).',
    );
    acknowledge(
      http.api.root,
      'AwsSolutions-APIG4',
      'Protected methods require an API key bound to a usage plan; bearer tokens are verified in the app (RS256, iss/aud/exp). Public methods are the documented public routes and CORS preflights.',
    );
    acknowledge(
      http.api.root,
      'AwsSolutions-COG4',
      'API keys with usage plans are the gateway credential (SPEC: Authentication); Cognito tokens are verified by the app where a JWT is required.',
    );
    acknowledge(
      http.api.deploymentStage,
      'AwsSolutions-APIG3',
      'No WAF yet: the stage and usage plans throttle, and a web ACL per environment is a cost decision left to the operator.',
    );
  }
}

export function pascalCase(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
