import { Duration } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TableAccess } from '../../infra/access.js';
import type { RosterFunction } from '../../infra/constructs/roster-function.js';
import {
  EXPORT_TIMEOUT,
  EXPORTS_ENTRY,
  exportsAccess,
  type RosterStack,
} from '../../infra/roster-stack.js';
import { customersModule } from '../../src/modules/customers/customers.module.js';
import { enrollmentsTable } from '../../src/modules/enrollments/enrollments.module.js';
import { eventsTable } from '../../src/modules/events/events.module.js';
import { modules } from '../../src/modules/index.js';
import { slaErrorsTable } from '../../src/modules/sla-errors/sla-errors.module.js';
import type { PublicRoute } from '../../src/platform/http/public-route.js';
import { streamedRoutesOf } from '../../src/platform/http/public-routes.js';
import { describeApi } from '../../src/runtime/describe.js';
import { acknowledgementsIn, covers, type RecordingAwsSolutionsChecks } from '../support/nag.js';
import {
  grantPairs,
  methodsByRoute,
  ofType,
  type Resource,
  rosterStack,
  statementsOfRole,
  synthStack,
} from '../support/template.js';

/*
 * The CSV downloads on AWS: API Gateway REST streams them from a function of their own (the
 * buffered proxy integration stops at Lambda's 6 MB), which runs the same app with the API's
 * configuration and may only read the tables the downloads come from. Bundling is skipped.
 */

let stack: RosterStack;
let resources: Record<string, Resource>;
let nag: RecordingAwsSolutionsChecks;
let routes: PublicRoute[];
let moduleInfra: Awaited<ReturnType<typeof synthStack>>['moduleInfra'];

beforeAll(async () => {
  // cdk-nag's AwsSolutions pack: the synth throws on an unacknowledged error.
  const synthed = await synthStack({ id: 'Roster-exports', nag: true });
  ({ stack, resources, nag, moduleInfra } = synthed);
  routes = streamedRoutesOf(describeApi(modules).app);
  return synthed.cleanup;
}, 120_000);

const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

function exportsFunction(): RosterFunction {
  if (!stack.exportsFunction) throw new Error('no exports function');
  return stack.exportsFunction;
}

const propsOf = (fn: RosterFunction) =>
  resources[logicalId(fn.function)]?.Properties as Record<string, unknown>;

describe('the CSV downloads at the gateway', () => {
  it('are the .csv twins of the lists', () => {
    expect(routes.map((route) => `${route.method} ${route.path}`).sort()).toEqual([
      'GET /enrollments.csv',
      'GET /events/{eventId}/registrations.csv',
      'GET /sla-errors.csv',
    ]);
  });

  it('stream from the exports function (STREAM, InvokeWithResponseStream), behind the key-or-token check', () => {
    const methods = methodsByRoute(resources);
    const buffered = methods.get('ANY /{proxy+}');
    for (const route of routes) {
      const method = methods.get(`${route.method} ${route.path}`);
      expect(method, route.path).toBeDefined();
      expect(method?.Integration, route.path).toEqual({
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        ResponseTransferMode: 'STREAM',
        TimeoutInMillis: expect.any(Number),
        Uri: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':apigateway:',
              { Ref: 'AWS::Region' },
              ':lambda:path/2021-11-15/functions/',
              { 'Fn::GetAtt': [logicalId(exportsFunction().function), 'Arn'] },
              '/response-streaming-invocations',
            ],
          ],
        },
      });
      // The same check as any protected route.
      expect(method, route.path).toMatchObject({
        ApiKeyRequired: true,
        AuthorizationType: 'CUSTOM',
        AuthorizerId: buffered?.AuthorizerId,
      });
    }
  });

  it('wait for the whole download longer than the function may run, within the 15 minutes of a stream', () => {
    const methods = methodsByRoute(resources);
    for (const route of routes) {
      const integration = methods.get(`GET ${route.path}`)?.Integration as
        | { TimeoutInMillis?: number }
        | undefined;
      const timeout = integration?.TimeoutInMillis ?? 0;
      expect(timeout, route.path).toBeGreaterThan(EXPORT_TIMEOUT.toMilliseconds());
      expect(timeout, route.path).toBeLessThanOrEqual(Duration.minutes(15).toMilliseconds());
    }
    expect(propsOf(exportsFunction()).Timeout).toBe(EXPORT_TIMEOUT.toSeconds());
  });

  it('leave every other method buffered, on the API function', () => {
    const streamed = [...methodsByRoute(resources)].filter(
      ([, method]) =>
        (method.Integration as { ResponseTransferMode?: string } | undefined)
          ?.ResponseTransferMode !== undefined,
    );
    expect(streamed.map(([route]) => route).sort()).toEqual(
      routes.map((route) => `${route.method} ${route.path}`).sort(),
    );
    const api = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.apiFunction.function), 'Arn'] });
    for (const [route, method] of methodsByRoute(resources)) {
      const integration = method.Integration as { Type: string; Uri: unknown } | undefined;
      if (integration?.Type !== 'AWS_PROXY' || streamed.some(([r]) => r === route)) continue;
      expect(JSON.stringify(integration.Uri), route).toContain(api);
      expect(JSON.stringify(integration.Uri), route).toContain('/2015-03-31/functions/');
    }
  });

  it('may invoke the exports function, from this API only (InvokeWithResponseStream is lambda:InvokeFunction)', () => {
    const permissions = ofType(resources, 'AWS::Lambda::Permission').filter(
      ([, permission]) =>
        JSON.stringify(permission.Properties.FunctionName) ===
        JSON.stringify({ 'Fn::GetAtt': [logicalId(exportsFunction().function), 'Arn'] }),
    );
    expect(permissions.map(([, p]) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: expect.anything(),
        Principal: 'apigateway.amazonaws.com',
        SourceArn: {
          'Fn::Join': ['', expect.arrayContaining([{ Ref: logicalId(stack.restApi.api) }])],
        },
      },
    ]);
  });
});

describe('the exports function', () => {
  it('bundles the API’s app (every module, the HTTP layer) from its own entry', () => {
    expect(exportsFunction().bundle).toEqual({ entry: EXPORTS_ENTRY, http: true });
  });

  it('runs with the API function’s configuration, what the modules’ constructs added included', () => {
    const api = propsOf(stack.apiFunction).Environment;
    expect(propsOf(exportsFunction()).Environment).toEqual(api);
    // The auth module's Cognito ids: the app verifies a bearer token again, behind the gateway.
    expect(Object.keys((api as { Variables: object }).Variables)).toEqual(
      expect.arrayContaining(['COGNITO_USER_POOL_ID', 'COGNITO_CLIENT_ID', 'API_KEY_SOURCE']),
    );
  });

  it('may only read, and only the tables the downloads come from', () => {
    const role = logicalId(exportsFunction().function.role as never);
    const statements = statementsOfRole(resources, role);
    const tableArn = (access: TableAccess) => ({
      'Fn::GetAtt': [logicalId(stack.tables.of(access.table)), 'Arn'],
    });
    const declared = exportsAccess(modules, moduleInfra);
    const expected = declared.flatMap((access) => [
      ...access.actions.map((action) => `dynamodb:${action} ${JSON.stringify(tableArn(access))}`),
      ...(access.indexes ?? []).map(
        (index) =>
          `dynamodb:Query ${JSON.stringify({ 'Fn::Join': ['', [tableArn(access), `/index/${index}`]] })}`,
      ),
    ]);
    expect([...grantPairs(statements, 'dynamodb:')].sort()).toEqual(expected.sort());
    expect(new Set(declared.map((access) => access.table))).toEqual(
      new Set([eventsTable, enrollmentsTable, slaErrorsTable]),
    );
    for (const access of declared) {
      expect(
        access.actions.every((action) => ['GetItem', 'BatchGetItem', 'Query'].includes(action)),
      ).toBe(true);
    }
    // Besides: the master secret, and X-Ray. No queue, workflow, schedule, bus or other write.
    const others = new Set(
      statements
        .flatMap((statement) => [statement.Action].flat())
        .filter((action) => !action.startsWith('dynamodb:')),
    );
    expect([...others].sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it('has its errors and throttles watched like every Roster function', () => {
    const watched = ofType(resources, 'AWS::CloudWatch::Alarm')
      .map(([, alarm]) => alarm.Properties)
      .filter((alarm) =>
        JSON.stringify(alarm.Dimensions ?? []).includes(
          JSON.stringify({ Ref: logicalId(exportsFunction().function) }),
        ),
      )
      .map((alarm) => alarm.MetricName);
    expect(watched.sort()).toEqual(['Errors', 'Throttles']);
  });

  it('leaves no cdk-nag finding on it or its methods unacknowledged', () => {
    const acknowledgements = acknowledgementsIn(stack);
    const ours = nag.findings.filter(
      (finding) =>
        finding.path.startsWith(exportsFunction().node.path) ||
        routes.some((route) => finding.path.includes(`${route.path.split('/').pop()}/GET`)),
    );
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter((finding) => !acknowledgements.some((a) => covers(a, finding)))).toEqual([]);
  });

  it('is not there when no module has a download', async () => {
    const { stack: without } = await rosterStack({
      id: 'Roster-no-exports',
      props: { modules: [customersModule] },
    });
    expect(without.exportsFunction).toBeUndefined();
  });
});
