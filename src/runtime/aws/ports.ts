import type { Config } from '../../platform/config.js';
import { ConfigError, timerTargetOf } from '../../platform/config.js';
import type { EventBus } from '../../platform/event-bus/bus.js';
import type { EmfMetrics } from '../../platform/metrics/emf.js';
import type { MetricsPort } from '../../platform/metrics/metrics.js';
import type { Ports } from '../../platform/module.js';
import { onFirstUse } from '../../platform/on-first-use.js';
import type { Queue, QueuePort } from '../../platform/queue/queue.js';
import type { TimerPort } from '../../platform/timers/timers.js';
import type { UserPoolTokens } from '../../platform/tokens/tokens.js';
import type { Workflows } from '../../platform/workflow/workflow.js';

/*
 * The AWS adapters of a Lambda function, each loaded by `import()` when a call first needs it:
 * the SDK clients other than DynamoDB's, Powertools Metrics and aws-jwt-verify sit in chunks of
 * the bundle (infra/bundling.ts splits at every `import()`), so a function pays for loading one
 * only if it uses it. Most functions use one or two services; the authorizer none. The ports
 * answer as the adapters do: these only forward each call once the adapter is there.
 */

/** The function's ports on AWS (queues, workflows, event bus, timers, metrics, tokens). */
export function awsPorts(config: Config): Ports & { readonly metrics: DeferredEmfMetrics } {
  const { region } = config;

  const sqs = onFirstUse(async () => {
    const [{ SQSClient }, { SqsQueuePort }] = await Promise.all([
      import('@aws-sdk/client-sqs'),
      import('../../platform/queue/sqs.js'),
    ]);
    return new SqsQueuePort(new SQSClient({ region }), config.queues);
  });
  const queues: QueuePort = {
    queue(definition) {
      const queue = async (): Promise<Queue> => (await sqs()).queue(definition);
      return {
        send: async (body, options) => (await queue()).send(body, options),
        sendBatch: async (bodies) => (await queue()).sendBatch(bodies),
        deadLetter: async (message, reason) => (await queue()).deadLetter(message, reason),
      };
    },
  };

  const stepFunctions = onFirstUse(async () => {
    const [{ SFNClient }, { StepFunctionsWorkflows }] = await Promise.all([
      import('@aws-sdk/client-sfn'),
      import('../../platform/workflow/step-functions.js'),
    ]);
    return new StepFunctionsWorkflows(new SFNClient({ region }), config.workflows);
  });
  const workflows: Workflows = {
    start: async (workflow, input, options) =>
      (await stepFunctions()).start(workflow, input, options),
    describe: async (workflow, executionId) =>
      (await stepFunctions()).describe(workflow, executionId),
  };

  const eventBridge = onFirstUse(async () => {
    const [{ EventBridgeClient }, { EventBridgeBus }] = await Promise.all([
      import('@aws-sdk/client-eventbridge'),
      import('../../platform/event-bus/eventbridge.js'),
    ]);
    return new EventBridgeBus(new EventBridgeClient({ region }));
  });
  const events: EventBus = { publish: async (batch) => (await eventBridge()).publish(batch) };

  // One-time schedules in the stack's group; a deadline within the minute goes on the queue.
  const targetOf = (queue: Parameters<TimerPort['timers']>[0]) => timerTargetOf(config, queue);
  const scheduler = onFirstUse(async () => {
    const [{ SchedulerClient }, { SchedulerTimers }] = await Promise.all([
      import('@aws-sdk/client-scheduler'),
      import('../../platform/timers/scheduler.js'),
    ]);
    return new SchedulerTimers(new SchedulerClient({ region }), queues, targetOf);
  });
  const timers: TimerPort = {
    timers(queue) {
      // As SchedulerTimers does: a function missing its timer configuration fails as it starts
      // (services ask for their timers when they are built), not on its first deadline.
      targetOf(queue);
      return {
        set: async (name, at, body) => (await scheduler()).timers(queue).set(name, at, body),
      };
    },
  };

  return {
    queues,
    workflows,
    events,
    timers,
    // Written out by the entry when an invocation ends (flushingMetrics).
    metrics: new DeferredEmfMetrics(),
    // Tokens come from the stack's Cognito user pool (none configured: bearer tokens refused).
    ...(config.cognito ? { tokens: userPoolTokens(region, config.cognito) } : {}),
  };
}

/**
 * Cognito's token port. Signing in needs the Cognito client; verifying a token needs
 * aws-jwt-verify alone (the verifier cognitoTokens builds, for the same pool and client): each
 * is loaded by the first call that needs it.
 */
function userPoolTokens(region: string, cognito: NonNullable<Config['cognito']>): UserPoolTokens {
  const issuer = onFirstUse(async () => {
    const [{ CognitoIdentityProviderClient }, { cognitoTokens }] = await Promise.all([
      import('@aws-sdk/client-cognito-identity-provider'),
      import('../../platform/tokens/cognito.js'),
    ]);
    return cognitoTokens({
      region,
      ...cognito,
      client: new CognitoIdentityProviderClient({ region }),
    });
  });
  const verifier = onFirstUse(async () => {
    const { userPoolVerifier } = await import('../../platform/tokens/verifier.js');
    return userPoolVerifier({ userPoolId: cognito.userPoolId, clientId: cognito.clientId });
  });
  return {
    kind: 'user-pool',
    authenticate: async (username, password) => (await issuer()).authenticate(username, password),
    verify: async (token) => (await verifier())(token),
  };
}

/**
 * The metrics port on CloudWatch (EmfMetrics, through Powertools Metrics), loaded when an
 * invocation that counted something ends: counting only notes the count, and `flush` hands the
 * invocation's counts to EmfMetrics, which writes one EMF line per module.
 */
export class DeferredEmfMetrics implements MetricsPort {
  private counts: [module: string, name: string, value: number][] = [];
  private readonly emf = onFirstUse(async (): Promise<EmfMetrics> => {
    const { EmfMetrics } = await import('../../platform/metrics/emf.js');
    return new EmfMetrics();
  });

  count(module: string, name: string, value = 1): void {
    this.counts.push([module, name, value]);
  }

  /** Writes what was counted since the last flush (nothing, and loads nothing, when nothing was). */
  async flush(): Promise<void> {
    if (this.counts.length === 0) return;
    const counts = this.counts;
    this.counts = [];
    const emf = await this.emf();
    for (const [module, name, value] of counts) emf.count(module, name, value);
    emf.flush();
  }
}

/**
 * A secret's string, by ARN: from the AWS Parameters and Secrets Lambda Extension where the
 * function has it — the stack adds it to the gateway authorizer alone, and with it
 * `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, which is how a function knows — and from Secrets
 * Manager's client otherwise (every other function, and wherever no extension runs). The
 * extension asks Secrets Manager with the function's own role, so both need the same grant; what
 * it saves is the client and the SDK core this function would load for one call.
 */
export async function secretString(
  region: string,
  secretId: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const port = env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT;
  const secret = port
    ? await secretFromExtension(port, env.AWS_SESSION_TOKEN ?? '', secretId)
    : await secretFromSecretsManager(region, secretId);
  if (!secret) throw new ConfigError(`Invalid configuration: the secret ${secretId} is empty`);
  return secret;
}

/** How long a start waits for the extension to listen (it starts beside the function). */
const EXTENSION_READY_WITHIN_MS = 2_000;

/**
 * GetSecretValue through the extension: `GET /secretsmanager/get?secretId=` on its local port,
 * authenticated by the function's session token; it answers GetSecretValue's JSON. Lambda starts
 * the extension's process beside the function's, so in the first milliseconds of a start its port
 * may refuse connections: those are tried again for up to EXTENSION_READY_WITHIN_MS. Any answer
 * but 200 is a failure (the extension passes Secrets Manager's refusals on as 4xx).
 */
async function secretFromExtension(
  port: string,
  sessionToken: string,
  secretId: string,
): Promise<string | undefined> {
  const url = `http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`;
  const giveUpAt = Date.now() + EXTENSION_READY_WITHIN_MS;
  for (let pause = 10; ; pause = Math.min(pause * 2, 100)) {
    let answer: { status: number; body: string };
    try {
      answer = await httpGet(url, { 'X-Aws-Parameters-Secrets-Token': sessionToken });
    } catch (error) {
      if (!refused(error) || Date.now() + pause > giveUpAt) {
        const code = (error as { code?: string }).code ?? String(error);
        throw new Error(
          `the Parameters and Secrets Lambda Extension on port ${port} did not answer for ${secretId} (${code})`,
          { cause: error },
        );
      }
      await new Promise((done) => setTimeout(done, pause));
      continue;
    }
    if (answer.status !== 200) {
      // The body names the error (AccessDeniedException, ResourceNotFoundException…), no secret.
      throw new Error(
        `the Parameters and Secrets Lambda Extension answered ${answer.status} for ${secretId}: ${answer.body.slice(0, 200)}`,
      );
    }
    return (JSON.parse(answer.body) as { SecretString?: string }).SecretString;
  }
}

/**
 * One GET with `node:http`, taken by `process.getBuiltinModule`: the global `fetch` loads undici
 * as it is first used, and `import('node:http')` builds the module's ESM facade, which loads it
 * too — the authorizer's import took ~56 ms with `fetch`, ~29 with this, in a start that is
 * otherwise ~15 ms (docs/decisions/lean-functions.md).
 */
function httpGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const http = process.getBuiltinModule('node:http');
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

/** A connection the port refused (nothing listens there yet), one address or each of them. */
function refused(error: unknown): boolean {
  const { code, errors } = error as { code?: string; errors?: { code?: string }[] };
  return (
    code === 'ECONNREFUSED' ||
    (errors !== undefined && errors.length > 0 && errors.every((e) => e.code === 'ECONNREFUSED'))
  );
}

/** GetSecretValue with Secrets Manager's client (loaded for this call, then let go). */
async function secretFromSecretsManager(
  region: string,
  secretId: string,
): Promise<string | undefined> {
  const { GetSecretValueCommand, SecretsManagerClient } = await import(
    '@aws-sdk/client-secrets-manager'
  );
  const client = new SecretsManagerClient({ region });
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    return SecretString;
  } finally {
    client.destroy();
  }
}
