import { createHmac } from 'node:crypto';
import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  type InitiateAuthCommandOutput,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  type JsonWebKeySet,
  TokenIssuerError,
  type TokenIssuerRefusal,
  type UserPoolTokens,
} from './tokens.js';
import { userPoolVerifier } from './verifier.js';

export interface CognitoTokensOptions {
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  /** Only for an app client that has a secret: every call then carries SECRET_HASH. */
  readonly clientSecret?: string | undefined;
  /** A pre-built client (tests pass one whose middleware answers for Cognito). */
  readonly client?: CognitoIdentityProviderClient;
  /** The pool's JWKS when known in advance (tests); fetched from Cognito otherwise. */
  readonly jwks?: JsonWebKeySet;
}

/** Cognito's refusals: the same answer for an unknown user and a wrong password (no enumeration). */
const refusals: Record<string, TokenIssuerRefusal> = {
  NotAuthorizedException: 'invalid-credentials',
  UserNotFoundException: 'invalid-credentials',
  UserNotConfirmedException: 'invalid-credentials',
  PasswordResetRequiredException: 'invalid-credentials',
  TooManyRequestsException: 'throttled',
  TooManyFailedAttemptsException: 'throttled',
  LimitExceededException: 'throttled',
};

/**
 * The token port on AWS: Amazon Cognito's `InitiateAuth` with `USER_PASSWORD_AUTH` on the app
 * client, and its access tokens verified with `CognitoJwtVerifier` (JWKS fetched from the pool
 * and cached for the life of the process).
 */
export function cognitoTokens(options: CognitoTokensOptions): UserPoolTokens {
  const client = options.client ?? new CognitoIdentityProviderClient({ region: options.region });
  const secretHash = (username: string) =>
    options.clientSecret === undefined
      ? undefined
      : createHmac('sha256', options.clientSecret)
          .update(username + options.clientId)
          .digest('base64');

  return {
    kind: 'user-pool',
    async authenticate(username, password) {
      const hash = secretHash(username);
      let output: InitiateAuthCommandOutput;
      try {
        output = await client.send(
          new InitiateAuthCommand({
            AuthFlow: 'USER_PASSWORD_AUTH',
            ClientId: options.clientId,
            AuthParameters: {
              USERNAME: username,
              PASSWORD: password,
              ...(hash === undefined ? {} : { SECRET_HASH: hash }),
            },
          }),
        );
      } catch (error) {
        const reason = refusals[(error as Error).name];
        if (reason)
          throw new TokenIssuerError(reason, 'Cognito refused the sign-in', { cause: error });
        throw error;
      }
      const result = output.AuthenticationResult;
      if (!result?.AccessToken || !result.IdToken) {
        // A challenge (NEW_PASSWORD_REQUIRED for an admin-created user, MFA, …): this API
        // only completes plain password sign-ins.
        throw new TokenIssuerError(
          'challenge-required',
          `Cognito asked for a ${output.ChallengeName ?? 'further'} challenge`,
        );
      }
      return {
        accessToken: result.AccessToken,
        idToken: result.IdToken,
        expiresIn: result.ExpiresIn ?? 3600,
      };
    },
    verify: userPoolVerifier({
      userPoolId: options.userPoolId,
      clientId: options.clientId,
      ...(options.jwks ? { jwks: options.jwks } : {}),
    }),
  };
}
