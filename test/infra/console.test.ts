import type { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { consoleDist, ensureConsoleBuilt } from '../../console/scripts/console-build.js';
import { ROUTING_FUNCTION_CODE, withConsoleOrigin } from '../../infra/constructs/console.js';
import { ORIGIN_FROM_REQUEST } from '../../infra/constructs/rest-api.js';
import type { RosterStack } from '../../infra/roster-stack.js';
import {
  type RecordingAwsSolutionsChecks,
  staleAcknowledgements,
  unacknowledgedFindings,
} from '../support/nag.js';
import { ofType as ofTypeIn, type Resource, synthStack } from '../support/template.js';
import { functionLogGroups } from './function-log-groups.js';

/**
 * The web console on AWS (infra/constructs/console.ts, wired in RosterStack): template
 * assertions and cdk-nag on a stack with the console and a restricted CORS list. Lambda bundling
 * is skipped (`aws:cdk:bundling-stacks: []`): roster-stack.test.ts covers the bundles.
 */

const ADMIN_ORIGIN = 'https://admin.example';

type Json = Record<string, unknown>;

let app: App;
let stack: RosterStack;
let nag: RecordingAwsSolutionsChecks;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(async () => {
  await ensureConsoleBuilt();
  const synthed = await synthStack({
    id: 'Roster-console',
    nag: true,
    props: { corsOrigins: [ADMIN_ORIGIN], console: { assetsDir: consoleDist } },
  });
  ({ app, stack, nag, template, resources } = synthed);
  return synthed.cleanup;
}, 120_000);

const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

const ofType = (type: string) => ofTypeIn(resources, type);

/** Every logical id a value refers to (Ref, Fn::GetAtt), at any depth. */
function referencesIn(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencesIn(item, found);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value as Json)) {
      if (key === 'Ref' && typeof inner === 'string') found.add(inner);
      else if (key === 'Fn::GetAtt' && Array.isArray(inner)) found.add(String(inner[0]));
      else referencesIn(inner, found);
    }
  }
  return found;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the template has no ${what}`);
  return value;
}

const consoleOf = () => {
  if (!stack.console) throw new Error('the stack has no console');
  return stack.console;
};

describe('the console bucket', () => {
  it('is private: public access blocked, SSL required, encrypted, no website hosting', () => {
    const bucket = resources[logicalId(consoleOf().bucket)];
    expect(bucket?.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
    });
    expect(bucket?.Properties.WebsiteConfiguration).toBeUndefined();
  });

  it('lets only this distribution read it (origin access control), and only over TLS', () => {
    const bucketId = logicalId(consoleOf().bucket);
    const [, policy] = required(
      ofType('AWS::S3::BucketPolicy').find(
        ([, resource]) => (resource.Properties.Bucket as Json).Ref === bucketId,
      ),
      'console bucket policy',
    );
    const statements = (policy.Properties.PolicyDocument as { Statement: Json[] }).Statement;

    const read = statements.find(
      (statement) => (statement.Principal as Json)?.Service === 'cloudfront.amazonaws.com',
    );
    expect(read).toMatchObject({ Effect: 'Allow', Action: 's3:GetObject' });
    expect(referencesIn(read?.Condition)).toContain(logicalId(consoleOf().distribution));
    const denyPlainHttp = statements.find(
      (statement) =>
        statement.Effect === 'Deny' &&
        JSON.stringify(statement.Condition).includes('aws:SecureTransport'),
    );
    expect(denyPlainHttp).toBeDefined();
    const [[, oac] = []] = ofType('AWS::CloudFront::OriginAccessControl');
    expect(oac?.Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
  });
});

describe('the distribution', () => {
  const config = () =>
    resources[logicalId(consoleOf().distribution)]?.Properties.DistributionConfig as Json & {
      DefaultCacheBehavior: Json;
      Origins: Json[];
    };

  it('serves HTTPS only, GET/HEAD, compressed, through the S3 origin with OAC', () => {
    expect(config().DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD'],
      Compress: true,
    });
    expect(config().Origins).toHaveLength(1);
    expect(config().Origins[0]).toMatchObject({ S3OriginConfig: { OriginAccessIdentity: '' } });
    expect(referencesIn(config().Origins[0]?.OriginAccessControlId).size).toBe(1);
    expect(config().Logging).toBeDefined();
  });

  it('sends a strict CSP naming the API as the only other origin, and the security headers', () => {
    const policy = resources[logicalId(consoleOf().responseHeaders)]?.Properties
      .ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Json };
    const headers = policy.SecurityHeadersConfig;
    const csp = JSON.stringify((headers.ContentSecurityPolicy as Json).ContentSecurityPolicy);

    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain('.execute-api.');
    expect(referencesIn(headers.ContentSecurityPolicy)).toEqual(
      new Set([logicalId(stack.restApi.api as never), 'AWS::Region', 'AWS::URLSuffix']),
    );
    expect(headers).toMatchObject({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 31_536_000, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
    });
    expect(referencesIn(config().DefaultCacheBehavior.ResponseHeadersPolicyId)).toContain(
      logicalId(consoleOf().responseHeaders),
    );
  });

  it('routes client paths to index.html at the edge, as the local server does', () => {
    const route = new Function(`${ROUTING_FUNCTION_CODE}; return handler;`)() as (event: {
      request: { uri: string };
    }) => { uri?: string; statusCode?: number; headers?: Json };
    const uriFor = (uri: string) => route({ request: { uri } });

    expect(uriFor('/').statusCode).toBe(301);
    expect(uriFor('/console').headers).toEqual({ location: { value: '/console/' } });
    expect(uriFor('/console/').uri).toBe('/console/index.html');
    expect(uriFor('/console/events/tech-conf-2024/edit').uri).toBe('/console/index.html');
    expect(uriFor('/console/config.json').uri).toBe('/console/config.json');
    expect(uriFor('/console/assets/index-abc.js').uri).toBe('/console/assets/index-abc.js');
    expect(uriFor('/console/assets/missing').uri).toBe('/console/assets/missing');
    expect(uriFor('/other').uri).toBe('/other');

    const [[, fn] = []] = ofType('AWS::CloudFront::Function');
    expect(fn?.Properties.FunctionCode).toBe(ROUTING_FUNCTION_CODE);
    expect(JSON.stringify(config().DefaultCacheBehavior.FunctionAssociations)).toContain(
      'viewer-request',
    );
  });
});

describe('the deployment of the build', () => {
  const deployments = () =>
    ofType('Custom::CDKBucketDeployment').map(([, resource]) => resource.Properties);

  it('uploads hashed assets immutable, then the pages with no-cache and an invalidation', () => {
    const [assets, pages] = [
      deployments().find((d) => d.DestinationBucketKeyPrefix === 'console/assets/'),
      deployments().find((d) => d.DestinationBucketKeyPrefix === 'console/'),
    ];
    expect(deployments()).toHaveLength(2);
    expect(assets).toMatchObject({
      Prune: false,
      SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
    });
    expect(pages).toMatchObject({
      Prune: false,
      SystemMetadata: { 'cache-control': 'no-cache' },
      DistributionPaths: ['/console/*'],
    });
    expect(referencesIn(pages?.DistributionId)).toContain(logicalId(consoleOf().distribution));
  });

  it('writes config.json with the API URL given at deploy time', () => {
    const pages = deployments().find((d) => d.DestinationBucketKeyPrefix === 'console/');
    const markers = JSON.stringify(pages?.SourceMarkers);
    expect(referencesIn(pages?.SourceMarkers)).toContain(logicalId(stack.restApi.api as never));
    expect(markers).toContain('.execute-api.');
    expect(JSON.stringify(pages?.SourceMarkersConfig)).toContain('jsonEscape');
  });
});

describe('the API with the console', () => {
  it('adds the console origin to the API’s CORS list (function and preflights)', () => {
    const fn = required(resources[logicalId(stack.apiFunction.function)], 'API function');
    const cors = (fn.Properties.Environment as { Variables: Json }).Variables.CORS_ORIGINS;
    expect(JSON.stringify(cors)).toContain(ADMIN_ORIGIN);
    expect(referencesIn(cors)).toEqual(new Set([logicalId(consoleOf().distribution)]));

    const preflight = ofType('AWS::ApiGateway::Method').find(
      ([, method]) => method.Properties.HttpMethod === 'OPTIONS',
    )?.[1];
    expect(referencesIn(preflight?.Properties.Integration)).toContain(
      logicalId(consoleOf().distribution),
    );
  });

  it('answers the console with its own origin in API Gateway’s own error answers (a wrong key’s 401), so it can show them', () => {
    const [, unauthorized] = required(
      ofType('AWS::ApiGateway::GatewayResponse').find(
        ([, response]) => response.Properties.ResponseType === 'INVALID_API_KEY',
      ),
      'INVALID_API_KEY gateway response',
    );
    // Two origins (the console and the admin one): the caller's own origin is copied…
    expect(unauthorized.Properties.ResponseParameters).toMatchObject({
      'gatewayresponse.header.Access-Control-Allow-Origin': ORIGIN_FROM_REQUEST,
      'gatewayresponse.header.Vary': "'Origin'",
    });
    // …after the origin guard has refused every origin but these two.
    const guard = required(stack.restApi.originGuard, 'origin guard');
    const acl = required(resources[stack.getLogicalId(guard.webAcl)], 'web ACL');
    const rule = JSON.stringify(acl.Properties.Rules);
    expect(rule).toContain(ADMIN_ORIGIN);
    expect(referencesIn(acl.Properties.Rules)).toEqual(
      new Set([logicalId(consoleOf().distribution)]),
    );
  });

  it('keeps "*" as it is when any origin is allowed already', () => {
    expect(withConsoleOrigin(['*'], 'https://d1.cloudfront.net')).toEqual(['*']);
    expect(withConsoleOrigin([ADMIN_ORIGIN], undefined)).toEqual([ADMIN_ORIGIN]);
  });

  it('has no dependency cycle between the API and the console (CloudFormation would refuse it)', () => {
    const edges = new Map<string, Set<string>>();
    for (const [id, resource] of Object.entries(resources)) {
      const targets = referencesIn(resource.Properties);
      for (const dependency of [resource.DependsOn ?? []].flat()) targets.add(dependency);
      edges.set(id, new Set([...targets].filter((target) => target in resources)));
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycle: string[] = [];
    const visit = (id: string, path: string[]): boolean => {
      if (state.get(id) === 'done') return false;
      if (state.get(id) === 'visiting') {
        cycle.push(...path.slice(path.indexOf(id)), id);
        return true;
      }
      state.set(id, 'visiting');
      for (const next of edges.get(id) ?? []) if (visit(next, [...path, id])) return true;
      state.set(id, 'done');
      return false;
    };
    for (const id of edges.keys()) if (visit(id, [])) break;
    expect(cycle).toEqual([]);
  });

  it('outputs the console URL', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.ConsoleUrl?.Value)).toContain('/console/');
    expect(referencesIn(outputs.ConsoleUrl?.Value)).toEqual(
      new Set([logicalId(consoleOf().distribution)]),
    );
  });
});

describe('logs with the console', () => {
  it('gives every function, CDK’s upload function included, a log group /aws/lambda/<its name> kept for a month', () => {
    const found = functionLogGroups(resources);
    // The Roster functions and the BucketDeployment singleton both deployments share.
    expect(found).toHaveLength(stack.rosterFunctions().length + 1);
    for (const { functionId, groupId, group } of found) {
      expect(groupId, `${functionId} has no log group named after it`).toBeDefined();
      expect(group?.Properties.RetentionInDays, functionId).toBe(30);
      expect(group?.DeletionPolicy, functionId).toBe('Delete');
    }
  });
});

describe('cdk-nag (AwsSolutions) with the console', () => {
  it('finds no unacknowledged errors or warnings', () => {
    expect(unacknowledgedFindings(nag, app)).toEqual([]);
  });
});

describe('cdk-nag acknowledgements with the console', () => {
  it('acknowledges only findings it has (the console’s, the origin guard’s included)', () => {
    expect(staleAcknowledgements(nag, app)).toEqual([]);
  });
});
