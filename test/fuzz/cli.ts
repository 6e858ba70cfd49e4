import { startDynamoDbLocal } from '../../src/runtime/local/dynamodb-local.js';
import { createFuzzer } from './fuzzer.js';
import { createFuzzApp } from './target.js';

/**
 * `npm run fuzz [-- --count 10000 --seed 42]`: the long fuzz run, against an in-memory DynamoDB
 * Local of its own. Prints the seed first (replay with --seed), a summary, and every failure;
 * exits 1 when there is one.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} takes a whole number`);
  return value;
}

const seed = option('seed', Math.floor(Math.random() * 2 ** 31));
const count = option('count', 10_000);
process.stdout.write(
  `fuzz: seed ${seed}, ${count} requests (replay: npm run fuzz -- --seed ${seed} --count ${count})\n`,
);

const database = await startDynamoDbLocal();
try {
  const target = await createFuzzApp(database.endpoint);
  const fuzzer = createFuzzer(target.document);
  const started = performance.now();
  const swept = await fuzzer.sweep(target);
  const report = await fuzzer.run(target, { seed, count });
  const seconds = (performance.now() - started) / 1000;
  await target.close();
  process.stdout.write(
    `fuzz: a sweep of ${swept.requests} requests over every GET route and ${target.servedPaths?.length ?? 0} served paths, statuses ${JSON.stringify(swept.byStatus)}\n` +
      `fuzz: ${report.requests} requests over ${fuzzer.operations.length} operations and the served paths in ${seconds.toFixed(0)} s\n` +
      `fuzz: statuses ${JSON.stringify(report.byStatus)}\n` +
      `fuzz: mutations ${JSON.stringify(report.byMutation)}\n`,
  );
  const failures = [...swept.failures, ...report.failures];
  for (const failure of failures) {
    process.stdout.write(
      `FAIL #${failure.index}: ${failure.reason} (${failure.status})\n${JSON.stringify(failure.request)}\n${failure.body}\n\n`,
    );
  }
  process.stdout.write(
    failures.length === 0 ? 'fuzz: no failures\n' : `fuzz: ${failures.length} failures\n`,
  );
  process.exitCode = failures.length === 0 ? 0 : 1;
} finally {
  await database.stop();
}
