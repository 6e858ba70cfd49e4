import { modules } from '../../modules/index.js';
import { ConfigError, loadConfig } from '../../platform/config.js';
import { deriveSecrets, type Secrets } from '../../platform/secrets.js';
import { awsPorts, DeferredEmfMetrics, secretString } from '../aws/ports.js';
import { type Container, createContainer } from '../container.js';

export interface LambdaContainerOptions {
  /**
   * Whether the function derives keys from the master secret (default true). One that doesn't
   * (the authorizer) neither fetches it nor waits for it as it starts; a key asked for there
   * throws, naming the function's configuration.
   */
  readonly masterSecret?: boolean;
}

/**
 * What every Lambda entry does once per execution environment, outside its handler: read the
 * configuration, fetch the master secret (Secrets Manager, by the ARN the stack passes; or
 * APP_SECRET where it is set directly) and build the container for the listed modules, with the
 * AWS adapters each loaded on first use (src/runtime/aws/ports.ts).
 */
export async function lambdaContainer(options: LambdaContainerOptions = {}): Promise<Container> {
  const config = loadConfig(process.env, modules);
  return createContainer({
    config,
    modules,
    secrets: options.masterSecret === false ? noMasterSecret() : await masterSecret(config),
    ports: awsPorts(config),
  });
}

async function masterSecret(config: ReturnType<typeof loadConfig>): Promise<Secrets> {
  let secret: string | undefined = config.appSecret;
  if (!secret && config.appSecretArn)
    secret = await secretString(config.region, config.appSecretArn);
  if (!secret)
    throw new ConfigError('Invalid configuration: APP_SECRET_ARN or APP_SECRET is required');
  return deriveSecrets(Buffer.from(secret, 'base64url'));
}

function noMasterSecret(): Secrets {
  const refuse = (): never => {
    throw new ConfigError(
      'Invalid configuration: this function is built without the master secret',
    );
  };
  return { key: refuse, seal: refuse, open: refuse };
}

/**
 * `handler`, writing out the metrics its invocation counted when it ends (the EMF lines go to
 * stdout, which CloudWatch Logs reads), whether it succeeded or threw.
 */
export function flushingMetrics<Args extends unknown[], Result>(
  container: Container,
  handler: (...args: Args) => Promise<Result>,
): (...args: Args) => Promise<Result> {
  const { metrics } = container.ports;
  if (!(metrics instanceof DeferredEmfMetrics)) return handler;
  return async (...args) => {
    try {
      return await handler(...args);
    } finally {
      await metrics.flush();
    }
  };
}
