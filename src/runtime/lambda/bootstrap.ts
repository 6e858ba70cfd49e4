import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { modules } from '../../modules/index.js';
import { ConfigError, loadConfig, timerTargetOf } from '../../platform/config.js';
import { EventBridgeBus } from '../../platform/event-bus/eventbridge.js';
import { EmfMetrics } from '../../platform/metrics/emf.js';
import { SqsQueuePort } from '../../platform/queue/sqs.js';
import { deriveSecrets } from '../../platform/secrets.js';
import { SchedulerTimers } from '../../platform/timers/scheduler.js';
import { cognitoTokens } from '../../platform/tokens/cognito.js';
import { StepFunctionsWorkflows } from '../../platform/workflow/step-functions.js';
import { type Container, createContainer } from '../container.js';

/**
 * What every Lambda entry does once per execution environment, outside its handler: read the
 * configuration, fetch the master secret (Secrets Manager, by the ARN the stack passes; or
 * APP_SECRET where it is set directly) and build the container for the listed modules.
 */
export async function lambdaContainer(): Promise<Container> {
  const config = loadConfig(process.env, modules);
  let secret: string | undefined = config.appSecret;
  if (!secret && config.appSecretArn) {
    secret = await getSecret<string>(config.appSecretArn, { maxAge: 3600 });
  }
  if (!secret)
    throw new ConfigError('Invalid configuration: APP_SECRET_ARN or APP_SECRET is required');
  const queues = new SqsQueuePort(
    lazy(() => new SQSClient({ region: config.region })),
    config.queues,
  );
  return createContainer({
    config,
    modules,
    secrets: deriveSecrets(Buffer.from(secret, 'base64url')),
    ports: {
      queues,
      workflows: new StepFunctionsWorkflows(
        lazy(() => new SFNClient({ region: config.region })),
        config.workflows,
      ),
      events: new EventBridgeBus(lazy(() => new EventBridgeClient({ region: config.region }))),
      // One-time schedules in the stack's group; a deadline within the minute goes on the queue.
      timers: new SchedulerTimers(
        lazy(() => new SchedulerClient({ region: config.region })),
        queues,
        (queue) => timerTargetOf(config, queue),
      ),
      // Written out by the entry when an invocation ends (flushingMetrics).
      metrics: new EmfMetrics(),
      // Tokens come from the stack's Cognito user pool (none configured: bearer tokens refused).
      ...(config.cognito
        ? {
            tokens: cognitoTokens({
              region: config.region,
              ...config.cognito,
              client: lazy(() => new CognitoIdentityProviderClient({ region: config.region })),
            }),
          }
        : {}),
    },
  });
}

/**
 * An SDK client built on first use. Every function gets every port, but most call one or two
 * services (the authorizer none of them): a client's construction (configuration, endpoint
 * resolution, middleware stack) is only paid by a function that sends something through it.
 */
function lazy<Client extends object>(create: () => Client): Client {
  let client: Client | undefined;
  return new Proxy({} as Client, {
    get(_target, property) {
      client ??= create();
      const value: unknown = Reflect.get(client, property, client);
      return typeof value === 'function' ? value.bind(client) : value;
    },
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
  if (!(metrics instanceof EmfMetrics)) return handler;
  return async (...args) => {
    try {
      return await handler(...args);
    } finally {
      metrics.flush();
    }
  };
}
