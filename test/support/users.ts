import { randomBytes } from 'node:crypto';
import type { UserSummary } from '../../src/modules/auth/auth.model.js';
import { authModule } from '../../src/modules/auth/auth.module.js';
import { loadConfig } from '../../src/platform/config.js';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { createLogger } from '../../src/platform/logger.js';
import { deriveSecrets } from '../../src/platform/secrets.js';
import { createContainer } from '../../src/runtime/container.js';

/** Users of a running local runtime's token issuer, for tests and scripts outside its process. */

/**
 * Adds a user to the auth table on the DynamoDB at `endpoint` through the auth service, as
 * `npm run users -- add` does: the runtime that uses that table (same `tablePrefix`, the
 * runtime's default if not given) signs the user in from then on.
 */
export async function addLocalUser(
  endpoint: string,
  username: string,
  password: string,
  tablePrefix?: string,
): Promise<UserSummary> {
  const config = loadConfig(
    {
      DYNAMODB_ENDPOINT: endpoint,
      ...(tablePrefix === undefined ? {} : { TABLE_PREFIX: tablePrefix }),
    },
    [authModule],
  );
  const dynamo = createDynamoClients({ region: config.region, endpoint });
  try {
    const container = createContainer({
      config,
      modules: [authModule],
      secrets: deriveSecrets(randomBytes(32)),
      logger: createLogger('silent'),
      dynamo,
    });
    return await container.servicesOf(authModule).auth.addUser(username, password);
  } finally {
    dynamo.client.destroy();
  }
}

/** Signs in at `POST <url>/auth/token` and returns the access token; throws unless it answers 200. */
export async function signInLocal(
  url: string,
  username: string,
  password: string,
): Promise<string> {
  const res = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
