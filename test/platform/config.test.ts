import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { modules } from '../../src/modules/index.js';
import { ConfigError, configVariables, loadConfig } from '../../src/platform/config.js';
import { cleanRuntimeEnv, repoRoot } from '../support/process.js';

/** Names the README gives as a pattern (one per table, queue or workflow) rather than one by one. */
const PATTERNS = [
  /_TABLE_NAME$/,
  /_QUEUE_URL$/,
  /_DLQ_URL$/,
  /_STATE_MACHINE_ARN$/,
  /_QUEUE_ARN$/,
  /_DLQ_ARN$/,
  /_TIMER_ROLE_ARN$/,
];

describe('configuration', () => {
  const variables = configVariables(modules);

  it('lists every variable loadConfig reads: a bad value of each is refused by name', () => {
    const numeric = variables.filter((name) => /_SECONDS$|_BURST$|^PORT$/.test(name));
    expect(numeric.length).toBeGreaterThan(3);
    for (const name of numeric) {
      expect(() => loadConfig({ [name]: 'not-a-number' }, modules), name).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: 'not-a-number' }, modules), name).toThrow(name);
    }
    // A name the stack sets reaches the config it was meant for.
    const config = loadConfig({ EVENTS_TABLE_NAME: 'stage-events' }, modules);
    expect(variables).toContain('EVENTS_TABLE_NAME');
    expect(config.tables.events).toBe('stage-events');
  });

  it('is documented in the README, each variable or the pattern it follows', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const undocumented = variables.filter(
      (name) => !new RegExp(`\\b${name}\\b`).test(readme) && !PATTERNS.some((p) => p.test(name)),
    );
    expect(undocumented).toEqual([]);
  });

  it('is left out of the environment the tests start the runtime with', () => {
    const previous = { ...process.env };
    try {
      for (const name of variables) process.env[name] = 'from-the-shell';
      const env = cleanRuntimeEnv();
      expect(variables.filter((name) => env[name] !== undefined)).toEqual([]);
    } finally {
      for (const name of variables) {
        if (previous[name] === undefined) delete process.env[name];
        else process.env[name] = previous[name];
      }
    }
  });
});

describe('configuration errors', () => {
  it.each([
    [{ PORT: 'x' }, 'PORT: Invalid input: expected number, received NaN'],
    [{ PORT: '1.5' }, 'PORT: Invalid input: expected int, received number'],
    [{ PORT: '-1' }, 'PORT: Too small: expected number to be >=0'],
    [{ PORT: '70000' }, 'PORT: Too big: expected number to be <=65535'],
    [{ HOST: 'a b' }, 'HOST: must be an IP address or localhost'],
    [
      { API_KEY_SOURCE: 'x' },
      'API_KEY_SOURCE: Invalid option: expected one of "local"|"api-gateway"',
    ],
    [
      { LOG_LEVEL: 'loud' },
      'LOG_LEVEL: Invalid option: expected one of "trace"|"debug"|"info"|"warn"|"error"|"critical"|"silent"',
    ],
    [{ DYNAMODB_ENDPOINT: 'x' }, 'DYNAMODB_ENDPOINT: Invalid URL'],
    [
      { TABLE_PREFIX: 'a b' },
      'TABLE_PREFIX: Invalid string: must match pattern /^[A-Za-z0-9_.-]+$/',
    ],
    [{ APP_SECRET: 'short' }, 'APP_SECRET: must be at least 32 bytes, base64url'],
    [{ APP_SECRET_ARN: 'x' }, 'APP_SECRET_ARN: Invalid string: must start with "arn:"'],
    [{ ROSTER_TASK: 'x' }, 'ROSTER_TASK: must be <module>/<task>'],
    [
      { ENROLLMENTS_RECONCILE_SCHEDULE: 'every minute' },
      'ENROLLMENTS_RECONCILE_SCHEDULE: must be an EventBridge rate expression (e.g. "rate(5 minutes)") or "off"',
    ],
    [
      { COGNITO_USER_POOL_ID: 'us-east-1_abc' },
      'COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID: set both or neither',
    ],
    [
      { PORT: 'x', HOST: 'a b' },
      'PORT: Invalid input: expected number, received NaN; HOST: must be an IP address or localhost',
    ],
  ])('%j: %s', (env, problem) => {
    expect(() => loadConfig(env, modules)).toThrow(
      new ConfigError(`Invalid configuration: ${problem}`),
    );
  });

  it('are in English wherever the configuration is read, whatever else is loaded', async () => {
    // A process that loads the configuration alone: no classic zod schema installs English first.
    const script = [
      "import { loadConfig } from './src/platform/config.ts';",
      "try { loadConfig({ PORT: '1.5' }); } catch (error) { process.stdout.write(error.message); }",
    ].join('\n');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: repoRoot, env: cleanRuntimeEnv() },
    );
    expect(stdout).toBe(
      'Invalid configuration: PORT: Invalid input: expected int, received number',
    );
  });
});
