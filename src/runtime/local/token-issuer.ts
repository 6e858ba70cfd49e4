import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { join } from 'node:path';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import { v4 as uuidv4 } from 'uuid';
import type { Config } from '../../platform/config.js';
import { cognitoTokens } from '../../platform/tokens/cognito.js';
import {
  type JsonWebKeySet,
  type SelfIssuedTokens,
  TOKEN_LIFETIME_SECONDS,
  type TokenPort,
  USER_POOL_ACCESS_SCOPE,
} from '../../platform/tokens/tokens.js';
import { staticKeysVerifier } from '../../platform/tokens/verifier.js';
import { readOrCreate } from './data-file.js';

/** `iss` of locally issued tokens. Not a URL anyone fetches: the keys are at /.well-known/jwks.json. */
export const LOCAL_ISSUER = 'urn:roster:local-issuer';
/** The local "app client": `client_id` of access tokens, `aud` of id tokens. */
export const LOCAL_CLIENT_ID = 'roster-local';
/** The signing key's file in the data directory (PKCS#8 PEM, mode 0600). */
export const SIGNING_KEY_FILE = 'token-signing-key.pem';

export interface LocalTokenIssuerOptions {
  /** Where the key pair is kept; created there once. */
  readonly dataDir: string;
  readonly clock?: () => Date;
}

/**
 * The local stand-in for Cognito's token side: an RS256 key pair created once and kept in the
 * data directory (so tokens survive restarts), access and id tokens with Cognito's claims, the
 * JWKS, and the same verification as on AWS (aws-jwt-verify against that JWKS).
 */
export async function localTokenIssuer(
  options: LocalTokenIssuerOptions,
): Promise<SelfIssuedTokens> {
  const privateKey = await signingKey(join(options.dataDir, SIGNING_KEY_FILE));
  const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, string>;
  const kid = await calculateJwkThumbprint({ kty: 'RSA', e: publicJwk.e, n: publicJwk.n });
  const jwks: JsonWebKeySet = { keys: [{ ...publicJwk, kid, alg: 'RS256', use: 'sig' }] };
  const clock = options.clock ?? (() => new Date());

  const sign = (claims: Record<string, unknown>, now: number) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(LOCAL_ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_LIFETIME_SECONDS)
      .setJti(uuidv4())
      .sign(privateKey);

  return {
    kind: 'self-issued',
    async issue({ sub, username }) {
      const now = Math.floor(clock().getTime() / 1000);
      const common = { sub, auth_time: now, username };
      const [accessToken, idToken] = await Promise.all([
        sign(
          {
            ...common,
            token_use: 'access',
            client_id: LOCAL_CLIENT_ID,
            scope: USER_POOL_ACCESS_SCOPE,
          },
          now,
        ),
        sign(
          { ...common, token_use: 'id', aud: LOCAL_CLIENT_ID, 'cognito:username': username },
          now,
        ),
      ]);
      return { accessToken, idToken, expiresIn: TOKEN_LIFETIME_SECONDS };
    },
    jwks: () => jwks,
    verify: staticKeysVerifier({ issuer: LOCAL_ISSUER, clientId: LOCAL_CLIENT_ID, jwks }),
  };
}

/** The key in `file`, or a new 2048-bit RSA key written there first. */
async function signingKey(file: string): Promise<KeyObject> {
  const pem = await readOrCreate(
    file,
    () =>
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
        format: 'pem',
        type: 'pkcs8',
      }) as string,
  );
  return createPrivateKey(pem);
}

/**
 * The local runtime's token port: Cognito when COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID are
 * set (a local server against a real pool), else the local issuer on the data directory.
 */
export async function localTokenPort(config: Config, dataDir: string): Promise<TokenPort> {
  if (config.cognito) return cognitoTokens({ region: config.region, ...config.cognito });
  return localTokenIssuer({ dataDir });
}
