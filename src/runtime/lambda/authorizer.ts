import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { ConfigError } from '../../platform/config.js';
import { gatewayAuthorizer } from '../../platform/http/gateway-authorizer.js';
import { tokenVerifierOf } from '../container.js';
import { lambdaContainer } from './bootstrap.js';

/**
 * API Gateway's REQUEST authorizer: an API key or a bearer token (src/platform/http/
 * gateway-authorizer.ts), verified with the same token port the API uses.
 */
const container = await lambdaContainer();
const verify = tokenVerifierOf(container);
const arn = container.config.tokenUsageKeyArn;
if (!verify || !arn) {
  throw new ConfigError(
    'Invalid configuration: the authorizer needs a token issuer and TOKEN_USAGE_KEY_ARN',
  );
}
const tokenUsageKey = await getSecret<string>(arn, { maxAge: 3600 });
if (!tokenUsageKey) throw new ConfigError(`Invalid configuration: the secret ${arn} is empty`);

export const handler = gatewayAuthorizer({ verify, tokenUsageKey });
