import { type Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS } from '../../src/platform/http/headers.js';
import { problemType } from '../../src/platform/http/problem.js';
import type { PublicRoute } from '../../src/platform/http/public-routes.js';
import { OriginGuard } from './origin-guard.js';

/** A gateway response header copied from the request's `Origin`. */
export const ORIGIN_FROM_REQUEST = 'method.request.header.origin';

export interface ThrottleSettings {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface RosterRestApiProps {
  readonly stage: string;
  readonly handler: lambda.IFunction;
  /** Methods without an API key: the app's public routes (src/runtime/describe.ts). */
  readonly publicRoutes: readonly PublicRoute[];
  /**
   * Methods that take a bearer token and no API key (`withBearerToken` routes): they get the
   * token authorizer, once one is given (`useAuthorizers`).
   */
  readonly bearerOnlyRoutes?: readonly PublicRoute[];
  /**
   * Downloads answered by a function of their own through the streaming proxy integration, with
   * the same credential check as any protected method (see `addRoutes`).
   */
  readonly exports?: StreamedRoutes;
  /** Allowed CORS origins; `['*']` for any. */
  readonly corsOrigins: readonly string[];
  /** Whole-stage throttle, applied before any usage plan. */
  readonly stageThrottle: ThrottleSettings;
  /** Per-key throttle and daily quota of the default usage plan. */
  readonly usagePlanThrottle: ThrottleSettings;
  readonly usagePlanDailyQuota: number;
  readonly logRetention?: logs.RetentionDays;
}

/** Routes the gateway streams from their function instead of buffering its answer. */
export interface StreamedRoutes {
  readonly handler: lambda.IFunction;
  /** GET routes (OpenAPI path templates). */
  readonly routes: readonly PublicRoute[];
  /** How long the gateway waits for the whole answer (streaming allows up to 15 minutes). */
  readonly timeout: Duration;
}

interface GatewayProblem {
  readonly type: apigateway.ResponseType;
  /** Omitted for the DEFAULT_* fallbacks, which keep the status API Gateway chose. */
  readonly status?: number;
  readonly title: string;
  readonly code: string;
  /** Fixed text; when absent, API Gateway's own message (`$context.error.messageString`). */
  readonly detail?: string;
  readonly headers?: Record<string, string>;
}

/**
 * The gateway's own credential checks, from the module that issues tokens. Without them the
 * gateway checks API keys alone (API key source HEADER).
 */
export interface GatewayAuthorizers {
  /**
   * On every protected method: accepts an API key or a bearer token and returns the API key to
   * meter the call under (`usageIdentifierKey`; the API key source becomes AUTHORIZER).
   */
  readonly keyOrToken: apigateway.IAuthorizer;
  /** On bearer-only methods: accepts a bearer access token, nothing else. */
  readonly tokenOnly: apigateway.IAuthorizer;
  /** Scopes the token-only authorizer requires (Cognito checks access tokens by scope). */
  readonly tokenScopes?: readonly string[];
}

/**
 * Errors API Gateway answers by itself, before the Lambda runs, shaped like the app's problem
 * documents (`src/platform/http/problem.ts`): same `type` scheme, same codes where they exist.
 */
const GATEWAY_PROBLEMS: readonly GatewayProblem[] = [
  {
    // Sent for a missing key as well as a wrong one: REST APIs have no separate "missing" type.
    type: apigateway.ResponseType.INVALID_API_KEY,
    status: 401,
    title: 'Unauthorized',
    code: 'AUTH.UNAUTHORIZED',
    detail: 'A valid API key is required in the x-api-key header.',
  },
  {
    // The authorizer Lambda failed or timed out (not: refused a credential).
    type: apigateway.ResponseType.AUTHORIZER_FAILURE,
    status: 503,
    title: 'Service Unavailable',
    code: 'AUTH.UNAVAILABLE',
    detail: 'Credentials could not be checked right now; retry later.',
    headers: { 'Retry-After': "'1'" },
  },
  {
    type: apigateway.ResponseType.UNAUTHORIZED,
    status: 401,
    title: 'Unauthorized',
    code: 'AUTH.UNAUTHORIZED',
    detail: 'Missing or invalid credentials.',
  },
  {
    type: apigateway.ResponseType.ACCESS_DENIED,
    status: 403,
    title: 'Forbidden',
    code: 'AUTH.FORBIDDEN',
    detail: 'The credentials do not allow this request.',
  },
  {
    type: apigateway.ResponseType.THROTTLED,
    status: 429,
    title: 'Too Many Requests',
    code: 'REQUEST.THROTTLED',
    detail: 'Request rate limit exceeded; retry later.',
    headers: { 'Retry-After': "'1'" },
  },
  {
    type: apigateway.ResponseType.QUOTA_EXCEEDED,
    status: 429,
    title: 'Too Many Requests',
    code: 'REQUEST.QUOTA_EXCEEDED',
    detail: 'The usage plan quota for this API key is exhausted.',
  },
  {
    // What REST APIs answer for a path or method with no matching resource.
    type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    status: 404,
    title: 'Not Found',
    code: 'REQUEST.ROUTE_NOT_FOUND',
    detail: 'No route matches this method and path.',
  },
  {
    type: apigateway.ResponseType.RESOURCE_NOT_FOUND,
    status: 404,
    title: 'Not Found',
    code: 'REQUEST.ROUTE_NOT_FOUND',
    detail: 'No route matches this method and path.',
  },
  {
    type: apigateway.ResponseType.REQUEST_TOO_LARGE,
    status: 413,
    title: 'Payload Too Large',
    code: 'REQUEST.PAYLOAD_TOO_LARGE',
    detail: 'The request body is too large.',
  },
  {
    type: apigateway.ResponseType.INTEGRATION_TIMEOUT,
    status: 504,
    title: 'Gateway Timeout',
    code: 'GATEWAY.TIMEOUT',
    detail: 'The request took too long to process.',
  },
  {
    type: apigateway.ResponseType.DEFAULT_4XX,
    title: 'Bad Request',
    code: 'GATEWAY.CLIENT_ERROR',
  },
  {
    type: apigateway.ResponseType.DEFAULT_5XX,
    title: 'Internal Server Error',
    code: 'GATEWAY.SERVER_ERROR',
  },
];

/** A gateway response template: JSON text with API Gateway `$context` substitutions. */
export function problemTemplate(problem: GatewayProblem): string {
  const fields = [
    `"type":${JSON.stringify(problemType(problem.code))}`,
    `"title":${JSON.stringify(problem.title)}`,
    ...(problem.status === undefined ? [] : [`"status":${problem.status}`]),
    `"detail":${problem.detail === undefined ? '$context.error.messageString' : JSON.stringify(problem.detail)}`,
    `"code":${JSON.stringify(problem.code)}`,
    '"requestId":"$context.requestId"',
  ];
  return `{${fields.join(',')}}`;
}

/** API Gateway (REST: the API type with API keys and usage plans) in front of the API Lambda. */
export class RosterRestApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly apiKey: apigateway.IApiKey;
  readonly usagePlan: apigateway.UsagePlan;
  readonly accessLogGroup: logs.LogGroup;
  /** With several allowed origins: the web ACL that refuses the others (see OriginGuard). */
  readonly originGuard: OriginGuard | undefined;
  private authorizers: GatewayAuthorizers | undefined;
  private routesAdded = false;

  constructor(scope: Construct, id: string, props: RosterRestApiProps) {
    super(scope, id);

    const allOrigins = props.corsOrigins.includes('*');
    const allowOrigins = allOrigins ? apigateway.Cors.ALL_ORIGINS : [...props.corsOrigins];

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `roster-${props.stage}`,
      description: `Roster HTTP API (${props.stage})`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      apiKeySourceType: apigateway.ApiKeySourceType.HEADER,
      // Lambda proxy responses marked isBase64Encoded (the docs favicon) are only decoded when
      // the request's first Accept type is binary; browsers send image/avif or text/html first.
      binaryMediaTypes: ['*/*'],
      // Answers over 8 KiB are gzipped for clients that accept it: a door device's ticket manifest
      // (~1.5 MB of JSON for 10,000 attendees, ~0.3 MB gzipped), a list as CSV. Not a streamed
      // answer (the `.csv` downloads): the gateway compresses none, their function does.
      minCompressionSize: Size.kibibytes(8),
      // Access and execution logging need the account-level CloudWatch role. RETAIN: other stacks
      // in the account and region may rely on it after this one is gone.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultIntegration: new apigateway.LambdaIntegration(props.handler, {
        proxy: true,
        // One invoke permission for the whole API instead of one per method.
        scopePermissionToMethod: false,
      }),
      // Secure by default: a method is public only where the app declares a public route.
      defaultMethodOptions: { apiKeyRequired: true },
      defaultCorsPreflightOptions: {
        allowOrigins,
        allowMethods: apigateway.Cors.ALL_METHODS,
        allowHeaders: [...CORS_ALLOW_HEADERS],
        exposeHeaders: [...CORS_EXPOSE_HEADERS],
      },
      deployOptions: {
        stageName: props.stage,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        throttlingRateLimit: props.stageThrottle.rateLimit,
        throttlingBurstLimit: props.stageThrottle.burstLimit,
      },
    });

    this.routes = {
      public: props.publicRoutes,
      bearerOnly: props.bearerOnlyRoutes ?? [],
      streamed: props.exports,
    };
    // API Gateway's own answers (a refused credential, a throttle) and CORS: any origin, the one
    // allowed origin, or — with several — the caller's, copied from its request once the origin
    // guard has let only allowed origins through (see OriginGuard).
    const several = !allOrigins && props.corsOrigins.length > 1;
    this.addGatewayResponses(
      several
        ? { 'Access-Control-Allow-Origin': ORIGIN_FROM_REQUEST, Vary: "'Origin'" }
        : { 'Access-Control-Allow-Origin': `'${allOrigins ? '*' : props.corsOrigins[0]}'` },
    );
    this.originGuard = several
      ? new OriginGuard(this, 'OriginGuard', {
          stage: props.stage,
          origins: props.corsOrigins,
          apiStage: this.api.deploymentStage,
        })
      : undefined;

    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      name: `roster-${props.stage}-default`,
      description: 'Default plan: per-key throttle and daily quota',
      throttle: props.usagePlanThrottle,
      quota: { limit: props.usagePlanDailyQuota, period: apigateway.Period.DAY },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    this.apiKey = this.api.addApiKey('DefaultKey', {
      description: `Default API key for roster-${props.stage}`,
    });
    this.usagePlan.addApiKey(this.apiKey);
  }

  private readonly routes: {
    readonly public: readonly PublicRoute[];
    readonly bearerOnly: readonly PublicRoute[];
    readonly streamed: StreamedRoutes | undefined;
  };

  /**
   * Puts the token issuer's authorizers on the gateway (see GatewayAuthorizers). Called by the
   * module that issues tokens, before the stack adds the routes.
   */
  useAuthorizers(authorizers: GatewayAuthorizers): void {
    if (this.routesAdded) throw new Error('useAuthorizers must come before addRoutes');
    this.authorizers = authorizers;
    (this.api.node.defaultChild as apigateway.CfnRestApi).apiKeySourceType =
      apigateway.ApiKeySourceType.AUTHORIZER;
  }

  /** A throttle tighter than the stage's on one route (`POST /auth/token`), added late. */
  throttleRoute(route: string, throttle: ThrottleSettings): void {
    const [method = '', path = ''] = route.split(' ');
    const stage = this.api.deploymentStage.node.defaultChild as apigateway.CfnStage;
    const settings = (stage.methodSettings ?? []) as apigateway.CfnStage.MethodSettingProperty[];
    stage.methodSettings = [
      ...settings,
      {
        resourcePath: `/${path.replaceAll('/', '~1')}`,
        httpMethod: method.toUpperCase(),
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
      },
    ];
  }

  /**
   * Adds the methods, once every module's construct has run (the stack calls it last).
   * `ANY /{proxy+}` (and `ANY /`) send everything to the app behind the credential check (an
   * API key, or with authorizers a key or a bearer token); public routes get their own method
   * without one; bearer-only routes get their own method behind the token authorizer, with no
   * key; streamed routes a GET behind the same check as `ANY /{proxy+}`, integrated with their
   * own function in STREAM mode (API Gateway then calls InvokeWithResponseStream). Each resource
   * created for any of them also gets a protected `ANY` (and a bearer-only or streamed route's
   * resource a protected `{proxy+}` below it), so other methods and paths there reach the app
   * (405, 404) instead of stopping at API Gateway.
   */
  addRoutes(): void {
    if (this.routesAdded) return;
    this.routesAdded = true;
    const root = this.api.root;
    const protectedOptions: apigateway.MethodOptions = this.authorizers
      ? {
          apiKeyRequired: true,
          authorizer: this.authorizers.keyOrToken,
          authorizationType: apigateway.AuthorizationType.CUSTOM,
        }
      : { apiKeyRequired: true };
    const protect = (resource: apigateway.IResource) => {
      for (let r: apigateway.IResource | undefined = resource; r; r = r.parentResource) {
        if (!r.node.tryFindChild('ANY')) r.addMethod('ANY', undefined, protectedOptions);
      }
    };
    protect(root); // first: a root proxy adds a root ANY of its own unless one exists
    root.addProxy({ anyMethod: true, defaultMethodOptions: protectedOptions });

    for (const route of this.routes.public) {
      const resource = route.path === '/' ? root : root.resourceForPath(route.path);
      resource.addMethod(route.method, undefined, { apiKeyRequired: false });
      protect(resource);
    }
    this.addStreamedRoutes(protectedOptions);
    if (!this.authorizers) return;
    const { tokenOnly, tokenScopes } = this.authorizers;
    for (const route of this.routes.bearerOnly) {
      const resource = root.resourceForPath(route.path);
      resource.addMethod(route.method, undefined, {
        apiKeyRequired: false,
        authorizer: tokenOnly,
        authorizationType: apigateway.AuthorizationType.COGNITO,
        ...(tokenScopes ? { authorizationScopes: [...tokenScopes] } : {}),
      });
      protect(resource);
      if (!resource.node.tryFindChild('{proxy+}')) {
        resource.addProxy({ anyMethod: true, defaultMethodOptions: protectedOptions });
      }
    }
  }

  /**
   * The streamed routes: a GET behind the same check as `ANY /{proxy+}`, integrated with their
   * function in STREAM mode. API Gateway looks no further up for a `{proxy+}` once a resource has
   * matched a segment, so each resource on the way gets a protected `ANY` and, unless a path
   * parameter there already takes what is below it (a resource may have one variable child), a
   * protected `{proxy+}` below it.
   */
  private addStreamedRoutes(protectedOptions: apigateway.MethodOptions): void {
    const streamed = this.routes.streamed;
    if (!streamed) return;
    const root = this.api.root;
    const integration = new apigateway.LambdaIntegration(streamed.handler, {
      proxy: true,
      responseTransferMode: apigateway.ResponseTransferMode.STREAM,
      timeout: streamed.timeout,
      scopePermissionToMethod: false,
    });
    for (const route of streamed.routes) {
      const resource = root.resourceForPath(route.path);
      resource.addMethod(route.method, integration, protectedOptions);
      for (let r: apigateway.IResource | undefined = resource; r !== root; r = r.parentResource) {
        if (!r) break;
        if (!r.node.tryFindChild('ANY')) r.addMethod('ANY', undefined, protectedOptions);
        const variable = r.node.children.some(
          (child) => child instanceof apigateway.Resource && child.path.endsWith('}'),
        );
        if (!variable) r.addProxy({ anyMethod: true, defaultMethodOptions: protectedOptions });
      }
    }
  }

  private addGatewayResponses(cors: Record<string, string>): void {
    for (const problem of GATEWAY_PROBLEMS) {
      this.api.addGatewayResponse(problem.type.responseType, {
        type: problem.type,
        ...(problem.status === undefined ? {} : { statusCode: String(problem.status) }),
        responseHeaders: {
          ...cors,
          'Content-Type': "'application/problem+json'",
          ...problem.headers,
        },
        templates: { 'application/json': problemTemplate(problem) },
      });
    }
  }
}
