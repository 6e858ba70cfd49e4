import { defineConfig } from 'vitest/config';
import { captureConsoleLine } from './test/support/log-capture.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'console/test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Copies each worker's stdout and stderr for the secret scan at the end of the run.
    setupFiles: ['test/support/log-capture.setup.ts'],
    // What tests print with `console` reaches this process, not the workers' stdout.
    onConsoleLog: (log) => {
      captureConsoleLine(log);
    },
    env: { LOG_LEVEL: 'silent', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most test time is spent waiting on DynamoDB Local (another process): two files at a
    // time keep both cores busy on a 2-core machine.
    maxWorkers: 2,
  },
});
