import type { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RosterStack } from '../../infra/roster-stack.js';
import { TOKEN_ROUTE_THROTTLE } from '../../src/modules/auth/auth.infra.js';
import { PASSWORD_POLICY } from '../../src/modules/auth/auth.rules.js';
import { type RecordingAwsSolutionsChecks, unacknowledgedFindings } from '../support/nag.js';
import {
  methodsByRoute as methodsIn,
  ofType as ofTypeIn,
  type Resource,
  synthStack,
} from '../support/template.js';

/*
 * The gateway's "API key or bearer token" design (docs/decisions/auth.md), pinned on the
 * template: a key-or-token Lambda REQUEST authorizer (no cache, API key source AUTHORIZER) on
 * every protected method, a Cognito authorizer on bearer-only methods, the user pool and client.
 * Lambda bundling is skipped here (the roster-stack test checks the bundles); cdk-nag runs.
 */

let stack: RosterStack;
let resources: Record<string, Resource>;
let nag: RecordingAwsSolutionsChecks;
let app: App;

beforeAll(async () => {
  const synthed = await synthStack({ id: 'Roster-authtest', nag: true });
  ({ app, stack, resources, nag } = synthed);
  return synthed.cleanup;
}, 120_000);

const ofType = (type: string) => ofTypeIn(resources, type);
const only = (type: string) => {
  const found = ofType(type);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Resource];
};
const methodsByRoute = () => methodsIn(resources);

const authorizer = (type: 'REQUEST' | 'COGNITO_USER_POOLS') => {
  const found = ofType('AWS::ApiGateway::Authorizer').filter(([, r]) => r.Properties.Type === type);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Resource];
};

describe('Cognito user pool and app client', () => {
  it('allows no self sign-up and states the password policy of auth.rules.ts', () => {
    const [, pool] = only('AWS::Cognito::UserPool');

    expect(pool.Properties).toMatchObject({
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: {
        PasswordPolicy: {
          MinimumLength: PASSWORD_POLICY.minLength,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
      UsernameConfiguration: { CaseSensitive: false },
      DeletionProtection: 'ACTIVE',
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'AUDIT' },
    });
  });

  it('has an app client with USER_PASSWORD_AUTH, no secret, and no user-existence errors', () => {
    const [, client] = only('AWS::Cognito::UserPoolClient');

    expect(client.Properties.ExplicitAuthFlows).toEqual(
      expect.arrayContaining(['ALLOW_USER_PASSWORD_AUTH']),
    );
    expect(client.Properties).toMatchObject({
      GenerateSecret: false,
      PreventUserExistenceErrors: 'ENABLED',
      AccessTokenValidity: 60,
      IdTokenValidity: 60,
    });
  });

  it('hands the pool and client ids to the API Lambda', () => {
    const [poolId] = only('AWS::Cognito::UserPool');
    const [clientId] = only('AWS::Cognito::UserPoolClient');
    const api =
      resources[stack.getLogicalId(stack.apiFunction.function.node.defaultChild as never)];
    const environment = api?.Properties.Environment as { Variables: Record<string, unknown> };

    expect(environment.Variables).toMatchObject({
      COGNITO_USER_POOL_ID: { Ref: poolId },
      COGNITO_CLIENT_ID: { Ref: clientId },
    });
  });
});

describe('gateway: an API key or a bearer token', () => {
  it('takes the API key from the authorizer, so bearer callers are metered too', () => {
    const [, api] = only('AWS::ApiGateway::RestApi');

    expect(api.Properties.ApiKeySourceType).toBe('AUTHORIZER');
  });

  it('checks credentials with an uncached REQUEST authorizer with no identity source', () => {
    const [, request] = authorizer('REQUEST');

    expect(request.Properties.AuthorizerResultTtlInSeconds).toBe(0);
    expect(request.Properties.IdentitySource ?? '').toBe('');
    expect(JSON.stringify(request.Properties.AuthorizerUri)).toContain('GatewayAuthorizer');
  });

  it('puts that authorizer and a key requirement on every method that is not public or bearer-only', () => {
    const [requestId] = authorizer('REQUEST');
    const protectedRoutes = [...methodsByRoute()].filter(
      ([route, props]) => !route.startsWith('OPTIONS ') && props.ApiKeyRequired === true,
    );

    expect(protectedRoutes.map(([route]) => route)).toEqual(
      expect.arrayContaining([
        'ANY /',
        'ANY /{proxy+}',
        'ANY /sla-errors',
        'ANY /sla-errors/{proxy+}',
      ]),
    );
    for (const [route, props] of protectedRoutes) {
      expect(props, route).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: requestId },
      });
    }
  });

  it('guards POST /sla-errors with the Cognito authorizer, access tokens only, no API key', () => {
    const [cognitoId, cognitoAuthorizer] = authorizer('COGNITO_USER_POOLS');
    const [poolId] = only('AWS::Cognito::UserPool');

    expect(cognitoAuthorizer.Properties.ProviderARNs).toEqual([{ 'Fn::GetAtt': [poolId, 'Arn'] }]);
    expect(methodsByRoute().get('POST /sla-errors')).toMatchObject({
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizerId: { Ref: cognitoId },
      AuthorizationScopes: ['aws.cognito.signin.user.admin'],
      ApiKeyRequired: false,
    });
  });

  it('leaves POST /auth/token open and throttles it tighter than the stage', () => {
    const [, stage] = only('AWS::ApiGateway::Stage');

    expect(methodsByRoute().get('POST /auth/token')).toMatchObject({
      AuthorizationType: 'NONE',
      ApiKeyRequired: false,
    });
    expect(stage.Properties.MethodSettings).toEqual(
      expect.arrayContaining([
        {
          ResourcePath: '/~1auth~1token',
          HttpMethod: 'POST',
          ThrottlingRateLimit: TOKEN_ROUTE_THROTTLE.rateLimit,
          ThrottlingBurstLimit: TOKEN_ROUTE_THROTTLE.burstLimit,
        },
      ]),
    );
  });

  it('meters bearer callers under an API key whose value only Secrets Manager holds', () => {
    const keys = ofType('AWS::ApiGateway::ApiKey');
    const tokenKey = keys.find(([, key]) => key.Properties.Value !== undefined);

    expect(JSON.stringify(tokenKey?.[1].Properties.Value)).toMatch(/\{\{resolve:secretsmanager:/);
    const planKeys = ofType('AWS::ApiGateway::UsagePlanKey').map(([, k]) => k.Properties.KeyId);
    expect(planKeys).toContainEqual({ Ref: tokenKey?.[0] });
  });

  it('answers an authorizer failure with 503, not 500', () => {
    const [, response] =
      ofType('AWS::ApiGateway::GatewayResponse').find(
        ([, r]) => r.Properties.ResponseType === 'AUTHORIZER_FAILURE',
      ) ?? [];

    expect(response?.Properties.StatusCode).toBe('503');
  });

  it('lets the authorizer Lambda read its secrets and no table', () => {
    const policy = ofType('AWS::IAM::Policy').find(([id]) => id.includes('GatewayAuthorizer'));
    const actions = JSON.stringify(policy?.[1].Properties.PolicyDocument);

    expect(actions).toContain('secretsmanager:GetSecretValue');
    expect(actions).not.toContain('dynamodb:');
  });
});

describe('cdk-nag (AwsSolutions) with the auth design', () => {
  it('finds no unacknowledged errors or warnings', () => {
    expect(unacknowledgedFindings(nag, app)).toEqual([]);
  });
});
