import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ACCESS, type ModuleAccess, type TableAccess } from '../../infra/access.js';
import { API_RUNTIME, type RosterFunction } from '../../infra/constructs/roster-function.js';
import {
  exportsAccess,
  PLATFORM_ACCESS,
  pascalCase,
  RosterStack,
} from '../../infra/roster-stack.js';
import { modules } from '../../src/modules/index.js';
import { slaErrorsModule } from '../../src/modules/sla-errors/sla-errors.module.js';
import { severityMetric } from '../../src/modules/sla-errors/sla-errors.service.js';
import { allQueues, allTables, allWorkflows } from '../../src/platform/config.js';
import {
  idempotencyTable,
  type TableDefinition,
  tableEnvVar,
} from '../../src/platform/dynamo/tables.js';
import { CORS_ALLOW_HEADERS } from '../../src/platform/http/headers.js';
import { METRICS_NAMESPACE } from '../../src/platform/metrics/metrics.js';
import { DEFAULT_MAX_CONCURRENCY } from '../../src/platform/queue/queue.js';
import { describeApi } from '../../src/runtime/describe.js';
import {
  acknowledgementsIn,
  covers,
  type RecordingAwsSolutionsChecks,
  staleAcknowledgements,
  unacknowledgedFindings,
} from '../support/nag.js';
import {
  grantPairs,
  methodsByRoute as methodsIn,
  ofType as ofTypeIn,
  projectRoot,
  type Resource,
  type SynthesizedStack,
  statementsOfRole,
  synthStack,
} from '../support/template.js';
import { functionLogGroups } from './function-log-groups.js';

const tableDefinitions = allTables(modules);

let outdir: string;
let app: App;
let stack: RosterStack;
let template: Template;
let resources: Record<string, Resource>;
let nag: RecordingAwsSolutionsChecks;
let moduleInfra: SynthesizedStack['moduleInfra'];

beforeAll(async () => {
  // Bundles the Lambda with the local esbuild and runs cdk-nag; throws on unacknowledged errors.
  const synthed = await synthStack({ id: 'Roster-test', bundling: true, nag: true });
  ({ outdir, app, stack, template, resources, nag, moduleInfra } = synthed);
  return synthed.cleanup;
}, 120_000);

function logicalId(construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

function ofType(type: string): [string, Resource][] {
  return ofTypeIn(resources, type);
}

function methodsByRoute(): Map<string, Record<string, unknown>> {
  return methodsIn(resources);
}

describe('DynamoDB tables', () => {
  it('creates exactly one table per shared table definition', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', tableDefinitions.length);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
  });

  describe.each(tableDefinitions.map((definition) => [definition.id, definition] as const))(
    'the %s table',
    (_id, definition) => {
      const table = () => {
        const construct = stack.tables.byDefinition.get(definition);
        if (!construct) throw new Error(`no table for ${definition.id}`);
        const resource = resources[logicalId(construct)];
        if (!resource) throw new Error(`no resource for ${definition.id}`);
        return resource;
      };

      it('has the key schema of its definition', () => {
        expect(table().Properties.KeySchema).toEqual([
          { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
          ...(definition.sortKey
            ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }]
            : []),
        ]);
      });

      it('has every global index of its definition, projecting all attributes', () => {
        const expected = (definition.globalIndexes ?? []).map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
            ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
          ],
          Projection: { ProjectionType: 'ALL' },
        }));
        expect(table().Properties.GlobalSecondaryIndexes ?? []).toEqual(expected);
      });

      it('has every local index of its definition, projecting all attributes', () => {
        const expected = (definition.localIndexes ?? []).map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }));
        expect(table().Properties.LocalSecondaryIndexes ?? []).toEqual(expected);
      });

      it('is on-demand, encrypted, point-in-time recoverable, deletion protected and retained', () => {
        const resource = table();
        expect(resource.Properties.BillingMode).toBe('PAY_PER_REQUEST');
        expect(resource.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
        const [replica] = resource.Properties.Replicas as Record<string, unknown>[];
        expect(replica).toMatchObject({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        });
        expect(resource.DeletionPolicy).toBe('Retain');
        expect(resource.UpdateReplacePolicy).toBe('Retain');
      });

      it('expires items by its TTL attribute, if it has one', () => {
        const ttl = table().Properties.TimeToLiveSpecification;
        if (definition.timeToLiveAttribute) {
          expect(ttl).toEqual({ AttributeName: definition.timeToLiveAttribute, Enabled: true });
        } else {
          expect(ttl).toBeUndefined();
        }
      });
    },
  );
});

describe('API Lambda', () => {
  const apiFunction = () => {
    const resource = resources[logicalId(stack.apiFunction.function)];
    if (!resource) throw new Error('API function not in template');
    return resource.Properties;
  };

  it('runs on the newest Node.js runtime aws-cdk-lib names', () => {
    const newest = Object.values(lambda.Runtime)
      .filter((value): value is lambda.Runtime => value instanceof lambda.Runtime)
      .map((runtime) => /^nodejs(\d+)\.x$/.exec(runtime.name))
      .filter((match) => match !== null)
      .map((match) => Number(match[1]))
      .reduce((a, b) => Math.max(a, b), 0);
    expect(API_RUNTIME.name).toBe(`nodejs${newest}.x`);
    expect(apiFunction().Runtime).toBe(API_RUNTIME.name);
  });

  it('is an arm64 function with 1024 MB, a 10 s timeout and active tracing', () => {
    expect(apiFunction()).toMatchObject({
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 10,
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('receives every table name through the env var its definition names', () => {
    const variables = (apiFunction().Environment as { Variables: Record<string, unknown> })
      .Variables;
    for (const definition of tableDefinitions) {
      const table = stack.tables.byDefinition.get(definition);
      if (!table) throw new Error(`no table for ${definition.id}`);
      expect(variables[tableEnvVar(definition)]).toEqual({ Ref: logicalId(table) });
    }
    expect(variables).toMatchObject({
      API_KEY_SOURCE: 'api-gateway',
      LOG_LEVEL: 'info',
      POWERTOOLS_SERVICE_NAME: 'roster',
      NODE_OPTIONS: '--enable-source-maps',
      DOCS_ASSETS_DIR: '/var/task/swagger-ui',
    });
  });

  it('keeps its logs for a month', () => {
    const logGroup = (apiFunction().LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    expect(resources[logGroup]?.Properties.RetentionInDays).toBe(30);
  });

  it('ships an ESM bundle with source maps and the Swagger UI files', () => {
    const s3Key = (apiFunction().Code as { S3Key: string }).S3Key;
    const assetDir = join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
    const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
    expect(bundle.startsWith('import { createRequire')).toBe(true);
    expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
    for (const file of [
      'swagger-ui.css',
      'swagger-ui-bundle.js',
      'swagger-ui-standalone-preset.js',
      'favicon-32x32.png',
    ]) {
      expect(existsSync(join(assetDir, 'swagger-ui', file)), file).toBe(true);
    }
  });
});

describe('REST API', () => {
  it('is a REST API (API keys and usage plans), not an HTTP API', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
  });

  it("gzips large answers (a door device's ticket manifest) for clients that accept it", () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { MinimumCompressionSize: 8192 });
  });

  it('serves GET /health without an API key', () => {
    expect(methodsByRoute().get('GET /health')).toMatchObject({
      ApiKeyRequired: false,
      AuthorizationType: 'NONE',
      Integration: { Type: 'AWS_PROXY' },
    });
  });

  it('requires an API key or a bearer token (the key-or-token authorizer) on ANY /{proxy+} and ANY /', () => {
    const methods = methodsByRoute();
    for (const route of ['ANY /{proxy+}', 'ANY /']) {
      expect(methods.get(route), route).toMatchObject({
        ApiKeyRequired: true,
        AuthorizationType: 'CUSTOM',
      });
    }
  });

  it('leaves exactly the public routes, the bearer-only routes and CORS preflights without an API key', () => {
    const open = [...methodsByRoute()]
      .filter(([, props]) => props.ApiKeyRequired !== true)
      .map(([route]) => route)
      .filter((route) => !route.startsWith('OPTIONS '))
      .sort();
    // docs/spec.md#authentication: the public routes, as the app itself declares them; and the routes
    // that take a bearer token alone (POST /sla-errors), behind the Cognito authorizer instead.
    const described = describeApi(modules);
    const declared = described.publicRoutes.map((r) => `${r.method} ${r.path}`);
    const bearerOnly = described.bearerOnlyRoutes.map((r) => `${r.method} ${r.path}`);
    expect(open).toEqual([...declared, ...bearerOnly].sort());
    for (const route of declared) {
      expect(methodsByRoute().get(route)?.AuthorizationType, route).toBe('NONE');
    }
    for (const route of bearerOnly) {
      expect(methodsByRoute().get(route)?.AuthorizationType, route).toBe('COGNITO_USER_POOLS');
    }
    expect(open).toEqual(
      expect.arrayContaining(['GET /', 'GET /docs', 'GET /health', 'GET /openapi.json']),
    );
  });

  it('answers CORS preflights without a key, allowing the app headers', () => {
    const preflights = [...methodsByRoute()].filter(([route]) => route.startsWith('OPTIONS '));
    expect(preflights.map(([route]) => route)).toEqual(
      expect.arrayContaining(['OPTIONS /', 'OPTIONS /{proxy+}', 'OPTIONS /health']),
    );
    for (const [route, props] of preflights) {
      expect(props.ApiKeyRequired, route).toBe(false);
      const responses = (props.Integration as { IntegrationResponses: Record<string, unknown>[] })
        .IntegrationResponses;
      const parameters = (responses[0]?.ResponseParameters ?? {}) as Record<string, string>;
      const allowHeaders = String(
        parameters['method.response.header.Access-Control-Allow-Headers'],
      );
      for (const header of CORS_ALLOW_HEADERS) expect(allowHeaders, route).toContain(header);
      // What a browser signing its requests with AWS credentials sends (the original frontend's list).
      for (const header of ['X-Amz-Date', 'X-Amz-Security-Token']) {
        expect(allowHeaders, route).toContain(header);
      }
    }
  });

  it('throttles the stage, logs access and execution errors (no payloads) and traces requests', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'test',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('requestId'),
      },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          ResourcePath: '/*',
          HttpMethod: '*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
          ThrottlingRateLimit: Match.anyValue(),
          ThrottlingBurstLimit: Match.anyValue(),
        }),
      ]),
    });
    // The access log group is the one the stage names, kept for a month.
    const stage = ofType('AWS::ApiGateway::Stage')[0]?.[1];
    const destination = JSON.stringify(stage?.Properties.AccessLogSetting);
    const group = logicalId(stack.restApi.accessLogGroup);
    expect(destination).toContain(`{"Ref":"${group}"}`);
    expect(resources[group]?.Properties.RetentionInDays).toBe(30);
  });

  it('has a usage plan with a throttle and a daily quota, holding the default key and the bearer callers’ key', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: Match.anyValue(), BurstLimit: Match.anyValue() },
      Quota: { Limit: Match.anyValue(), Period: 'DAY' },
      ApiStages: [Match.objectLike({ ApiId: { Ref: logicalId(stack.restApi.api) } })],
    });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 2);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 2);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
      KeyId: { Ref: logicalId(stack.restApi.apiKey as never) },
      KeyType: 'API_KEY',
    });
  });

  describe('gateway responses', () => {
    const gatewayResponse = (type: string) => {
      const found = ofType('AWS::ApiGateway::GatewayResponse').find(
        ([, resource]) => resource.Properties.ResponseType === type,
      );
      if (!found) throw new Error(`no gateway response for ${type}`);
      const props = found[1].Properties as {
        StatusCode?: string;
        ResponseParameters: Record<string, string>;
        ResponseTemplates: Record<string, string>;
      };
      const body = JSON.parse(
        String(props.ResponseTemplates['application/json']).replace(
          '$context.error.messageString',
          '"message"',
        ),
      ) as Record<string, unknown>;
      return { ...props, body };
    };

    it('answers a missing or invalid API key with a 401 problem document', () => {
      const response = gatewayResponse('INVALID_API_KEY');
      expect(response.StatusCode).toBe('401');
      expect(response.ResponseParameters['gatewayresponse.header.Content-Type']).toBe(
        "'application/problem+json'",
      );
      expect(response.body).toMatchObject({
        status: 401,
        title: 'Unauthorized',
        code: 'AUTH.UNAUTHORIZED',
      });
    });

    it.each(['THROTTLED', 'QUOTA_EXCEEDED'])('answers %s with 429', (type) => {
      const response = gatewayResponse(type);
      expect(response.StatusCode).toBe('429');
      expect(response.body).toMatchObject({ status: 429 });
    });

    it('answers unknown routes with 404 instead of "Missing Authentication Token"', () => {
      expect(gatewayResponse('MISSING_AUTHENTICATION_TOKEN')).toMatchObject({
        StatusCode: '404',
        body: { status: 404 },
      });
    });

    it.each(['DEFAULT_4XX', 'DEFAULT_5XX'])(
      'turns every other %s into problem+json with CORS, keeping the status',
      (type) => {
        const response = gatewayResponse(type);
        expect(response.StatusCode).toBeUndefined();
        expect(response.ResponseParameters).toMatchObject({
          'gatewayresponse.header.Content-Type': "'application/problem+json'",
          'gatewayresponse.header.Access-Control-Allow-Origin': "'*'",
        });
        expect(response.ResponseTemplates['application/json']).toContain(
          '"detail":$context.error.messageString',
        );
        expect(response.body).toEqual(
          expect.objectContaining({
            type: expect.stringMatching(/^\/problems\//),
            title: expect.any(String),
          }),
        );
      },
    );
  });
});

describe('alarms', () => {
  const topicRef = () => ({ Ref: logicalId(stack.alarms.topic) });

  it('publishes to an encrypted topic that refuses plain-HTTP publishers', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef()],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('alarms on API Lambda errors', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.apiFunction.function) } }],
      AlarmActions: [topicRef()],
    });
  });

  it('alarms on the errors and the throttles of every function, to the topic', () => {
    for (const fn of stack.rosterFunctions()) {
      for (const metric of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn.function) } }],
          AlarmActions: [topicRef()],
        });
      }
    }
  });

  it('alarms on API latency p99 held for 15 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      AlarmActions: [topicRef()],
    });
  });

  it('sends every alarm, and its recovery, to the topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(2 * stack.rosterFunctions().length + 3);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([topicRef()]);
      expect(alarm.Properties.OKActions, id).toEqual([topicRef()]);
    }
  });

  it('alarms on API Gateway 5XX answers', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      AlarmActions: [topicRef()],
    });
  });

  it('alarms on the first critical SLA error, from the metric the service counts', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: severityMetric('critical'),
      Dimensions: [{ Name: 'service', Value: slaErrorsModule.name }],
      Statistic: 'Sum',
      Threshold: 1,
      AlarmActions: [topicRef()],
    });
  });
});

describe('outputs', () => {
  it('exposes the API URL, the API key id (not its value) and the table names', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['ApiUrl', 'ApiKeyId', 'EventsTableName', 'IdempotencyTableName']),
    );
    expect(outputs.ApiKeyId?.Value).toEqual({ Ref: logicalId(stack.restApi.apiKey as never) });
  });
});

describe('outputs for operators', () => {
  const outputs = () =>
    template.toJSON().Outputs as Record<string, { Value: unknown; Description?: string }>;

  it('gives the ARN of every state machine', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(allWorkflows(modules).length);
    for (const [id] of machines) {
      const named = Object.entries(outputs()).filter(([, output]) =>
        isDeepStrictEqual(output.Value, { Ref: id }),
      );
      expect(
        named.map(([name]) => name),
        id,
      ).toEqual([expect.stringMatching(/StateMachineArn$/)]);
    }
    expect(outputs().CustomersWorkflowStateMachineArn?.Value).toEqual({
      Ref: machines[0]?.[0],
    });
  });

  it.each(allQueues(modules).map((definition) => [definition.id, definition] as const))(
    'gives the URL of the %s queue, and the URL and ARN of its dead-letter queue',
    (id, definition) => {
      const { queue, deadLetterQueue } = stack.queues.of(definition);
      const name = pascalCase(id);
      expect(outputs()[`${name}QueueUrl`]?.Value).toEqual({ Ref: logicalId(queue) });
      expect(outputs()[`${name}DeadLetterQueueUrl`]?.Value).toEqual({
        Ref: logicalId(deadLetterQueue),
      });
      expect(outputs()[`${name}DeadLetterQueueArn`]?.Value).toEqual({
        'Fn::GetAtt': [logicalId(deadLetterQueue), 'Arn'],
      });
    },
  );

  it('says what each output is', () => {
    for (const [name, output] of Object.entries(outputs())) {
      expect(output.Description?.length ?? 0, name).toBeGreaterThan(10);
    }
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('finds no unacknowledged errors or warnings', () => {
    expect(unacknowledgedFindings(nag, app)).toEqual([]);
  });

  it('acknowledges only findings it has: no acknowledgement outlives its finding', () => {
    expect(staleAcknowledgements(nag, app)).toEqual([]);
  });

  it('has no wildcard IAM resource or action that is not an acknowledged finding', () => {
    // Where each policy comes from, by logical id.
    const paths = new Map(
      stack.node
        .findAll()
        .filter((construct): construct is CfnResource => construct instanceof CfnResource)
        .map((resource) => [stack.getLogicalId(resource), resource.node.path] as const),
    );
    const acknowledgements = acknowledgementsIn(app);
    const acknowledged = (path: string) =>
      nag.findings.some(
        (finding) =>
          finding.path === path &&
          finding.id.startsWith('AwsSolutions-IAM5[') &&
          acknowledgements.some((acknowledgement) => covers(acknowledgement, finding)),
      );
    const wildcards = ofType('AWS::IAM::Policy').filter(([, policy]) =>
      (
        policy.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }
      ).Statement.some((statement) =>
        JSON.stringify([statement.Action, statement.Resource]).includes('*'),
      ),
    );
    expect(wildcards.length).toBeGreaterThan(0);
    for (const [id] of wildcards) {
      const path = paths.get(id) ?? id;
      expect(acknowledged(path), path).toBe(true);
    }
    // And every IAM5 finding is acknowledged (nothing unexplained slipped through).
    const unexplained = nag.findings.filter(
      (finding) =>
        finding.id.startsWith('AwsSolutions-IAM5') &&
        !acknowledgements.some((acknowledgement) => covers(acknowledgement, finding)),
    );
    expect(unexplained).toEqual([]);
  });

  it('gives every acknowledged finding a reason', () => {
    const acknowledgements = app.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      expect(reason.trim().length, id).toBeGreaterThanOrEqual(30);
    }
  });

  it('does report findings on a non-compliant resource (the check is live)', () => {
    const scratch = new App();
    const bad = new Stack(scratch, 'Bad');
    new sns.Topic(bad, 'PlainTopic');
    const report = new AwsSolutionsChecks(scratch).validateScope(scratch);
    expect(report.violations.map((violation) => violation.ruleName)).toContain('AwsSolutions-SNS3');
  });
});

describe('every function', () => {
  const propsOf = (fn: RosterFunction) => {
    const resource = resources[logicalId(fn.function)];
    if (!resource) throw new Error(`${fn.node.path} not in template`);
    return resource.Properties;
  };
  // The package's code, every file of it: the API's entry holds little of it since it loads each
  // module's code on the first request to its routes (its chunks sit beside index.mjs).
  const bundleOf = (fn: RosterFunction) => {
    const s3Key = (propsOf(fn).Code as { S3Key: string }).S3Key;
    const dir = join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
    return readdirSync(dir)
      .filter((file) => file.endsWith('.mjs'))
      .map((file) => readFileSync(join(dir, file), 'utf8'))
      .join('\n');
  };
  const authorizer = () => {
    const found = stack.rosterFunctions().find((fn) => fn.node.path.endsWith('/GatewayAuthorizer'));
    if (!found) throw new Error('no authorizer function');
    return found;
  };
  const task = (id: string) => {
    const found = stack.taskFunctions.get(id);
    if (!found) throw new Error(`no task function ${id}`);
    return found;
  };

  it('runs on the pinned newest Node.js runtime, arm64, traced, from index.mjs', () => {
    const functions = stack.rosterFunctions();
    // The API, the CSV downloads', one per task, the gateway authorizer: nothing else is.
    expect(functions).toHaveLength(2 + stack.taskFunctions.size + 1);
    for (const fn of functions) {
      expect(propsOf(fn), fn.node.path).toMatchObject({
        Runtime: API_RUNTIME.name,
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
      });
    }
    template.resourceCountIs('AWS::Lambda::Function', functions.length);
  });

  it('gives the authorizer, and no other function, the Parameters and Secrets Lambda Extension it reads the usage key through (its layer, its port)', () => {
    const mappings = (template.toJSON().Mappings ?? {}) as Record<
      string,
      Record<string, Record<string, string>>
    >;
    /** A layer's ARN in every region the stack may deploy to (a mapping by region, or one). */
    const arnsOf = (layer: unknown): string[] => {
      if (typeof layer === 'string') return [layer];
      const [mapping, , fact] = (layer as { 'Fn::FindInMap': [string, unknown, string] })[
        'Fn::FindInMap'
      ];
      return Object.values(mappings[mapping] ?? {}).map((facts) => facts[fact] ?? '');
    };
    for (const fn of stack.rosterFunctions()) {
      const props = propsOf(fn);
      const variables = (props.Environment as { Variables: Record<string, unknown> }).Variables;
      if (fn === authorizer()) {
        const layers = props.Layers as unknown[];
        expect(layers).toHaveLength(1);
        const arns = arnsOf(layers[0]);
        expect(arns.length).toBeGreaterThan(0);
        for (const arn of arns) {
          // arm64, as the function runs.
          expect(arn).toMatch(/:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:\d+$/);
        }
        // The variable the function reads the key through the extension by (its port).
        expect(variables.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT).toBe('2773');
        expect(variables.TOKEN_USAGE_KEY_ARN).toBeDefined();
      } else {
        expect(props.Layers, fn.node.path).toBeUndefined();
        expect(
          Object.keys(variables).filter(
            (name) => name.startsWith('PARAMETERS_SECRETS_') || name.startsWith('SECRETS_MANAGER_'),
          ),
          fn.node.path,
        ).toEqual([]);
      }
    }
  });

  it('writes to a log group the stack creates, named /aws/lambda/<its name> and kept for a month', () => {
    const found = functionLogGroups(resources);
    expect(found).toHaveLength(stack.rosterFunctions().length);
    for (const { functionId, functionName, groupId, group } of found) {
      // A name given at synthesis, so that the group can carry it before the function exists.
      expect(functionName, functionId).toMatch(/^Roster-test-[A-Za-z0-9-]+$/);
      expect(groupId, `${functionId}: no log group /aws/lambda/${functionName}`).toBeDefined();
      expect(group?.Properties.RetentionInDays, functionId).toBe(30);
    }
    expect(new Set(found.map((f) => f.functionName)).size).toBe(found.length);
  });

  it('keeps every log group (functions, API access logs, workflow) for a month', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(stack.rosterFunctions().length + 2);
    for (const [id, group] of groups) expect(group.Properties.RetentionInDays, id).toBe(30);
  });

  it('bundles a task Lambda with its own module only, and without the HTTP app', () => {
    const api = bundleOf(stack.apiFunction);
    const events = bundleOf(task('events/finish-deletions'));
    const customers = bundleOf(task('customers/insert-id'));
    // The app's own routes (the OpenAPI document's path) are in the API's bundle only.
    expect(api).toContain('/openapi.json');
    for (const bundle of [events, customers]) {
      expect(bundle).not.toContain('/openapi.json');
      expect(bundle).toContain('HTTP routes are not bundled in this function');
      expect(bundle.length).toBeLessThan(api.length);
    }
    // A customers step name is in the customers bundle, not in the events one.
    expect(customers).toContain('RecordAlreadyExistsFunctionArn');
    expect(events).not.toContain('RecordAlreadyExistsFunctionArn');
    // The authorizer bundles no module at all (docs/decisions/lean-functions.md).
    const gateway = bundleOf(authorizer());
    expect(gateway).not.toContain('/openapi.json');
    expect(gateway).not.toContain('HTTP routes are not bundled in this function');
    expect(gateway).not.toContain('RecordAlreadyExistsFunctionArn');
    expect(gateway.length).toBeLessThan(events.length);
  });

  it('shares one bundle between the tasks of a module (the same code, ROSTER_TASK picks the task)', () => {
    const keys = (moduleName: string) =>
      new Set(
        [...stack.taskFunctions]
          .filter(([id]) => id.startsWith(`${moduleName}/`))
          .map(([, fn]) => (propsOf(fn).Code as { S3Key: string }).S3Key),
      );
    expect(keys('customers').size).toBe(1);
    expect(keys('customers')).not.toEqual(keys('events'));
  });
});

describe('least privilege', () => {
  const tableArn = (definition: TableDefinition) => ({
    'Fn::GetAtt': [logicalId(stack.tables.of(definition)), 'Arn'],
  });
  /** `dynamodb:Action resource` pairs the declarations allow. */
  const declared = (accesses: readonly TableAccess[]) =>
    new Set(
      accesses.flatMap((access) => [
        ...access.actions.map(
          (action) => `dynamodb:${action} ${JSON.stringify(tableArn(access.table))}`,
        ),
        ...(access.indexes ?? []).map(
          (index) =>
            `dynamodb:Query ${JSON.stringify({
              'Fn::Join': ['', [tableArn(access.table), `/index/${index}`]],
            })}`,
        ),
      ]),
    );
  const accessOf = (module: string, name: string) => {
    const found = modules.find((m) => m.name === module);
    const access = found && moduleInfra.get(found)?.access[name];
    if (!access) throw new Error(`no access "${name}" declared by ${module}`);
    return access;
  };
  /** What each Roster function should be allowed on DynamoDB, from the declarations alone. */
  const expectations = () => {
    const expected = new Map<RosterFunction, readonly TableAccess[]>([
      [
        stack.apiFunction,
        [
          ...PLATFORM_ACCESS,
          ...modules.flatMap((m) => (m.routes ? accessOf(m.name, API_ACCESS) : [])),
        ],
      ],
    ]);
    if (stack.exportsFunction) {
      expected.set(stack.exportsFunction, exportsAccess(modules, moduleInfra));
    }
    for (const [id, fn] of stack.taskFunctions) {
      const [module = '', task = ''] = id.split('/');
      expected.set(fn, accessOf(module, task));
    }
    for (const fn of stack.rosterFunctions()) {
      if (fn.node.path.endsWith('/Auth/GatewayAuthorizer')) {
        expected.set(fn, accessOf('auth', 'authorizer'));
      }
    }
    return expected;
  };
  const roleOf = (fn: RosterFunction) => logicalId(fn.function.role as never);

  it('gives each function exactly the DynamoDB actions its module declares, on named tables and indexes', () => {
    const expected = expectations();
    expect([...expected.keys()].sort()).toEqual(stack.rosterFunctions().sort());
    for (const [fn, accesses] of expected) {
      const granted = grantPairs(statementsOfRole(resources, roleOf(fn)), 'dynamodb:');
      expect([...granted].sort(), fn.node.path).toEqual([...declared(accesses)].sort());
    }
  });

  it('grants Scan to no function serving requests, reads no stream and uses no DynamoDB wildcard, in any policy', () => {
    // Scan only for migration tasks (a backfill of items an earlier release wrote): never the
    // API nor the gateway's authorizer.
    const serving = stack
      .rosterFunctions()
      .filter(
        (fn) =>
          fn === stack.apiFunction ||
          fn === stack.exportsFunction ||
          fn.node.path.endsWith('/GatewayAuthorizer'),
      );
    expect(serving.length).toBeGreaterThan(2);
    for (const fn of serving) {
      const granted = [...grantPairs(statementsOfRole(resources, roleOf(fn)), 'dynamodb:')];
      expect(granted.filter((pair) => pair.startsWith('dynamodb:Scan '))).toEqual([]);
    }
    const statements = ofType('AWS::IAM::Policy').flatMap(
      ([, policy]) =>
        (
          policy.Properties.PolicyDocument as {
            Statement: { Action: unknown; Resource: unknown }[];
          }
        ).Statement,
    );
    const actions = statements.flatMap((statement) => [statement.Action].flat() as string[]);
    expect(
      actions.filter((action) =>
        /^dynamodb:(\*|.*Stream|GetRecords|GetShardIterator)/.test(action),
      ),
    ).toEqual([]);
    expect(actions.filter((action) => action === '*' || action.endsWith(':*'))).toEqual([]);
    const dynamoResources = statements
      .filter((statement) =>
        ([statement.Action].flat() as string[]).some((a) => a.startsWith('dynamodb:')),
      )
      .flatMap((statement) => [statement.Resource].flat());
    expect(dynamoResources.filter((resource) => JSON.stringify(resource).includes('*'))).toEqual(
      [],
    );
  });

  it('declares access only for tables a module owns and functions it has (the stack refuses others)', () => {
    const [events] = modules;
    if (!events) throw new Error('no module');
    const build = (access: ModuleAccess) =>
      new RosterStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Roster-bad', {
        stage: 'bad',
        projectRoot,
        modules: [events],
        moduleInfra: new Map([[events, { construct: () => {}, access }]]),
      });
    const api: TableAccess = { table: events.tables[0] as TableDefinition, actions: ['GetItem'] };
    // Every task of the module declares its access (none needed here: the checks are on the api).
    const tasks = Object.fromEntries((events.tasks ?? []).map((task) => [task.name, []]));
    expect(() => build({ api: [api] })).toThrow(/no access for task "finish-deletions"/);
    expect(() => build({ api: [api], ...tasks, typo: [] })).toThrow(/typo/);
    expect(() => build({ api: [{ ...api, table: idempotencyTable }], ...tasks })).toThrow(
      /not one of its own/,
    );
    expect(() => build({ api: [{ ...api, indexes: ['no-such-index'] }], ...tasks })).toThrow(
      /no index "no-such-index"/,
    );
  });
});

describe('queues and their consumers', () => {
  const queueDefinitions = allQueues(modules);

  it.each(queueDefinitions.map((definition) => [definition.id, definition] as const))(
    '%s: SSL-only, redrive to its DLQ, visibility ≥ 6 × the consumer timeout, partial batch failures, bounded concurrency',
    (_id, definition) => {
      const { queue, deadLetterQueue } = stack.queues.of(definition);
      const queueProps = resources[logicalId(queue)]?.Properties;
      expect(queueProps?.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(deadLetterQueue), 'Arn'] },
        maxReceiveCount: definition.maxReceiveCount,
      });
      expect(Number(queueProps?.VisibilityTimeout)).toBeGreaterThanOrEqual(
        6 * definition.consumerTimeoutSeconds,
      );
      for (const q of [queue, deadLetterQueue]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: logicalId(q) }],
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
      const [consumer] = [...stack.taskFunctions.values()].filter((fn) =>
        ofType('AWS::Lambda::EventSourceMapping').some(
          ([, mapping]) =>
            JSON.stringify(mapping.Properties.FunctionName) ===
              JSON.stringify({ Ref: logicalId(fn.function) }) &&
            JSON.stringify(mapping.Properties.EventSourceArn).includes(logicalId(queue)),
        ),
      );
      if (!consumer) throw new Error(`no consumer of ${definition.id}`);
      expect(resources[logicalId(consumer.function)]?.Properties.Timeout).toBe(
        definition.consumerTimeoutSeconds,
      );
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(consumer.function) },
        BatchSize: definition.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: {
          MaximumConcurrency: definition.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
        },
      });
    },
  );
});

describe('stage names', () => {
  it('rejects a stage name that cannot be part of resource names', () => {
    expect(
      () =>
        new RosterStack(new App(), 'Roster-bad', {
          stage: 'Prod!',
          projectRoot,
          modules: [],
          moduleInfra: new Map(),
        }),
    ).toThrow(/stage must match/);
  });
});
