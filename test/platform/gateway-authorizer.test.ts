import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/platform/errors.js';
import { gatewayAuthorizer } from '../../src/platform/http/gateway-authorizer.js';
import { createLocalIssuer, type LocalIssuer } from '../auth/fixtures.js';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/events';
const USAGE_KEY = 'token-usage-key-0123456789abcdef';

const event = (headers: Record<string, string>) =>
  ({
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    headers,
  }) as unknown as APIGatewayRequestAuthorizerEvent;

let issuer: LocalIssuer;
let authorize: ReturnType<typeof gatewayAuthorizer>;
let token: string;

beforeAll(async () => {
  issuer = await createLocalIssuer();
  authorize = gatewayAuthorizer({ verify: issuer.tokens.verify, tokenUsageKey: USAGE_KEY });
  token = (await issuer.tokens.issue({ sub: 'sub-1', username: 'alice' })).accessToken;
});

afterAll(async () => {
  await issuer.cleanup();
});

describe('the gateway authorizer (an API key or a bearer token)', () => {
  it('allows a valid bearer token, metered under the token usage key', async () => {
    const result = await authorize(event({ Authorization: `Bearer ${token}` }));

    expect(result).toMatchObject({
      principalId: 'user:sub-1',
      usageIdentifierKey: USAGE_KEY,
      context: { via: 'jwt' },
      policyDocument: { Statement: [{ Effect: 'Allow', Resource: METHOD_ARN }] },
    });
  });

  it('passes a presented API key on as the usage identifier, for API Gateway to check', async () => {
    const result = await authorize(event({ 'X-Api-Key': 'some-client-key' }));

    expect(result).toMatchObject({
      usageIdentifierKey: 'some-client-key',
      context: { via: 'api-key' },
    });
  });

  it('falls back to the API key when the bearer token is invalid', async () => {
    const result = await authorize(
      event({ authorization: 'Bearer not-a-token', 'x-api-key': 'some-client-key' }),
    );

    expect(result.usageIdentifierKey).toBe('some-client-key');
  });

  it.each([
    ['no credentials', {}],
    ['an invalid bearer token alone', { authorization: 'Bearer not-a-token' }],
    ['the token usage key presented as an API key', { 'x-api-key': USAGE_KEY }],
    ['another scheme', { authorization: 'Basic YTpi' }],
  ] as [string, Record<string, string>][])(
    'refuses %s (API Gateway answers 401)',
    async (_case, headers) => {
      await expect(authorize(event(headers))).rejects.toThrow(/^Unauthorized$/);
    },
  );

  it('refuses the id token', async () => {
    const { idToken } = await issuer.tokens.issue({ sub: 's', username: 'u' });

    await expect(authorize(event({ authorization: `Bearer ${idToken}` }))).rejects.toThrow(
      /^Unauthorized$/,
    );
  });

  it('lets a verifier failure that is not a refusal through (API Gateway answers 503)', async () => {
    const failing = gatewayAuthorizer({
      verify: () => Promise.reject(new AppError('unavailable', 'AUTH.JWKS_UNAVAILABLE', 'x')),
      tokenUsageKey: USAGE_KEY,
    });

    await expect(failing(event({ authorization: `Bearer ${token}` }))).rejects.toThrow(AppError);
  });
});
