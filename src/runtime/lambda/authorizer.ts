import { ConfigError } from '../../platform/config.js';
import { gatewayAuthorizer } from '../../platform/http/gateway-authorizer.js';
import { secretString } from '../aws/ports.js';
import { tokenVerifierOf } from '../container.js';
import { lambdaContainer } from './bootstrap.js';

/**
 * API Gateway's REQUEST authorizer: an API key or a bearer token (src/platform/http/
 * gateway-authorizer.ts), verified with the same token port the API uses. It derives no keys, so
 * it starts without the master secret; the usage key is read as it starts (every call compares
 * against it), and aws-jwt-verify loads with the first bearer token.
 */
const container = await lambdaContainer({ masterSecret: false });
const verify = tokenVerifierOf(container);
const arn = container.config.tokenUsageKeyArn;
if (!verify || !arn) {
  throw new ConfigError(
    'Invalid configuration: the authorizer needs a token issuer and TOKEN_USAGE_KEY_ARN',
  );
}
const tokenUsageKey = await secretString(container.config.region, arn);

export const handler = gatewayAuthorizer({ verify, tokenUsageKey });
