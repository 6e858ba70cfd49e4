import { createHmac, generateKeyPairSync } from 'node:crypto';
import {
  CognitoIdentityProviderClient,
  NotAuthorizedException,
  TooManyRequestsException,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { beforeAll, describe, expect, it } from 'vitest';
import { authModule } from '../../src/modules/auth/auth.module.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { cognitoTokens } from '../../src/platform/tokens/cognito.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/fixture-app.js';
import { forge } from './fixtures.js';

/*
 * The Cognito adapter through the app. Cognito is not reachable here: a middleware at the front
 * of the real SDK client answers InitiateAuth the way Cognito does, and records what was sent.
 * Tokens are signed with a key whose JWKS the verifier is given, under the pool's issuer.
 */

const POOL = 'us-east-1_TestPool1';
const CLIENT = 'testclient123';
const SECRET = 'client-secret-value';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = {
  ...(publicKey.export({ format: 'jwk' }) as Record<string, string>),
  kid: 'k1',
  alg: 'RS256',
  use: 'sig',
};

type Answer = (params: Record<string, string>) => unknown;

function cognitoClient(answer: { current: Answer }, sent: Record<string, string>[]) {
  const client = new CognitoIdentityProviderClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  client.middlewareStack.add(
    () => async (args) => {
      const input = (args as { input: { AuthParameters: Record<string, string> } }).input;
      sent.push(input.AuthParameters);
      return { output: answer.current(input.AuthParameters), response: {} } as never;
    },
    { step: 'initialize', name: 'fakeCognito' },
  );
  return client;
}

const accessToken = (sub: string) => {
  const now = Math.floor(Date.now() / 1000);
  return forge(
    privateKey,
    {
      sub,
      iss: ISSUER,
      client_id: CLIENT,
      token_use: 'access',
      iat: now,
      exp: now + 3600,
      username: sub,
    },
    { alg: 'RS256', kid: 'k1' },
  );
};

describe('POST /auth/token with Cognito', () => {
  const answer: { current: Answer } = { current: () => ({}) };
  const sent: Record<string, string>[] = [];
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp({
      modules: [authModule, eventsModule],
      ports: {
        tokens: cognitoTokens({
          region: 'us-east-1',
          userPoolId: POOL,
          clientId: CLIENT,
          clientSecret: SECRET,
          client: cognitoClient(answer, sent),
          jwks: { keys: [jwk] },
        }),
      },
    });
  });

  const token = (username: string) =>
    app.call('/auth/token', {
      method: 'POST',
      key: null,
      json: { username, password: 'Any-Pass-123' },
    });

  it('answers 200 with Cognito’s tokens, having sent USER_PASSWORD_AUTH with SECRET_HASH', async () => {
    const access = await accessToken('cognito-sub-1');
    answer.current = () => ({
      AuthenticationResult: { AccessToken: access, IdToken: 'id.token.value', ExpiresIn: 3600 },
    });

    const res = await token('Alice');

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      access_token: access,
      id_token: 'id.token.value',
      token_type: 'Bearer',
      expires_in: 3600,
    });
    expect(sent.at(-1)).toEqual({
      USERNAME: 'Alice',
      PASSWORD: 'Any-Pass-123',
      SECRET_HASH: createHmac('sha256', SECRET).update(`Alice${CLIENT}`).digest('base64'),
    });
  });

  it('accepts a Cognito access token on an events route', async () => {
    const res = await app.call('/events', {
      key: null,
      headers: { authorization: `Bearer ${await accessToken('cognito-sub-2')}` },
    });

    expect(res.status).toBe(200);
  });

  it('answers NotAuthorized and UserNotFound with the same 401', async () => {
    answer.current = () => {
      throw new NotAuthorizedException({
        message: 'Incorrect username or password.',
        $metadata: {},
      });
    };
    const wrong = await token('bob');
    answer.current = () => {
      throw new UserNotFoundException({ message: 'User does not exist.', $metadata: {} });
    };
    const unknown = await token('carol');

    const a = await expectProblem(wrong, 401, 'AUTH.INVALID_CREDENTIALS');
    const b = await expectProblem(unknown, 401, 'AUTH.INVALID_CREDENTIALS');
    expect(b.detail).toBe(a.detail);
  });

  it('answers Cognito’s throttling with 429 and Retry-After', async () => {
    answer.current = () => {
      throw new TooManyRequestsException({ message: 'Too many requests', $metadata: {} });
    };

    const res = await token('dave');

    await expectProblem(res, 429, 'AUTH.ISSUER_THROTTLED');
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('answers 403 when Cognito asks for a new password', async () => {
    answer.current = () => ({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 's' });

    const res = await token('erin');

    await expectProblem(res, 403, 'AUTH.CHALLENGE_REQUIRED');
  });

  it('answers 503 when Cognito cannot be reached', async () => {
    answer.current = () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };

    const res = await token('frank');

    await expectProblem(res, 503);
  });

  it('serves no JWKS of its own', async () => {
    const res = await app.call('/.well-known/jwks.json', { key: null });

    await expectProblem(res, 401);
    // With a key: no such route (auth's route table lists it as `optional`).
    await expectProblem(await app.call('/.well-known/jwks.json'), 404);
  });
});
