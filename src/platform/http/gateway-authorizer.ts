import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { AppError } from '../errors.js';
import type { TokenVerifier } from './auth.js';

export interface GatewayAuthorizerOptions {
  /** The app's bearer-token check (the token port's verifier). */
  readonly verify: TokenVerifier;
  /**
   * The API key bearer-token callers are metered under (usage plan throttle and quota). Kept
   * secret: presented as `x-api-key` it is refused, so it can't be used as a key.
   */
  readonly tokenUsageKey: string;
}

/** What API Gateway turns into a 401 without calling the backend. */
const UNAUTHORIZED = 'Unauthorized';

const header = (event: APIGatewayRequestAuthorizerEvent, name: string): string | undefined => {
  const entry = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return entry?.[1] ?? undefined;
};

/**
 * API Gateway's Lambda REQUEST authorizer for "an API key or a bearer token", with the API key
 * source set to AUTHORIZER: a valid bearer token is allowed under `tokenUsageKey`; otherwise a
 * presented `x-api-key` is passed on as the usage identifier, for API Gateway to check against
 * its usage plans (an unknown key is refused there); nothing usable is a 401. The app behind
 * verifies the token again, so it never depends on this check alone.
 */
export function gatewayAuthorizer(options: GatewayAuthorizerOptions) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const authorization = header(event, 'authorization');
    const [scheme, token] = authorization?.split(' ', 2) ?? [];
    if (scheme?.toLowerCase() === 'bearer' && token) {
      try {
        const caller = await options.verify(token);
        return allow(event, caller.id, options.tokenUsageKey, { via: 'jwt' });
      } catch (error) {
        // An invalid token: the key, if any, may still admit the call (as in the app).
        if (!(error instanceof AppError) || error.kind !== 'unauthorized') throw error;
      }
    }
    const key = header(event, 'x-api-key');
    if (key && key !== options.tokenUsageKey)
      return allow(event, 'api-key', key, { via: 'api-key' });
    throw new Error(UNAUTHORIZED);
  };
}

function allow(
  event: APIGatewayRequestAuthorizerEvent,
  principalId: string,
  usageIdentifierKey: string,
  context: Record<string, string>,
): APIGatewayAuthorizerResult {
  return {
    principalId,
    usageIdentifierKey,
    context,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
  };
}
