import { z } from 'zod';
import { defaultTableName, type TableId, tableDefinitions } from './dynamo/tables.js';

/**
 * Configuration is read once, here, and fails fast: a wrong variable stops the process at start
 * with every problem listed, instead of surfacing as a 500 on the first request that needs it.
 */

const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'silent'] as const;

const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATA_DIR: z.string().min(1).default('./.data'),
  API_KEYS: csv.optional(),
  API_KEY_SOURCE: z.enum(['local', 'api-gateway']).default('local'),
  LOG_LEVEL: z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(logLevels))
    .default('info'),
  DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  CORS_ORIGINS: csv.default(['*']),
  TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default('roster'),
  DOCS_ASSETS_DIR: z.string().min(1).optional(),
});

export type LogLevel = (typeof logLevels)[number];

export interface Config {
  readonly port: number;
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
  readonly tables: Readonly<Record<TableId, string>>;
  readonly docsAssetsDir: string | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(emptyToUndefined(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const tables = Object.fromEntries(
    tableDefinitions.map((table) => [
      table.id,
      env[table.envVar] || defaultTableName(table, e.TABLE_PREFIX),
    ]),
  ) as Record<TableId, string>;
  return {
    port: e.PORT,
    dataDir: e.DATA_DIR,
    apiKeys: e.API_KEYS && e.API_KEYS.length > 0 ? e.API_KEYS : undefined,
    apiKeySource: e.API_KEY_SOURCE,
    logLevel: e.LOG_LEVEL,
    dynamodbEndpoint: e.DYNAMODB_ENDPOINT,
    region: e.AWS_REGION,
    corsOrigins: e.CORS_ORIGINS,
    tables,
    docsAssetsDir: e.DOCS_ASSETS_DIR,
  };
}

function emptyToUndefined(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]));
}
