import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { authModule } from '../../src/modules/auth/auth.module.js';
import type { SelfIssuedTokens } from '../../src/platform/tokens/tokens.js';
import {
  LOCAL_CLIENT_ID,
  LOCAL_ISSUER,
  localTokenIssuer,
  SIGNING_KEY_FILE,
} from '../../src/runtime/local/token-issuer.js';
import type { TestApp } from '../support/app.js';

/** A strong password that satisfies the policy. */
export const PASSWORD = 'Correct-Horse-9-Battery';

export interface LocalIssuer {
  readonly dir: string;
  readonly tokens: SelfIssuedTokens;
  /** The issuer's own signing key, read from its file: to forge tokens that differ in one thing. */
  readonly privateKey: KeyObject;
  readonly kid: string;
  readonly cleanup: () => Promise<void>;
}

/** A local issuer on a fresh temporary data directory. */
export async function createLocalIssuer(): Promise<LocalIssuer> {
  const dir = await mkdtemp(join(tmpdir(), 'roster-auth-'));
  const tokens = await localTokenIssuer({ dataDir: dir });
  const privateKey = createPrivateKey(await readFile(join(dir, SIGNING_KEY_FILE), 'utf8'));
  const kid = tokens.jwks().keys[0]?.kid ?? '';
  return {
    dir,
    tokens,
    privateKey,
    kid,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Adds a local user through the auth service (what `npm run users -- add` does). */
export async function addUser(app: TestApp, username: string, password = PASSWORD) {
  return app.servicesOf(authModule).auth.addUser(username, password);
}

/** Signs in through the API and returns the body. */
export async function signIn(app: TestApp, username: string, password = PASSWORD) {
  const res = await app.call('/auth/token', {
    method: 'POST',
    key: null,
    json: { username, password },
  });
  if (res.status !== 200) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { access_token: string; id_token: string; expires_in: number };
}

/** The claims of a token, unverified. */
export function claimsOf(token: string): Record<string, unknown> {
  const [, payload = ''] = token.split('.');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

/** A valid local access token's claims for `sub`, at `now` (epoch seconds). */
export function accessClaims(sub: string, now = Math.floor(Date.now() / 1000)) {
  return {
    sub,
    iss: LOCAL_ISSUER,
    client_id: LOCAL_CLIENT_ID,
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    username: sub,
    auth_time: now,
    iat: now,
    exp: now + 3600,
    jti: `jti-${now}-${Math.random()}`,
  };
}

/** Signs `claims` as the issuer would, with an optional header override. */
export function forge(
  key: KeyObject | Uint8Array,
  claims: Record<string, unknown>,
  header: Record<string, unknown> & { alg: string },
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}
