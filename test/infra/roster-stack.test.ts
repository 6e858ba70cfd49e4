import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_RUNTIME } from '../../infra/constructs/roster-function.js';
import { loadModuleInfra } from '../../infra/module-infra.js';
import { RosterStack } from '../../infra/roster-stack.js';
import { modules } from '../../src/modules/index.js';
import { allTables } from '../../src/platform/config.js';
import { tableEnvVar } from '../../src/platform/dynamo/tables.js';
import { CORS_ALLOW_HEADERS } from '../../src/platform/http/headers.js';
import { describeApi } from '../../src/runtime/describe.js';
import {
  cdkJsonContext,
  methodsByRoute as methodsIn,
  ofType as ofTypeIn,
  projectRoot,
  type Resource,
} from '../support/template.js';

const tableDefinitions = allTables(modules);

let outdir: string;
let app: App;
let stack: RosterStack;
let template: Template;
let resources: Record<string, Resource>;
let nag: AwsSolutionsChecks;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'roster-cdk-'));
  app = new App({ outdir, context: cdkJsonContext() });
  stack = new RosterStack(app, 'Roster-test', {
    stage: 'test',
    projectRoot,
    modules,
    moduleInfra: await loadModuleInfra(modules),
  });
  nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  // Bundles the Lambda with the local esbuild and runs cdk-nag; throws on unacknowledged errors.
  app.synth();
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

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

  it('can read and write the tables and their indexes, and nothing wider', () => {
    // One statement per table (with its indexes), in the policy of the function's role.
    const role = (apiFunction().Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policy = ofType('AWS::IAM::Policy').find(([, resource]) =>
      JSON.stringify(resource.Properties.Roles).includes(`"${role}"`),
    )?.[1];
    const statements = policy?.Properties.PolicyDocument as {
      Statement: { Action: string | string[]; Resource: unknown }[];
    };
    for (const table of stack.tables.byDefinition.values()) {
      const arn = { 'Fn::GetAtt': [logicalId(table), 'Arn'] };
      const grant = statements.Statement.find(
        (statement) =>
          [statement.Action].flat().includes('dynamodb:PutItem') &&
          [statement.Resource].flat().some((r) => JSON.stringify(r) === JSON.stringify(arn)),
      );
      expect(grant?.Action, logicalId(table)).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']),
      );
    }
    const actions = ofType('AWS::IAM::Policy').flatMap(([, policy]) =>
      (
        policy.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }
      ).Statement.flatMap((statement) => [statement.Action].flat()),
    );
    expect(actions.filter((action) => action.endsWith(':*') || action === '*')).toEqual([]);
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
    // SPEC "Authentication": the public routes, as the app itself declares them; and the routes
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
    }
  });

  it('throttles the stage, logs access and traces requests', () => {
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
          ThrottlingRateLimit: Match.anyValue(),
          ThrottlingBurstLimit: Match.anyValue(),
        }),
      ]),
    });
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

  it('alarms on API Gateway 5XX answers', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
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

describe('cdk-nag (AwsSolutions)', () => {
  it('finds no unacknowledged errors or warnings', () => {
    const report = nag.validateScope(app);
    const findings = report.violations.map(
      (violation) =>
        `${violation.severity} ${violation.ruleName}: ${violation.violatingResources
          .map((resource) => resource.constructPath)
          .join(', ')}`,
    );
    expect(findings).toEqual([]);
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
