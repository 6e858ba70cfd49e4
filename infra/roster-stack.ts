import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';
import { type TableDefinition, tableDefinitions } from '../src/platform/dynamo/tables.js';
import { Alarms } from './constructs/alarms.js';
import { ApiFunction } from './constructs/api-function.js';
import { RosterRestApi, type ThrottleSettings } from './constructs/rest-api.js';
import { Tables } from './constructs/tables.js';

export interface RosterStackProps extends StackProps {
  /** Environment name: dev, staging, prod… Used in resource names and as the API stage. */
  readonly stage: string;
  /** Repository root (package-lock.json, node_modules, src/). */
  readonly projectRoot: string;
  /** Allowed CORS origins. @default ['*'] */
  readonly corsOrigins?: readonly string[];
  /** E-mail subscribed to the alarm topic. @default none */
  readonly alarmEmail?: string;
  /** @default every definition in src/platform/dynamo/tables.ts */
  readonly tableDefinitions?: readonly TableDefinition[];
  /** @default 100 rps, burst 200 */
  readonly stageThrottle?: ThrottleSettings;
  /** @default 50 rps, burst 100 per key, 100 000 requests per day */
  readonly usagePlanThrottle?: ThrottleSettings;
  readonly usagePlanDailyQuota?: number;
}

export const API_ENTRY = 'src/runtime/lambda/api.ts';

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** Everything one environment of Roster needs on AWS. */
export class RosterStack extends Stack {
  readonly tables: Tables;
  readonly apiFunction: ApiFunction;
  readonly restApi: RosterRestApi;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: RosterStackProps) {
    super(scope, id, props);
    if (!STAGE_PATTERN.test(props.stage)) {
      throw new Error(`stage must match ${STAGE_PATTERN}, got "${props.stage}"`);
    }
    const corsOrigins = props.corsOrigins ?? ['*'];

    this.tables = new Tables(this, 'Tables', {
      definitions: props.tableDefinitions ?? tableDefinitions,
    });

    this.apiFunction = new ApiFunction(this, 'ApiFunction', {
      projectRoot: props.projectRoot,
      entry: API_ENTRY,
      environment: {
        ...this.tables.environment(),
        API_KEY_SOURCE: 'api-gateway',
        LOG_LEVEL: 'info',
        POWERTOOLS_SERVICE_NAME: 'roster',
        CORS_ORIGINS: corsOrigins.join(','),
      },
    });
    for (const table of this.tables.byDefinition.values()) {
      table.grantReadWriteData(this.apiFunction.function);
    }

    this.restApi = new RosterRestApi(this, 'Http', {
      stage: props.stage,
      handler: this.apiFunction.function,
      corsOrigins,
      stageThrottle: props.stageThrottle ?? { rateLimit: 100, burstLimit: 200 },
      tokenThrottle: { rateLimit: 5, burstLimit: 10 },
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
        description: `${definition.envVar} for the ${definition.id} table`,
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });

    this.acknowledgeNagFindings();
  }

  /**
   * cdk-nag AwsSolutions findings accepted on purpose, each on the narrowest construct and
   * finding that carries it. Anything not listed here fails synthesis.
   */
  private acknowledgeNagFindings(): void {
    const fn = this.apiFunction.function;
    const http = this.restApi;

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
    for (const table of this.tables.byDefinition.values()) {
      const logicalId = this.getLogicalId(table.node.defaultChild as never);
      acknowledge(
        fn,
        `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
        'The app queries every index of its own tables (grantReadWriteData); the wildcard is limited to this table’s indexes.',
      );
    }

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

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

function pascalCase(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
