import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authModule } from '../../src/modules/auth/auth.module.js';
import { slaErrorsModule } from '../../src/modules/sla-errors/sla-errors.module.js';
import {
  accessClaims,
  addUser,
  claimsOf,
  createLocalIssuer,
  forge,
  type LocalIssuer,
  signIn,
} from '../auth/fixtures.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/fixture-app.js';
import { validRecord } from './fixtures.js';

/*
 * POST /sla-errors takes a valid bearer access token and nothing else. Every forged, altered or
 * misused token below is answered 401 (never a 5xx), and nothing is filed.
 */

let issuer: LocalIssuer;
let app: TestApp;
let valid: { access_token: string; id_token: string };
let sub: string;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  issuer = await createLocalIssuer();
  app = await createTestApp({
    modules: [authModule, slaErrorsModule],
    ports: { tokens: issuer.tokens },
  });
  await addUser(app, 'mallory-target');
  valid = await signIn(app, 'mallory-target');
  sub = claimsOf(valid.access_token).sub as string;
});

afterAll(async () => {
  await issuer.cleanup();
});

const attacks: [string, () => Promise<string>][] = [
  ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(accessClaims(sub))}.`],
  [
    'alg none with the real kid and a copied signature',
    async () => {
      const signature = valid.access_token.split('.')[2];
      return `${b64({ alg: 'none', kid: issuer.kid })}.${b64(accessClaims(sub))}.${signature}`;
    },
  ],
  [
    'HS256 signed with the public key as the secret',
    async () => {
      const pem = createPublicKey(issuer.privateKey).export({ format: 'pem', type: 'spki' });
      return forge(new TextEncoder().encode(String(pem)), accessClaims(sub), {
        alg: 'HS256',
        kid: issuer.kid,
      });
    },
  ],
  [
    'RS256 signed by another key under the real kid',
    async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return forge(privateKey, accessClaims(sub), { alg: 'RS256', kid: issuer.kid });
    },
  ],
  [
    'an unknown kid',
    () => forge(issuer.privateKey, accessClaims(sub), { alg: 'RS256', kid: 'some-other-key' }),
  ],
  ['no kid', () => forge(issuer.privateKey, accessClaims(sub), { alg: 'RS256' })],
  [
    'RS512 by the real key',
    () => forge(issuer.privateKey, accessClaims(sub), { alg: 'RS512', kid: issuer.kid }),
  ],
  [
    'a wrong iss',
    () =>
      forge(
        issuer.privateKey,
        { ...accessClaims(sub), iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_evil' },
        { alg: 'RS256', kid: issuer.kid },
      ),
  ],
  [
    'no iss',
    () => {
      const { iss: _, ...claims } = accessClaims(sub);
      return forge(issuer.privateKey, claims, { alg: 'RS256', kid: issuer.kid });
    },
  ],
  [
    'another app client',
    () =>
      forge(
        issuer.privateKey,
        { ...accessClaims(sub), client_id: 'another-client' },
        { alg: 'RS256', kid: issuer.kid },
      ),
  ],
  [
    'an expired token',
    () =>
      forge(
        issuer.privateKey,
        { ...accessClaims(sub, now() - 7200), exp: now() - 3600 },
        { alg: 'RS256', kid: issuer.kid },
      ),
  ],
  [
    'nbf in the future',
    () =>
      forge(
        issuer.privateKey,
        { ...accessClaims(sub), nbf: now() + 3600 },
        { alg: 'RS256', kid: issuer.kid },
      ),
  ],
  [
    'no exp',
    () => {
      const { exp: _, ...claims } = accessClaims(sub);
      return forge(issuer.privateKey, claims, { alg: 'RS256', kid: issuer.kid });
    },
  ],
  [
    'a tampered payload (another subject) under the original signature',
    async () => {
      const [header, , signature] = valid.access_token.split('.');
      return `${header}.${b64({ ...claimsOf(valid.access_token), sub: 'someone-else' })}.${signature}`;
    },
  ],
  ['the id token instead of the access token', async () => valid.id_token],
  [
    'token_use missing',
    () => {
      const { token_use: _, ...claims } = accessClaims(sub);
      return forge(issuer.privateKey, claims, { alg: 'RS256', kid: issuer.kid });
    },
  ],
  [
    'a signature cut off',
    async () => valid.access_token.split('.').slice(0, 2).join('.').concat('.'),
  ],
  ['a malformed string', async () => 'not-a-jwt'],
  ['three segments of garbage', async () => 'a.b.c'],
  [
    'a header that is not JSON',
    async () => `${Buffer.from('{oops').toString('base64url')}.e30.sig`,
  ],
  ['an empty payload object', async () => `${b64({ alg: 'RS256', kid: 'x' })}.${b64({})}.c2ln`],
  [
    'a JSON array as the payload',
    async () => `${b64({ alg: 'RS256', kid: issuer.kid })}.${b64([1])}.c2ln`,
  ],
];

describe('POST /sla-errors refuses every token that is not a valid access token', () => {
  it.each(attacks)('answers 401 to %s', async (_name, make) => {
    const token = await make();

    const res = await app.call('/sla-errors', {
      method: 'POST',
      key: null,
      headers: { authorization: `Bearer ${token}` },
      json: validRecord,
    });

    await expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });

  it.each(attacks)('answers 401 to %s even with a valid API key alongside', async (_name, make) => {
    const token = await make();

    const res = await app.call('/sla-errors', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      json: validRecord,
    });

    await expectProblem(res, 401, 'AUTH.TOKEN_REQUIRED');
  });

  it.each([
    ['no credentials at all', { key: null }],
    ['an API key only', {}],
    [
      'an Authorization header of another scheme',
      { key: null, headers: { authorization: 'Basic YTpi' } },
    ],
    ['an empty bearer token', { key: null, headers: { authorization: 'Bearer ' } }],
  ])('answers 401 to %s', async (_name, init) => {
    const res = await app.call('/sla-errors', { method: 'POST', json: validRecord, ...init });

    await expectProblem(res, 401);
  });

  it('filed nothing for any of them', async () => {
    const res = await app.call(`/sla-errors?fileName=${validRecord.fileName}`);

    expect(await res.json()).toEqual([]);
  });

  it('files the record with the genuine token (the forgeries differ from it in one thing)', async () => {
    const res = await app.call('/sla-errors', {
      method: 'POST',
      key: null,
      headers: { authorization: `Bearer ${valid.access_token}` },
      json: validRecord,
    });

    expect(res.status).toBe(200);
  });
});
