import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { ModuleAccess } from '../../../infra/access.js';
import { RosterFunction } from '../../../infra/constructs/roster-function.js';
import type { ModuleInfra } from '../../../infra/module-infra.js';
import { acknowledge } from '../../../infra/nag.js';
import { USER_POOL_ACCESS_SCOPE } from '../../platform/tokens/tokens.js';
import { authTable } from './auth.resources.js';
import { PASSWORD_POLICY } from './auth.rules.js';

export const AUTHORIZER_ENTRY = 'src/runtime/lambda/authorizer.ts';

/**
 * What each auth function does on its table. On AWS the users live in Cognito: the API only keeps
 * the per-username sign-in throttle (conditional updates of one item per username); the
 * authorizer verifies tokens and reads nothing.
 */
export const access: ModuleAccess = {
  api: [{ table: authTable, actions: ['UpdateItem'] }],
  authorizer: [],
};

/** `POST /auth/token` at the gateway: password guessing is slow before it reaches the app. */
export const TOKEN_ROUTE_THROTTLE = { rateLimit: 5, burstLimit: 10 } as const;

/**
 * auth on AWS (docs/decisions/auth.md):
 * - a Cognito user pool (no self sign-up, the password policy of auth.rules.ts, threat
 *   protection) and an app client with USER_PASSWORD_AUTH, whose ids reach the API Lambda;
 * - at the gateway, "an API key or a bearer token" on every protected method through a Lambda
 *   REQUEST authorizer (API key source AUTHORIZER: bearer callers are metered under a key of
 *   their own, kept in Secrets Manager), and a Cognito authorizer on bearer-only methods;
 * - a tight throttle on `POST /auth/token`; the module's table for the sign-in throttle.
 */
export const infra: ModuleInfra = (scope, context) => {
  const { apiFunction, restApi, stage, retainData } = context;

  const userPool = new cognito.UserPool(scope, 'UserPool', {
    userPoolName: `roster-${stage}`,
    selfSignUpEnabled: false,
    signInAliases: { username: true },
    signInCaseSensitive: false,
    passwordPolicy: {
      minLength: PASSWORD_POLICY.minLength,
      requireLowercase: PASSWORD_POLICY.requireLowercase,
      requireUppercase: PASSWORD_POLICY.requireUppercase,
      requireDigits: PASSWORD_POLICY.requireDigits,
      requireSymbols: PASSWORD_POLICY.requireSymbols,
      tempPasswordValidity: Duration.days(3),
    },
    accountRecovery: cognito.AccountRecovery.NONE,
    featurePlan: cognito.FeaturePlan.PLUS,
    standardThreatProtectionMode: cognito.StandardThreatProtectionMode.AUDIT_ONLY,
    // Users are data: kept (and protected) on a stage that keeps its data.
    deletionProtection: retainData,
    removalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  const client = userPool.addClient('ApiClient', {
    userPoolClientName: `roster-${stage}-api`,
    authFlows: { userPassword: true },
    generateSecret: false,
    preventUserExistenceErrors: true,
    enableTokenRevocation: true,
    accessTokenValidity: Duration.hours(1),
    idTokenValidity: Duration.hours(1),
  });
  // For the first user (docs/deploy.md): `aws cognito-idp admin-create-user --user-pool-id …`.
  new CfnOutput(context.stack, 'UserPoolId', {
    value: userPool.userPoolId,
    description:
      'Cognito user pool of the API’s users (admin-create-user, admin-set-user-password)',
  });
  new CfnOutput(context.stack, 'UserPoolClientId', {
    value: client.userPoolClientId,
    description: 'App client POST /auth/token signs in through (USER_PASSWORD_AUTH)',
  });
  const cognitoEnvironment = {
    COGNITO_USER_POOL_ID: userPool.userPoolId,
    COGNITO_CLIENT_ID: client.userPoolClientId,
  };
  for (const [name, value] of Object.entries(cognitoEnvironment)) {
    apiFunction.addEnvironment(name, value);
  }

  // The key bearer-token callers are metered under: its value lives only in Secrets Manager
  // (the API key resource reads it through a dynamic reference; the authorizer at cold start).
  const usageKeySecret = new secretsmanager.Secret(scope, 'TokenUsageKey', {
    description: `Roster ${stage}: API key value the gateway meters bearer-token callers under`,
    generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false },
  });
  const usageKey = restApi.api.addApiKey('TokenUsageApiKey', {
    description: `Roster ${stage}: bearer-token callers (used by the gateway authorizer only)`,
    value: usageKeySecret.secretValue.unsafeUnwrap(),
  });
  restApi.usagePlan.addApiKey(usageKey);

  const authorizerFunction = new RosterFunction(scope, 'GatewayAuthorizer', {
    projectRoot: context.projectRoot,
    entry: AUTHORIZER_ENTRY,
    // This module alone (its token verifier), without the HTTP app.
    modules: [context.module.name],
    http: false,
    description: 'Roster gateway authorizer: an API key or a bearer token',
    memorySize: 512,
    timeout: Duration.seconds(5),
    environment: {
      ...context.environment,
      ...cognitoEnvironment,
      TOKEN_USAGE_KEY_ARN: usageKeySecret.secretArn,
    },
    // It reads the usage key through the extension as it starts, without loading Secrets
    // Manager's client (docs/decisions/lean-functions.md); the extension reads with this role.
    paramsAndSecrets: lambda.ParamsAndSecretsLayerVersion.fromVersion(
      lambda.ParamsAndSecretsVersions.V1_0_103,
    ),
  });
  usageKeySecret.grantRead(authorizerFunction.function);
  // Nothing on the table (see `access`); the master secret is granted by the stack.
  context.grantAccess(authorizerFunction.function, 'authorizer');

  restApi.useAuthorizers({
    // No identity sources, no cache: either header may be absent, and API Gateway answers 401
    // without calling a caching authorizer when one of its identity sources is missing.
    keyOrToken: new apigateway.RequestAuthorizer(scope, 'KeyOrTokenAuthorizer', {
      handler: authorizerFunction.function,
      identitySources: [],
      resultsCacheTtl: Duration.seconds(0),
    }),
    tokenOnly: new apigateway.CognitoUserPoolsAuthorizer(scope, 'TokenAuthorizer', {
      cognitoUserPools: [userPool],
      resultsCacheTtl: Duration.minutes(5),
    }),
    // Access tokens carry scopes, not an audience: with a scope set, the Cognito authorizer
    // takes the access token (and refuses the id token).
    tokenScopes: [USER_POOL_ACCESS_SCOPE],
  });
  restApi.throttleRoute('POST /auth/token', TOKEN_ROUTE_THROTTLE);

  acknowledge(
    userPool,
    'AwsSolutions-COG2',
    'Sign-in is USER_PASSWORD_AUTH through POST /auth/token, which cannot complete an MFA challenge; failed sign-ins are throttled per username in the app and per route at the gateway.',
  );
  acknowledge(
    usageKeySecret,
    'AwsSolutions-SMG4',
    'The value is an API Gateway key value set at deployment; rotating it needs a redeploy of the key, so it is rotated by redeploying, not by a rotation Lambda.',
  );
};
