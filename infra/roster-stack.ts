import { CfnOutput, Duration, Lazy, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { allQueues, allTables, loadConfig, timerQueues } from '../src/platform/config.js';
import { idempotencyTable, type TableDefinition } from '../src/platform/dynamo/tables.js';
import { type PublicRoute, streamedRoutesOf } from '../src/platform/http/public-routes.js';
import type { AnyModule } from '../src/platform/module.js';
import { outboxQueue, outboxTable } from '../src/platform/outbox/outbox.js';
import {
  DEFAULT_MAX_CONCURRENCY,
  type QueueDefinition,
  queueEnvVars,
} from '../src/platform/queue/queue.js';
import { isAwsRate } from '../src/platform/schedule.js';
import { describeApi } from '../src/runtime/describe.js';
import {
  API_ACCESS,
  type DynamoAction,
  type ModuleAccess,
  type TableAccess,
  tableAccessStatements,
} from './access.js';
import { Alarms } from './constructs/alarms.js';
import { ConsoleHosting, restApiOrigin, withConsoleOrigin } from './constructs/console.js';
import { Queues } from './constructs/queues.js';
import { RosterRestApi, type ThrottleSettings } from './constructs/rest-api.js';
import { RosterFunction } from './constructs/roster-function.js';
import { Tables } from './constructs/tables.js';
import { Timers, timerQueuesSetBy } from './constructs/timers.js';
import type { LoadedModuleInfra } from './module-infra.js';
import { acknowledge } from './nag.js';

export interface RosterStackProps extends StackProps {
  /** Environment name: dev, staging, prod… Used in resource names and as the API stage. */
  readonly stage: string;
  /** Repository root (package.json, node_modules, src/). */
  readonly projectRoot: string;
  /** The modules to deploy (src/modules/index.ts) and their constructs (loadModuleInfra). */
  readonly modules: readonly AnyModule[];
  readonly moduleInfra: ReadonlyMap<AnyModule, LoadedModuleInfra>;
  /** Allowed CORS origins. @default ['*'] */
  readonly corsOrigins?: readonly string[];
  /** E-mail subscribed to the alarm topic. @default none */
  readonly alarmEmail?: string;
  /**
   * Keep what holds data when the stack (or the resource) goes away: tables RETAIN with deletion
   * protection, the master secret (stored keyed values depend on it) and the user pool. The
   * production stage keeps them; a dev or test stage can be destroyed whole. @default true
   */
  readonly retainData?: boolean;
  /** Module schedules enabled (EventBridge Scheduler); disabled, they exist but never fire. @default true */
  readonly schedules?: boolean;
  /** @default 100 rps, burst 200 */
  readonly stageThrottle?: ThrottleSettings;
  /** @default 50 rps, burst 100 per key, 100 000 requests per day */
  readonly usagePlanThrottle?: ThrottleSettings;
  readonly usagePlanDailyQuota?: number;
  /** API Gateway latency p99 (ms) that, held for 15 minutes, raises an alarm. @default 3000 */
  readonly latencyAlarmMs?: number;
  /** The web console on S3 + CloudFront, from its build folder. @default none */
  readonly console?: { readonly assetsDir: string };
}

export const API_ENTRY = 'src/runtime/lambda/api.ts';
export const TASK_ENTRY = 'src/runtime/lambda/task.ts';
export const EXPORTS_ENTRY = 'src/runtime/lambda/exports.ts';

/**
 * How long one CSV download may stream: a million rows at the pace measured locally (docs/
 * benchmarks.md, section 11), well beyond what a spreadsheet opens. The gateway waits a little
 * longer, so that a stuck export is ended by the function's own timeout (logged, counted by its
 * Errors alarm) rather than by the gateway.
 */
export const EXPORT_TIMEOUT = Duration.minutes(5);

/** What the platform's own middleware does on its tables, in the API Lambda. */
export const PLATFORM_ACCESS: readonly TableAccess[] = [
  // Idempotency-Key records (Powertools' persistence layer); /health reads one item.
  { table: idempotencyTable, actions: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'] },
];

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/**
 * Everything one environment of Roster needs on AWS, for whichever modules it is given: the
 * platform's pieces (tables, master secret, API Lambda, REST API, alarms) and, per module, its
 * tables, one Lambda per task (scheduled when the task has a schedule) and its own construct.
 */
export class RosterStack extends Stack {
  readonly tables: Tables;
  readonly queues: Queues;
  /** EventBridge Scheduler's group and roles for the queues timers deliver to. */
  readonly timers: Timers;
  readonly secret: secretsmanager.Secret;
  readonly apiFunction: RosterFunction;
  /**
   * The CSV downloads (`streamedRoutesOf`), streamed: the same app as the API function's, behind
   * the gateway's streaming integration. Absent when no module has one.
   */
  readonly exportsFunction: RosterFunction | undefined;
  readonly restApi: RosterRestApi;
  readonly alarms: Alarms;
  readonly console: ConsoleHosting | undefined;
  /** Task Lambdas by `<module>/<task>`. */
  readonly taskFunctions = new Map<string, RosterFunction>();
  readonly retainData: boolean;
  /** The roles of the functions granted a put into the outbox: they commit domain events. */
  private readonly eventCommitters = new Set<iam.IPrincipal>();

  constructor(scope: Construct, id: string, props: RosterStackProps) {
    super(scope, id, props);
    if (!STAGE_PATTERN.test(props.stage)) {
      throw new Error(`stage must match ${STAGE_PATTERN}, got "${props.stage}"`);
    }
    this.retainData = props.retainData ?? true;
    const retain = this.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
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

    this.tables = new Tables(this, 'Tables', {
      definitions: allTables(modules),
      retain: this.retainData,
    });
    this.queues = new Queues(this, 'Queues', { definitions: allQueues(modules) });
    this.timers = new Timers(this, 'Timers', {
      stage: props.stage,
      definitions: timerQueues(modules),
      queues: this.queues,
    });

    // The master secret every function derives its keys from (cursor signing, keyed lookups):
    // kept with the data it keys.
    this.secret = new secretsmanager.Secret(this, 'AppSecret', {
      description: `Roster ${props.stage}: master secret (keys for cursors and keyed lookups derive from it)`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: retain,
    });

    this.apiFunction = new RosterFunction(this, 'ApiFunction', {
      projectRoot: props.projectRoot,
      entry: API_ENTRY,
      http: true,
      // A module's code loads on the first request to one of its routes (src/runtime/lambda/api.ts).
      moduleCode: 'on-first-request',
      description: 'Roster HTTP API (Hono behind API Gateway REST, proxy integration)',
      docsAssets: true,
      environment: {
        ...this.environmentFor(modules),
        API_KEY_SOURCE: 'api-gateway',
        CORS_ORIGINS: corsOrigins.join(','),
      },
    });
    this.grantTables(this.apiFunction.function, PLATFORM_ACCESS);

    const described = describeApi(modules);
    const exportRoutes = streamedRoutesOf(described.app);
    this.exportsFunction = exportRoutes.length > 0 ? this.addExportsFunction(props) : undefined;
    this.restApi = new RosterRestApi(this, 'Http', {
      stage: props.stage,
      handler: this.apiFunction.function,
      publicRoutes: described.publicRoutes,
      bearerOnlyRoutes: described.bearerOnlyRoutes,
      ...(this.exportsFunction
        ? {
            exports: {
              handler: this.exportsFunction.function,
              routes: exportRoutes,
              timeout: EXPORT_TIMEOUT.plus(Duration.seconds(10)),
            },
          }
        : {}),
      corsOrigins,
      stageThrottle: props.stageThrottle ?? { rateLimit: 100, burstLimit: 200 },
      usagePlanThrottle: props.usagePlanThrottle ?? { rateLimit: 50, burstLimit: 100 },
      usagePlanDailyQuota: props.usagePlanDailyQuota ?? 100_000,
    });

    this.alarms = new Alarms(this, 'Alarms', {
      stage: props.stage,
      keyRemovalPolicy: retain,
      ...(props.alarmEmail ? { email: props.alarmEmail } : {}),
    });
    this.alarms.addSumAlarm(
      'Api5xx',
      this.restApi.api.metricServerError(),
      5,
      'API Gateway answered 5XX (app 500/503, integration failures or timeouts).',
    );
    const latencyMs = props.latencyAlarmMs ?? 3000;
    this.alarms.add('ApiLatencyP99', {
      metric: this.restApi.api.metricLatency({
        statistic: cloudwatch.Stats.p(99),
        period: Duration.minutes(5),
      }),
      threshold: latencyMs,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: `API Gateway latency p99 above ${latencyMs} ms for 15 minutes.`,
    });

    for (const module of modules) {
      this.addModule(module, props, config.settings);
    }
    // Last: a module's construct may have put the token issuer's authorizers on the gateway.
    this.restApi.addRoutes();
    this.letCommittersAnnounce();

    // Every Roster function (the API's, the tasks', and any a module's construct added) reads the
    // master secret at start and gets its errors and throttles watched.
    for (const fn of this.rosterFunctions()) {
      this.secret.grantRead(fn.function);
      const name = pascalCase(fn.node.path.split('/').slice(1).join('-'));
      this.alarms.addSumAlarm(
        `${name}Errors`,
        fn.function.metricErrors(),
        1,
        `${fn.description}: the function threw or timed out (unhandled errors, not 4XX answers).`,
      );
      this.alarms.addSumAlarm(
        `${name}Throttles`,
        fn.function.metricThrottles(),
        1,
        `${fn.description}: invocations were throttled (account or function concurrency exhausted).`,
      );
    }

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
    for (const [definition, { queue, deadLetterQueue }] of this.queues.byDefinition) {
      const name = pascalCase(definition.id);
      new CfnOutput(this, `${name}QueueUrl`, {
        value: queue.queueUrl,
        description: `URL of the ${definition.id} queue`,
      });
      new CfnOutput(this, `${name}DeadLetterQueueUrl`, {
        value: deadLetterQueue.queueUrl,
        description: `URL of the ${definition.id} dead-letter queue (aws sqs receive-message --queue-url)`,
      });
      new CfnOutput(this, `${name}DeadLetterQueueArn`, {
        value: deadLetterQueue.queueArn,
        description: `ARN of the ${definition.id} dead-letter queue (aws sqs start-message-move-task --source-arn, to redrive)`,
      });
    }
    // The modules' constructs build the state machines; each is found here, named by its path.
    for (const machine of this.node.findAll()) {
      if (!(machine instanceof sfn.StateMachine)) continue;
      const path = machine.node.path.split('/').slice(1).join('/');
      new CfnOutput(this, `${pascalCase(path)}StateMachineArn`, {
        value: machine.stateMachineArn,
        description: `ARN of the Step Functions state machine ${path} (aws stepfunctions list-executions --state-machine-arn)`,
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarms.topic.topicArn,
      description: 'SNS topic every alarm notifies (subscribe more addresses to it)',
    });
    if (this.console) {
      new CfnOutput(this, 'ConsoleUrl', {
        value: this.console.url,
        description: 'The web console (sign in with an API key)',
      });
    }

    this.acknowledgeNagFindings(described.publicRoutes);
  }

  /**
   * The exports function (see `exportsFunction`): bundled like the API (every module, the HTTP
   * app) and run with the API function's configuration, but allowed to read only, and only the
   * tables of the modules whose routes export (`exportsAccess`).
   */
  private addExportsFunction(props: RosterStackProps): RosterFunction {
    const fn = new RosterFunction(this, 'ExportsFunction', {
      projectRoot: props.projectRoot,
      entry: EXPORTS_ENTRY,
      http: true,
      description: 'Roster CSV downloads (the same app, streamed behind API Gateway REST)',
      timeout: EXPORT_TIMEOUT,
      // Replaced below: the API function's own.
      environment: {},
    });
    // The same configuration as the API function, whatever a module's construct adds to it later
    // (the auth module's Cognito ids: the app verifies bearer tokens again): its environment is
    // the API function's, shared at synthesis. Nothing added to this function's own would show.
    (fn.function.node.defaultChild as lambda.CfnFunction).environment = (
      this.apiFunction.function.node.defaultChild as lambda.CfnFunction
    ).environment;
    this.grantTables(fn.function, exportsAccess(props.modules, props.moduleInfra));
    return fn;
  }

  /** Every Roster function in the stack, the modules' constructs' included. */
  rosterFunctions(): RosterFunction[] {
    return this.node
      .findAll()
      .filter((construct): construct is RosterFunction => construct instanceof RosterFunction);
  }

  /**
   * What a function of `modules` is given: their tables and queues (the platform's tables too),
   * where their timers go, where the master secret is, logging. A workflow's ARN is added by the
   * module that runs it.
   */
  private environmentFor(modules: readonly AnyModule[]): Record<string, string> {
    return {
      ...this.tables.environment(allTables(modules)),
      ...this.queues.environment(allQueues(modules)),
      ...this.timers.environment(timerQueues(modules)),
      APP_SECRET_ARN: this.secret.secretArn,
      LOG_LEVEL: 'info',
      POWERTOOLS_SERVICE_NAME: 'roster',
    };
  }

  /** Exactly the DynamoDB actions `accesses` declare, on their tables and indexes. */
  private grantTables(grantee: iam.IGrantable, accesses: readonly TableAccess[]): void {
    for (const access of accesses) {
      for (const statement of tableAccessStatements(this.tables.of(access.table), access)) {
        grantee.grantPrincipal.addToPrincipalPolicy(statement);
      }
      if (access.table === outboxTable && access.actions.includes('PutItem')) {
        this.eventCommitters.add(grantee.grantPrincipal);
      }
    }
  }

  /**
   * A function that commits domain events (its access puts items into the outbox) wakes their
   * consumer after the commit (`Outbox.announce`): it may send on the outbox's queue, whose URL
   * it is given. Read from the grants, so a module starting to commit events needs nothing here.
   * With no consumer deployed there is no queue: the events stay in the log.
   */
  private letCommittersAnnounce(): void {
    const built = this.queues.byDefinition.get(outboxQueue);
    if (!built) return;
    const { url } = queueEnvVars(outboxQueue);
    const functions = this.rosterFunctions();
    for (const principal of this.eventCommitters) {
      const fn = functions.find((f) => f.function.grantPrincipal === principal);
      if (!fn) {
        throw new Error(
          'a principal granted PutItem on the outbox is not a Roster function: it could not announce its events',
        );
      }
      built.queue.grantSendMessages(fn.function);
      fn.function.addEnvironment(url, built.queue.queueUrl);
    }
  }

  /** A module's task Lambdas and schedules, its DynamoDB access, then its own construct. */
  private addModule(
    module: AnyModule,
    props: RosterStackProps,
    settings: Readonly<Record<string, unknown>>,
  ): void {
    const loaded = props.moduleInfra.get(module);
    if (!loaded) throw new Error(`no CDK construct loaded for module "${module.name}"`);
    const access = checkedAccess(module, loaded.access);
    const used = new Set<string>();
    const grantAccess = (grantee: iam.IGrantable, name: string) => {
      const declared = access[name];
      if (!declared) {
        throw new Error(`module "${module.name}" declares no access for its function "${name}"`);
      }
      used.add(name);
      this.grantTables(grantee, declared);
    };

    const scope = new Construct(this, pascalCase(module.name));
    const environment = this.environmentFor([module]);
    const taskFunctions = new Map<string, lambda.Function>();
    for (const task of module.tasks ?? []) {
      const taskId = `${module.name}/${task.name}`;
      const fn = new RosterFunction(scope, `${pascalCase(task.name)}Task`, {
        projectRoot: props.projectRoot,
        entry: TASK_ENTRY,
        modules: [module.name],
        http: false,
        description: `Roster task ${taskId}: ${task.description}`,
        // A queue consumer's timeout is the one its queue's visibility timeout is six times of.
        timeout: task.queue
          ? Duration.seconds(task.queue.consumerTimeoutSeconds)
          : Duration.minutes(5),
        environment: { ...environment, ROSTER_TASK: taskId },
      });
      grantAccess(fn.function, task.name);
      this.taskFunctions.set(taskId, fn);
      taskFunctions.set(task.name, fn.function);
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
        enabled: props.schedules ?? true,
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
    if (module.routes) grantAccess(this.apiFunction.function, API_ACCESS);
    // Timers on the module's own timer queues, for the functions that build its services.
    for (const [name, fn] of taskFunctions) {
      this.timers.grantSet(fn, timerQueuesSetBy(module, name));
    }
    this.timers.grantSet(this.apiFunction.function, timerQueuesSetBy(module, API_ACCESS));

    loaded.construct(scope, {
      stack: this,
      stage: props.stage,
      projectRoot: props.projectRoot,
      module,
      retainData: this.retainData,
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
      grantAccess,
      apiFunction: this.apiFunction.function,
      restApi: this.restApi,
      taskFunctions,
      environment,
      alarms: this.alarms,
    });
    const unused = Object.keys(access).filter((name) => !used.has(name));
    if (unused.length > 0) {
      throw new Error(
        `module "${module.name}" declares access for no function named ${unused.join(', ')}`,
      );
    }
  }

  /**
   * A queue trigger: SQS batches to the task Lambda, which reports the failed messages alone
   * (ReportBatchItemFailures) and puts poison messages on the DLQ itself; at most
   * `maxConcurrency` invocations at once; an alarm as soon as anything sits in the DLQ.
   */
  private addConsumer(taskId: string, fn: lambda.Function, definition: QueueDefinition): void {
    const { queue, deadLetterQueue } = this.queues.of(definition);
    fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: definition.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: definition.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
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
   * finding that carries it. Anything not listed here fails synthesis; an acknowledgement that
   * matches no finding fails the infra tests.
   */
  private acknowledgeNagFindings(publicRoutes: readonly PublicRoute[]): void {
    const http = this.restApi;
    for (const { function: fn } of this.rosterFunctions()) {
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
    // Per method, so that a method opened by mistake stays a finding: the public routes (the
    // app's `security: []` declarations) have no authorizer; the others but the bearer-only ones
    // have the key-or-token Lambda authorizer rather than Cognito's.
    const isPublic = new Set(publicRoutes.map((r) => `${r.method} ${r.path}`));
    for (const method of http.api.methods) {
      if (method.httpMethod === 'OPTIONS') continue; // CORS preflights: not flagged
      const route = `${method.httpMethod} ${method.resource.path}`;
      const authorization = (method.node.defaultChild as apigateway.CfnMethod).authorizationType;
      if (authorization === apigateway.AuthorizationType.NONE && isPublic.has(route)) {
        acknowledge(
          method,
          'AwsSolutions-APIG4',
          `${route} is a route the app declares public (docs/spec.md#authentication: no credential for it); test/infra/gateway-routes checks that only those are open.`,
        );
        acknowledge(
          method,
          'AwsSolutions-COG4',
          `${route} is public by declaration: no authorizer of any kind.`,
        );
      } else if (
        authorization === apigateway.AuthorizationType.NONE &&
        (method.node.defaultChild as apigateway.CfnMethod).apiKeyRequired === true
      ) {
        // Without a module that issues tokens (no authorizers), a protected method is key-only.
        acknowledge(
          method,
          'AwsSolutions-APIG4',
          'No token issuer is deployed with these modules: the method requires an API key bound to the usage plan, a credential docs/spec.md#authentication accepts.',
        );
        acknowledge(
          method,
          'AwsSolutions-COG4',
          'No token issuer is deployed with these modules: the method requires an API key bound to the usage plan.',
        );
      } else if (authorization === apigateway.AuthorizationType.CUSTOM) {
        acknowledge(
          method,
          'AwsSolutions-COG4',
          'docs/spec.md#authentication allows an API key or a bearer token: the key-or-token Lambda authorizer verifies either (Cognito’s JWKS for tokens) and meters both under a usage plan key.',
        );
      }
    }
    acknowledge(
      http.api,
      'AwsSolutions-APIG2',
      'Requests are validated in the app against the same zod schemas that generate the OpenAPI document (422 problem+json with field errors).',
    );
    if (!http.originGuard) {
      acknowledge(
        http.api.deploymentStage,
        'AwsSolutions-APIG3',
        'No WAF with a single allowed origin (or any): the stage and usage plans throttle, and a web ACL is a cost decision left to the operator. With several origins the origin guard is one.',
      );
    }
  }
}

/**
 * A module's access declaration, checked against what it has: its tables (and the platform's
 * outbox, which its changes write their domain events into), `api`, its tasks.
 */
function checkedAccess(module: AnyModule, access: ModuleAccess): ModuleAccess {
  for (const [name, grants] of Object.entries(access)) {
    for (const grant of grants) {
      if (!module.tables.includes(grant.table) && grant.table !== outboxTable) {
        throw new Error(
          `module "${module.name}": "${name}" is granted table "${grant.table.id}", not one of its own`,
        );
      }
    }
  }
  for (const task of module.tasks ?? []) {
    if (!access[task.name]) {
      throw new Error(
        `module "${module.name}" declares no access for task "${task.name}" (use [] for none)`,
      );
    }
  }
  if (module.routes && !access[API_ACCESS]) {
    throw new Error(`module "${module.name}" has routes but declares no "${API_ACCESS}" access`);
  }
  return access;
}

/** The DynamoDB actions that only read. */
const READ_ACTIONS: ReadonlySet<DynamoAction> = new Set(['GetItem', 'BatchGetItem', 'Query']);

/**
 * What the exports function may do on DynamoDB: of the `api` access of each module whose routes
 * export (`streamedRoutesOf` its own routes), the reads alone — an export reads what the module's
 * list reads, and writes nothing.
 */
export function exportsAccess(
  modules: readonly AnyModule[],
  moduleInfra: ReadonlyMap<AnyModule, LoadedModuleInfra>,
): TableAccess[] {
  return modules
    .filter((module) => module.routes && streamedRoutesOf(describeApi([module]).app).length > 0)
    .flatMap((module) => moduleInfra.get(module)?.access[API_ACCESS] ?? [])
    .map((access) => ({ ...access, actions: access.actions.filter((a) => READ_ACTIONS.has(a)) }))
    .filter((access) => access.actions.length > 0 || (access.indexes ?? []).length > 0);
}

export function pascalCase(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
