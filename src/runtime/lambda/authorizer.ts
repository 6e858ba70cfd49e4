import { ConfigError, loadConfig } from '../../platform/config.js';
import { gatewayAuthorizer } from '../../platform/http/gateway-authorizer.js';
import { awsPorts, secretString } from '../aws/ports.js';

/**
 * API Gateway's REQUEST authorizer: an API key or a bearer token (src/platform/http/
 * gateway-authorizer.ts). It builds no container: a key needs the usage key alone, and a token
 * the token port's verifier — the one the auth module's `verifyToken` forwards to in the API, so
 * both check a token the same way (and the app checks it again). No module's services, no
 * DynamoDB client, no logger load as it starts; aws-jwt-verify loads with the first bearer token.
 *
 * The usage key is read as the function starts, and the start waits for it: every call compares
 * against it, so a function that starts without it would read it on its first call instead, for
 * the same wait (docs/decisions/lean-functions.md). A failed read fails the start, which API
 * Gateway answers 503 AUTH.UNAVAILABLE, and Lambda starts the function again for the next call.
 * On AWS the key comes from the Parameters and Secrets Lambda Extension the stack gives this
 * function (`secretString`), so no SDK client loads as it starts either.
 */
const config = loadConfig();
const tokens = awsPorts(config).tokens;
const arn = config.tokenUsageKeyArn;
if (!tokens || !arn) {
  throw new ConfigError(
    'Invalid configuration: the authorizer needs a token issuer and TOKEN_USAGE_KEY_ARN',
  );
}
const tokenUsageKey = await secretString(config.region, arn);

export const handler = gatewayAuthorizer({ verify: tokens.verify, tokenUsageKey });
