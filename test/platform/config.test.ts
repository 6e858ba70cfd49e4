import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
