import { modules } from '../../modules/index.js';
import { type Config, ConfigError, loadConfig, timerTargetOf } from '../../platform/config.js';
import { unavailable } from '../../platform/errors.js';
import { type AnyModule, loadModules } from '../../platform/module.js';
import { type SecretSource, secretsOnFirstUse } from '../../platform/secrets.js';
import { awsPorts, DeferredEmfMetrics, secretString } from '../aws/ports.js';
import { type Container, createContainer } from '../container.js';

export interface LambdaContainerOptions {
  /**
   * When the modules' code loads (docs/decisions/lazy-modules.md): as the function starts (the
   * default: tasks call their services at once), or, for the API, on the first request to one of
   * a module's routes.
   */
  readonly moduleCode?: 'at-start' | 'on-first-request';
}

/**
 * What every Lambda entry does once per execution environment, outside its handler: read the
 * configuration and build the container for the listed modules, with the AWS adapters each
 * loaded on first use (src/runtime/aws/ports.ts) and the master secret fetched by the first call
 * that needs a key (`masterSecret`), not here. (The gateway authorizer builds no container:
 * src/runtime/lambda/authorizer.ts.)
 */
export async function lambdaContainer(options: LambdaContainerOptions = {}): Promise<Container> {
  const config = loadConfig(process.env, modules);
  if (options.moduleCode === 'on-first-request') {
    // What building the services checks as a function starts, checked here for a function that
    // builds them on a module's first request: timers need their queue's configuration.
    for (const task of (modules as readonly AnyModule[]).flatMap((module) => module.tasks ?? [])) {
      if (task.queue?.timerTarget) timerTargetOf(config, task.queue);
    }
  } else {
    await loadModules(modules);
  }
  return createContainer({
    config,
    modules,
    secrets: masterSecret(config),
    ports: awsPorts(config),
  });
}

/**
 * The keys, from APP_SECRET where it is set directly, else from the Secrets Manager secret the
 * stack names (APP_SECRET_ARN), fetched by the first call that needs a key: most requests and
 * tasks derive none, and the fetch (the client's code and a round trip) stays off the cold start.
 * That one of the two is configured is checked here, as the function starts. A failed fetch is
 * a 503 for the request that needed it, and the next one fetches again.
 */
function masterSecret(config: Config): SecretSource {
  const { appSecret, appSecretArn, region } = config;
  if (appSecret) return secretsOnFirstUse(async () => Buffer.from(appSecret, 'base64url'));
  if (!appSecretArn) {
    throw new ConfigError('Invalid configuration: APP_SECRET_ARN or APP_SECRET is required');
  }
  return secretsOnFirstUse(async () => {
    try {
      return Buffer.from(await secretString(region, appSecretArn), 'base64url');
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw unavailable(
        'SECRETS.UNAVAILABLE',
        "The deployment's keys could not be read; retry shortly.",
        1,
        error,
      );
    }
  });
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
