import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import {
  defaultTableName,
  idempotencyTable,
  type TableDefinition,
  tableEnvVar,
} from './dynamo/tables.js';
import { envName } from './env-names.js';
import { type LogLevel, logLevels } from './logger.js';
import type { AnyModule } from './module.js';
import { outboxQueue, outboxTable } from './outbox/outbox.js';
import { type QueueDefinition, queueEnvVars } from './queue/queue.js';
import { type WorkflowDefinition, workflowEnvVar } from './workflow/workflow.js';

/**
 * Configuration is read once, here, and fails fast: a wrong variable stops the process at start
 * with every problem listed (the platform's and every module's), instead of surfacing as a 500 on
 * the first request that needs it. Environment variables are read nowhere else.
 */

// Configuration errors name what is wrong in English: zod/mini installs no locale (classic zod
// does, as its first schema is built, and may not be loaded at all).
z.config(en());

// zod/mini, imported as a namespace so that a bundle keeps only the parts used here.
const csv = z.pipe(
  z.string(),
  z.transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  ),
);

const integer = (min: number, max: number, fallback: number) =>
  z._default(z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max)), fallback);
const nonEmpty = () => z.string().check(z.minLength(1));
const matching = (pattern: RegExp, message?: string) =>
  z.string().check(message === undefined ? z.regex(pattern) : z.regex(pattern, message));
const arn = () => z.optional(z.string().check(z.startsWith('arn:')));

const envSchema = z.object({
  PORT: integer(0, 65535, 3000),
  // This machine only, unless asked: the local runtime has no TLS, and its API key sits in a file.
  HOST: z._default(
    matching(/^(?:[0-9.]+|[0-9a-fA-F:]+|localhost)$/, 'must be an IP address or localhost'),
    '127.0.0.1',
  ),
  DYNAMODB_LOCAL_START_TIMEOUT_SECONDS: integer(1, 600, 60),
  DATA_DIR: z._default(nonEmpty(), './.data'),
  API_KEYS: z.optional(csv),
  API_KEY_SOURCE: z._default(z.enum(['local', 'api-gateway']), 'local'),
  LOG_LEVEL: z._default(
    z.pipe(
      z.pipe(
        z.string(),
        z.transform((value) => value.toLowerCase()),
      ),
      z.enum(logLevels),
    ),
    'info',
  ),
  DYNAMODB_ENDPOINT: z.optional(z.url()),
  AWS_REGION: z._default(nonEmpty(), 'us-east-1'),
  CORS_ORIGINS: z._default(csv, ['*']),
  TABLE_PREFIX: z._default(matching(/^[A-Za-z0-9_.-]+$/), 'roster'),
  DOCS_ASSETS_DIR: z.optional(nonEmpty()),
  CONSOLE_ASSETS_DIR: z.optional(nonEmpty()),
  IDEMPOTENCY_IN_FLIGHT_SECONDS: integer(1, 900, 60),
  DOMAIN_EVENT_RETENTION_DAYS: integer(1, 365, 30),
  APP_SECRET: z.optional(matching(/^[A-Za-z0-9_-]{43,}$/, 'must be at least 32 bytes, base64url')),
  APP_SECRET_ARN: arn(),
  COGNITO_USER_POOL_ID: z.optional(
    matching(/^[\w-]+_[0-9a-zA-Z]+$/, 'must be a user pool id (<region>_<id>)'),
  ),
  COGNITO_CLIENT_ID: z.optional(matching(/^[\w+]+$/, 'must be an app client id')),
  COGNITO_CLIENT_SECRET: z.optional(nonEmpty()),
  TOKEN_USAGE_KEY_ARN: arn(),
  ROSTER_TASK: z.optional(matching(/^[a-z0-9-]+\/[a-z0-9-]+$/, 'must be <module>/<task>')),
  TIMER_SCHEDULE_GROUP: z.optional(
    matching(/^[0-9A-Za-z_.-]{1,64}$/, 'must be an EventBridge Scheduler group name'),
  ),
});

export interface Config {
  readonly port: number;
  /** The address the local runtime's HTTP server listens on. */
  readonly host: string;
  /** How long the local runtime waits for the embedded DynamoDB Local's first answer. */
  readonly dynamodbLocalStartTimeoutMs: number;
  readonly dataDir: string;
  /** Keys accepted locally; `undefined` means "generate one under dataDir". */
  readonly apiKeys: readonly string[] | undefined;
  /**
   * `local`: the app checks `x-api-key` itself. `api-gateway`: API Gateway already enforced the
   * key and its usage plan; the app only requires that the request came through a key.
   */
  readonly apiKeySource: 'local' | 'api-gateway';
  readonly logLevel: LogLevel;
  readonly dynamodbEndpoint: string | undefined;
  readonly region: string;
  readonly corsOrigins: readonly string[];
  /** Physical table names by table id, for the platform's tables and every module's. */
  readonly tables: Readonly<Record<string, string>>;
  /** State machine ARNs by workflow id (AWS: `<ID>_STATE_MACHINE_ARN`; locally none). */
  readonly workflows: Readonly<Record<string, string | undefined>>;
  readonly docsAssetsDir: string | undefined;
  /** The built web console served at /console by the local runtime (default: console/dist). */
  readonly consoleAssetsDir: string | undefined;
  /** How long a request may hold its Idempotency-Key before a retry may take over. */
  readonly idempotencyInFlightSeconds: number;
  /** How long domain events stay in the log (readable, replayable to webhooks). */
  readonly domainEventRetentionDays: number;
  /**
   * The master secret (base64url), when given directly; else `appSecretArn` (AWS) or a file in
   * the data directory (local runtime) provides it.
   */
  readonly appSecret: string | undefined;
  readonly appSecretArn: string | undefined;
  /**
   * The secret holding the API key the gateway meters bearer-token callers under (read by the
   * gateway authorizer Lambda).
   */
  readonly tokenUsageKeyArn: string | undefined;
  /** The task a task Lambda runs (`<module>/<task>`). */
  readonly task: string | undefined;
  /**
   * The Cognito user pool and app client that issue bearer tokens; undefined when none is
   * configured (the local runtime then issues its own).
   */
  readonly cognito:
    | { readonly userPoolId: string; readonly clientId: string; readonly clientSecret?: string }
    | undefined;
  /** Each module's parsed settings, by module name. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Queue URLs by queue id (AWS: set by the stack; unused by the local runtime). */
  readonly queues: Readonly<
    Record<string, { readonly url: string | undefined; readonly deadLetterUrl: string | undefined }>
  >;
  /**
   * What timers need on AWS (set by the stack on the functions of a module that consumes a timer
   * queue; unused by the local runtime): read through `timerTargetOf`.
   */
  readonly timers: {
    readonly scheduleGroup: string | undefined;
    readonly queues: Readonly<Record<string, Readonly<Record<TimerVariable, string | undefined>>>>;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The platform's own tables, beside the modules'. */
export const platformTables: readonly TableDefinition[] = [idempotencyTable, outboxTable];

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  modules: readonly AnyModule[] = [],
): Config {
  const vars = emptyToUndefined(env);
  const problems: string[] = [];
  const parsed = z.safeParse(envSchema, vars);
  if (!parsed.success) problems.push(...issues(parsed.error));

  const settings: Record<string, unknown> = {};
  for (const module of modules) {
    if (!module.settings) continue;
    const names = settingsEnvVars(module);
    const input = Object.fromEntries(
      Object.entries(names).map(([key, variable]) => [key, vars[variable]]),
    );
    const result = z.safeParse(module.settings, input);
    if (result.success) settings[module.name] = result.data;
    else {
      problems.push(
        ...result.error.issues.map((issue) => {
          const key = String(issue.path[0] ?? '');
          return `${names[key] ?? `${module.name} settings`}: ${issue.message}`;
        }),
      );
    }
  }

  const tables = allTables(modules);
  const ids = new Set<string>();
  for (const table of tables) {
    if (ids.has(table.id)) problems.push(`table id "${table.id}" is declared twice`);
    ids.add(table.id);
  }
  if (
    parsed.success &&
    Boolean(parsed.data.COGNITO_USER_POOL_ID) !== Boolean(parsed.data.COGNITO_CLIENT_ID)
  ) {
    problems.push('COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID: set both or neither');
  }
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }

  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dynamodbLocalStartTimeoutMs: e.DYNAMODB_LOCAL_START_TIMEOUT_SECONDS * 1000,
    dataDir: e.DATA_DIR,
    apiKeys: e.API_KEYS && e.API_KEYS.length > 0 ? e.API_KEYS : undefined,
    apiKeySource: e.API_KEY_SOURCE,
    logLevel: e.LOG_LEVEL,
    dynamodbEndpoint: e.DYNAMODB_ENDPOINT,
    region: e.AWS_REGION,
    corsOrigins: e.CORS_ORIGINS,
    tables: Object.fromEntries(
      tables.map((table) => [
        table.id,
        vars[tableEnvVar(table)] ?? defaultTableName(table, e.TABLE_PREFIX),
      ]),
    ),
    workflows: Object.fromEntries(
      allWorkflows(modules).map((w) => [w.id, vars[workflowEnvVar(w)]]),
    ),
    docsAssetsDir: e.DOCS_ASSETS_DIR,
    consoleAssetsDir: e.CONSOLE_ASSETS_DIR,
    idempotencyInFlightSeconds: e.IDEMPOTENCY_IN_FLIGHT_SECONDS,
    domainEventRetentionDays: e.DOMAIN_EVENT_RETENTION_DAYS,
    appSecret: e.APP_SECRET,
    appSecretArn: e.APP_SECRET_ARN,
    task: e.ROSTER_TASK,
    tokenUsageKeyArn: e.TOKEN_USAGE_KEY_ARN,
    cognito:
      e.COGNITO_USER_POOL_ID && e.COGNITO_CLIENT_ID
        ? {
            userPoolId: e.COGNITO_USER_POOL_ID,
            clientId: e.COGNITO_CLIENT_ID,
            ...(e.COGNITO_CLIENT_SECRET ? { clientSecret: e.COGNITO_CLIENT_SECRET } : {}),
          }
        : undefined,
    settings,
    queues: Object.fromEntries(
      sendableQueues(modules).map((queue) => {
        const names = queueEnvVars(queue);
        return [queue.id, { url: vars[names.url], deadLetterUrl: vars[names.deadLetterUrl] }];
      }),
    ),
    timers: {
      scheduleGroup: e.TIMER_SCHEDULE_GROUP,
      queues: Object.fromEntries(
        timerQueues(modules).map((queue) => {
          const names = timerEnvVars(queue);
          return [
            queue.id,
            {
              queueArn: vars[names.queueArn],
              deadLetterArn: vars[names.deadLetterArn],
              roleArn: vars[names.roleArn],
            },
          ];
        }),
      ),
    },
  };
}

/**
 * Every environment variable `loadConfig` reads with these modules: the platform's, each
 * module's settings, and the names the stack passes (tables, workflows, queues).
 */
export function configVariables(modules: readonly AnyModule[]): string[] {
  return [
    ...Object.keys(envSchema.shape),
    ...modules.flatMap((module) => Object.values(settingsEnvVars(module))),
    ...allTables(modules).map(tableEnvVar),
    ...allWorkflows(modules).map(workflowEnvVar),
    ...sendableQueues(modules).flatMap((queue) => Object.values(queueEnvVars(queue))),
    ...timerQueues(modules).flatMap((queue) => Object.values(timerEnvVars(queue))),
  ];
}

/** Every module's tables, in list order, then the platform's. */
export function allTables(modules: readonly AnyModule[]): TableDefinition[] {
  return [...modules.flatMap((module) => module.tables), ...platformTables];
}

/** Every workflow the listed modules declare. */
export function allWorkflows(modules: readonly AnyModule[]): WorkflowDefinition[] {
  return modules.flatMap((module) => module.workflows ?? []);
}

/** Every queue a listed module's tasks consume (one per queue trigger). */
export function allQueues(modules: readonly AnyModule[]): QueueDefinition[] {
  return modules.flatMap((module) =>
    (module.tasks ?? []).flatMap((task) => (task.queue ? [task.queue] : [])),
  );
}

/** The queues a listed module consumes that timers deliver to (`timerTarget`). */
export function timerQueues(modules: readonly AnyModule[]): QueueDefinition[] {
  return allQueues(modules).filter((queue) => queue.timerTarget === true);
}

type TimerVariable = 'queueArn' | 'deadLetterArn' | 'roleArn';

/**
 * `offer-expiries` → `OFFER_EXPIRIES_QUEUE_ARN`, `OFFER_EXPIRIES_DLQ_ARN`,
 * `OFFER_EXPIRIES_TIMER_ROLE_ARN`: what the stack passes for a timer queue (its schedules' target,
 * where Scheduler dead-letters, the role it sends with), beside `TIMER_SCHEDULE_GROUP`.
 */
export function timerEnvVars(queue: Pick<QueueDefinition, 'id'>): Record<TimerVariable, string> {
  return {
    queueArn: envName(queue.id, 'QUEUE_ARN'),
    deadLetterArn: envName(queue.id, 'DLQ_ARN'),
    roleArn: envName(queue.id, 'TIMER_ROLE_ARN'),
  };
}

/**
 * Where timers on `queue` go on AWS, from the configuration; throws a ConfigError naming every
 * variable missing. Asked only where timers are set (the functions of the module consuming the
 * queue), so no other function needs them.
 */
export function timerTargetOf(
  config: Pick<Config, 'timers'>,
  queue: QueueDefinition,
): {
  readonly scheduleGroup: string;
  readonly queueArn: string;
  readonly deadLetterArn: string;
  readonly roleArn: string;
} {
  if (queue.timerTarget !== true) {
    throw new ConfigError(
      `queue "${queue.id}" is not a timer target: declare it with timerTarget: true (the stack lets Scheduler send to no other)`,
    );
  }
  const { scheduleGroup } = config.timers;
  const { queueArn, deadLetterArn, roleArn } = config.timers.queues[queue.id] ?? {};
  if (scheduleGroup && queueArn && deadLetterArn && roleArn) {
    return { scheduleGroup, queueArn, deadLetterArn, roleArn };
  }
  const names = timerEnvVars(queue);
  const missing = [
    ...(scheduleGroup ? [] : ['TIMER_SCHEDULE_GROUP']),
    ...(queueArn ? [] : [names.queueArn]),
    ...(deadLetterArn ? [] : [names.deadLetterArn]),
    ...(roleArn ? [] : [names.roleArn]),
  ];
  throw new ConfigError(
    `Invalid configuration: timers on queue "${queue.id}" need ${missing.join(', ')} (the stack sets them on the functions of the module that consumes it)`,
  );
}

/**
 * The queues a function of these modules may send on: those their tasks consume, and the
 * outbox's wake-up queue, which a module committing domain events sends on whoever consumes it
 * (the stack gives its URL to exactly the functions that commit events).
 */
function sendableQueues(modules: readonly AnyModule[]): QueueDefinition[] {
  const queues = allQueues(modules);
  return queues.includes(outboxQueue) ? queues : [...queues, outboxQueue];
}

/**
 * The environment variable of each setting of a module: `<MODULE>_<KEY>` in SCREAMING_SNAKE_CASE
 * (`widgets` + `retryAfterSeconds` → `WIDGETS_RETRY_AFTER_SECONDS`). The CDK
 * stack uses it to pass settings to functions.
 */
export function settingsEnvVars(module: AnyModule): Record<string, string> {
  const shape = (module.settings as { shape?: Record<string, unknown> } | undefined)?.shape;
  if (!shape) return {};
  return Object.fromEntries(Object.keys(shape).map((key) => [key, envName(module.name, key)]));
}

function issues(error: z.core.$ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

function emptyToUndefined(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]));
}
