import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { modules } from '../../src/modules/index.js';
import { streamedRoutesOf } from '../../src/platform/http/public-routes.js';
import { USER_POOL_ACCESS_SCOPE } from '../../src/platform/tokens/tokens.js';
import { describeApi } from '../../src/runtime/describe.js';
import { ofType, type Resource, rosterStack, synthStack } from '../support/template.js';

/*
 * One source of truth for who may call what: the routes' declarations (`security: []` public,
 * `withBearerToken` bearer-only, the rest "an API key or a bearer token"), as the app's own
 * /openapi.json states them. Every operation of that document must reach the API Lambda through
 * API Gateway with exactly that check at the gateway, found the way API Gateway routes a request
 * (the most specific resource, then the method or ANY): the CSV downloads streamed from the
 * exports function, everything else from the API function. Bundling is skipped.
 */

interface Method {
  readonly httpMethod: string;
  readonly props: Record<string, unknown>;
}
interface Node {
  readonly part: string;
  readonly children: Node[];
  readonly methods: Method[];
}

let resources: Record<string, Resource>;
let root: Node;
let apiFunction: string;
let exportsFunction: string;
/** `GET /sla-errors.csv`…: the routes streamed from the exports function. */
let streamed: Set<string>;
let operations: { method: string; path: string; security: unknown }[];

beforeAll(async () => {
  const synthed = await synthStack({ id: 'Roster-routes' });
  resources = synthed.resources;
  const { stack } = synthed;
  apiFunction = stack.getLogicalId(stack.apiFunction.function.node.defaultChild as never);
  exportsFunction = stack.getLogicalId(stack.exportsFunction?.function.node.defaultChild as never);
  root = gatewayTree(resources);

  const described = describeApi(modules);
  streamed = new Set(streamedRoutesOf(described.app).map((r) => `${r.method} ${r.path}`));
  const doc = (await (await described.app.request('/openapi.json')).json()) as {
    security: unknown;
    paths: Record<string, Record<string, { security?: unknown }>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      security: operation.security ?? doc.security,
    })),
  );
  // The documentation routes live outside the document they serve; they are public too.
  const documented = new Set(operations.map((op) => `${op.method} ${op.path}`));
  for (const route of described.publicRoutes) {
    if (!documented.has(`${route.method} ${route.path}`)) {
      operations.push({ method: route.method, path: route.path, security: [] });
    }
  }
  return synthed.cleanup;
}, 120_000);

describe('every operation of /openapi.json at the gateway', () => {
  it('is documented (the document is not empty)', () => {
    expect(operations.length).toBeGreaterThan(25);
  });

  it('reaches its Lambda (proxy integration): a CSV download the exports function, the rest the API', () => {
    expect(streamed.size).toBeGreaterThan(0);
    for (const op of operations) {
      const method = route(op.method, op.path);
      const fn = streamed.has(`${op.method} ${op.path}`) ? exportsFunction : apiFunction;
      expect(method, `${op.method} ${op.path}`).toBeDefined();
      expect(method?.props.Integration, `${op.method} ${op.path}`).toMatchObject({
        Type: 'AWS_PROXY',
        Uri: { 'Fn::Join': ['', expect.arrayContaining([{ 'Fn::GetAtt': [fn, 'Arn'] }])] },
      });
    }
  });

  it('is checked at the gateway as its declaration says: public, bearer-only, or key-or-token', () => {
    const checks = operations.map((op) => {
      const props = route(op.method, op.path)?.props ?? {};
      return {
        route: `${op.method} ${op.path}`,
        declared: kindOf(op.security),
        gateway: {
          apiKeyRequired: props.ApiKeyRequired === true,
          authorization: props.AuthorizationType,
          scopes: props.AuthorizationScopes,
        },
      };
    });
    for (const { route, declared, gateway } of checks) {
      const expected =
        declared === 'public'
          ? { apiKeyRequired: false, authorization: 'NONE', scopes: undefined }
          : declared === 'bearer-only'
            ? {
                apiKeyRequired: false,
                authorization: 'COGNITO_USER_POOLS',
                scopes: [USER_POOL_ACCESS_SCOPE],
              }
            : { apiKeyRequired: true, authorization: 'CUSTOM', scopes: undefined };
      expect(gateway, `${route} (${declared})`).toEqual(expected);
    }
    // All three kinds exist, so none of the branches above is vacuous.
    expect(new Set(checks.map((check) => check.declared))).toEqual(
      new Set(['public', 'bearer-only', 'key-or-token']),
    );
  });

  it('makes a method opened by mistake a cdk-nag error (public methods are acknowledged one by one)', async () => {
    const { app, stack } = await rosterStack({ id: 'Roster-oops' });
    stack.restApi.api.root.addResource('oops').addMethod('GET', undefined, {
      apiKeyRequired: false,
      authorizationType: apigateway.AuthorizationType.NONE,
    });
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const open = report.violations
      .filter((violation) => violation.ruleName === 'AwsSolutions-APIG4')
      .flatMap((violation) => violation.violatingResources.map((r) => r.constructPath));
    expect(open).toEqual(['Roster-oops/Http/Api/Default/oops/GET/Resource']);
  });

  it('leaves no other method open: a path nobody declared still needs a credential', () => {
    for (const [method, path] of [
      ['GET', '/no/such/route'],
      ['DELETE', '/health'],
      ['PUT', '/auth/token'],
      ['GET', '/sla-errors/x/y'],
      ['POST', '/docs/assets/x'],
      ['POST', '/sla-errors.csv'],
      ['GET', '/events/x/registrations.csv/y'],
    ] as const) {
      expect(route(method, path)?.props, `${method} ${path}`).toMatchObject({
        ApiKeyRequired: true,
        AuthorizationType: 'CUSTOM',
      });
    }
  });
});

type Kind = 'public' | 'bearer-only' | 'key-or-token';

function kindOf(security: unknown): Kind {
  const schemes = (security as Record<string, unknown>[]).map((entry) => Object.keys(entry));
  if (schemes.length === 0) return 'public';
  if (schemes.length === 1 && schemes[0]?.join() === 'Bearer') return 'bearer-only';
  expect(new Set(schemes.flat())).toEqual(new Set(['ApiKey', 'Bearer']));
  return 'key-or-token';
}

/** The method API Gateway would run for `method path`, or undefined (a gateway 404/403). */
function route(method: string, path: string): Method | undefined {
  // A documented template (`/events/{eventId}`) is called with a value in each parameter.
  const segments = path
    .replace(/\{[^}]+\}/g, 'value')
    .split('/')
    .filter(Boolean);
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const literal = node.children.find((child) => child.part === segment);
    const parameter = node.children.find((child) => /^\{[^+]+\}$/.test(child.part));
    const greedy = node.children.find((child) => /^\{.+\+\}$/.test(child.part));
    const next = literal ?? parameter;
    if (next) {
      node = next;
      continue;
    }
    if (!greedy) return undefined;
    node = greedy;
    break;
  }
  return (
    node.methods.find((m) => m.httpMethod === method) ??
    node.methods.find((m) => m.httpMethod === 'ANY')
  );
}

/** The REST API's resources as a tree, each with its methods. */
function gatewayTree(all: Record<string, Resource>): Node {
  const nodes = new Map<string, Node>();
  const rootNode: Node = { part: '', children: [], methods: [] };
  const nodeOf = (ref: unknown): Node => {
    const id = (ref as { Ref?: string }).Ref;
    if (!id) return rootNode; // Fn::GetAtt RootResourceId
    const existing = nodes.get(id);
    if (existing) return existing;
    const props = all[id]?.Properties as { PathPart: string; ParentId: unknown };
    const created: Node = { part: props.PathPart, children: [], methods: [] };
    nodes.set(id, created);
    nodeOf(props.ParentId).children.push(created);
    return created;
  };
  for (const [id] of ofType(all, 'AWS::ApiGateway::Resource')) nodeOf({ Ref: id });
  for (const [, method] of ofType(all, 'AWS::ApiGateway::Method')) {
    nodeOf(method.Properties.ResourceId).methods.push({
      httpMethod: method.Properties.HttpMethod as string,
      props: method.Properties,
    });
  }
  return rootNode;
}
