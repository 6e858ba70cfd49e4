import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { captureConsoleLine } from './test/support/log-capture.js';

/**
 * Four projects, each test file in exactly one (test/projects.test.ts checks it), so that each
 * kind of test can be run alone (`npm run test:<project>`) and only the ones that need DynamoDB
 * Local start it. Why the lines fall where they do: docs/decisions/testing.md.
 */

/** Pure code: rules, schemas, config, limiter, adapters against SDK clients answered in-process. */
const unit = [
  'console/test/**/*.test.ts',
  'test/*/rules.test.ts',
  'test/auth/throttle.test.ts',
  'test/customers/definition.test.ts',
  'test/events/shards-rules.test.ts',
  'test/hardening/log-scan.test.ts',
  'test/platform/{coalesce,config,event-bus-workflow-adapters,gateway-authorizer,input,limiter,local-timers,partition-simulation,schedule,scheduler-timers,sqs-queue,static-assets}.test.ts',
  'test/runtime/local-queue.test.ts',
  'test/webhooks/delivery.test.ts',
  'test/projects.test.ts',
];

/** CDK synth and template assertions (no database). */
const infra = ['test/infra/*.test.ts', 'test/*/infra.test.ts'];
/** test/infra/ files that need more than a synth: DynamoDB Local, or a bundle run by node. */
const infraElsewhere = ['test/infra/access.test.ts', 'test/infra/bundling.test.ts'];

/** Real processes (the runtime, Biome, npm, bundles run by node), crashes, browsers, fuzzing. */
const system = [
  'test/**/*.browser.test.ts',
  'test/fuzz/**/*.test.ts',
  'test/hardening/{crash,kill-after-ack,audit}.test.ts',
  'test/runtime/{defects-http,local-runtime,users-cli}.test.ts',
  'test/{customers,enrollments}/{local-runtime,runtime}.test.ts',
  'test/webhooks/chaos.test.ts',
  'test/infra/bundling.test.ts',
  'test/platform/lint-rules.test.ts',
];

/**
 * DynamoDB Local and the app in-process (`app.request` or a server): by default, every test of a
 * module or platform folder that none of the projects above claims.
 */
const integration = [
  'test/{auth,customers,enrollments,events,hardening,platform,runtime,sla-errors,webhooks}/**/*.test.ts',
  // Grants checked against the calls the app makes on DynamoDB Local.
  'test/infra/access.test.ts',
];

const common = {
  // Copies each worker's stdout and stderr for the secret scan at the end of the run.
  setupFiles: ['test/support/log-capture.setup.ts', 'test/support/modules.setup.ts'],
  env: { LOG_LEVEL: 'silent', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  testTimeout: 30_000,
  hookTimeout: 120_000,
  pool: 'forks',
} satisfies TestProjectInlineConfiguration['test'];

/** One in-memory DynamoDB Local, shared by the projects of the run that need it. */
const dynamodbLocal = ['test/support/dynamodb-global-setup.ts'];

const excluding = (...globs: string[][]) => [...configDefaults.exclude, ...globs.flat()];

export const projects = [
  {
    test: {
      ...common,
      name: 'unit',
      include: unit,
      exclude: excluding(),
      // A fork per file spends more time starting and importing (zod, Hono, the SDK) than these
      // tests take; sharing a fork's modules between files halves the run. A unit test leaves
      // no global state behind (vi.stubEnv is undone by vi.unstubAllEnvs, and so on).
      isolate: false,
    },
  },
  {
    test: {
      ...common,
      name: 'integration',
      include: integration,
      exclude: excluding(unit, system, ['test/*/infra.test.ts']),
      globalSetup: dynamodbLocal,
    },
  },
  {
    test: {
      ...common,
      name: 'infra',
      include: infra,
      exclude: excluding(infraElsewhere),
    },
  },
  {
    test: {
      ...common,
      name: 'system',
      include: system,
      exclude: excluding(),
      globalSetup: dynamodbLocal,
    },
  },
] satisfies TestProjectInlineConfiguration[];

export default defineConfig({
  test: {
    projects,
    // Runs once per run, whichever projects are in it: empties the log capture before any test
    // and scans it for secrets when the run ends.
    globalSetup: ['test/support/global-setup.ts'],
    // What tests print with `console` reaches this process, not the workers' stdout.
    onConsoleLog: (log) => {
      captureConsoleLine(log);
    },
    // Most test time is spent waiting on DynamoDB Local (another process): two files at a
    // time keep both cores busy on a 2-core machine.
    maxWorkers: 2,
  },
});
