import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { modules } from '../src/modules/index.js';
import { idempotencyTable } from '../src/platform/dynamo/tables.js';
import { exercisesOf, isNone } from '../test/support/exercises/index.js';
import { webhooksChaos } from '../test/support/webhooks-chaos.js';
import { type ColdStart, measureColdStart } from './support/cold-start.js';
import { csvExportBench } from './support/csv-export.js';
import { durabilityBench } from './support/durability.js';
import { eventsSection } from './support/events.js';
import { hotEventSection } from './support/hot-event.js';
import { type LambdaBundles, lambdaBundles } from './support/lambda-bundles.js';
import { directLoad, httpLoad, median, type Sample, summarize } from './support/measure.js';
import { offersSection } from './support/offers.js';
import type { Committed } from './support/registrations.js';
import { printReport, type Row } from './support/report.js';
import type { BenchTools, Target } from './support/sections.js';
import { type BenchStack, startStack } from './support/stack.js';
import { ticketsBench } from './support/tickets.js';

// As in src/runtime/local/main.ts: the SDK's notice about its future Node requirement is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const settings = {
  concurrency: 32,
  warmupSeconds: 2,
  /** Steady comparisons run in interleaved rounds, so a busy moment hits every target alike. */
  rounds: 3,
  roundSeconds: 2,
  /** Upper bound on calls in one steady direct round, whatever the time bound. */
  maxDirectCalls: 200_000,
  coldStartRuns: 3,
  burst: 1000,
  /** Each burst runs this many times, interleaved with the others. */
  burstRounds: 3,
  capacity: 100,
  warmupBurst: 100,
  warmupCapacity: 10,
  /** No burst may run longer than this. */
  burstWatchdogSeconds: 60,
  enrollments: 1000,
  /** Imports of each Lambda bundle in a fresh node (median reported). */
  lambdaInitRuns: 9,
} as const;

/**
 * `npm run bench -- --only=lambda`: the Lambda bundles alone (no DynamoDB Local, ~1 minute);
 * `--only=durability`: DynamoDB Local's writes/s in memory and persisted (~1 minute);
 * `--only=webhooks`: commit-to-first-attempt latency, then 10,000 events delivered to a failing
 * receiver while the runtime is SIGKILLed every minute (~5 minutes);
 * `--only=csv`: a 50,000-registration CSV export streamed from the app, with its RSS growth;
 * `--only=offers`: 10,000 waitlist offers lapsing together, each seat to the next person
 * (`--offers=<events>x<batch>` for another size, `--offers-over=<s>` to make them evenly over that
 * many seconds, all pending at once before they lapse at a steady rate);
 * `--only=tickets`: the door manifest of 10,000 attendees (size gzipped, time) and its deltas;
 * `--only=hot-event`: one event's registrations at its partition ceiling, under the partition
 * simulation and without it (`--shards=1,16`, `--simulate=on|off`, `--scale=1/60`,
 * `--capacity=600`, `--demand=`, `--clients=200`, `--hold-ms=`, `--waitlist=on|off`,
 * `--admission=<share>`; ~6 minutes at the defaults).
 */
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

/** Warnings printed by libraries during the run (the SDK's socket warning), by phase. */
const warnings = new Map<string, number>();
let phase = 'setup';

async function main(): Promise<void> {
  const started = performance.now();
  const phases: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    phase = name;
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      phases[name] = Math.round(performance.now() - t0) / 1000;
    }
  };
  const loadBefore = loadavg()[0];
  const originalWarn = console.warn;
  console.warn = (...args: unknown[]) => {
    const key = `${phase}: ${String(args[0]).split('\n')[0]}`;
    warnings.set(key, (warnings.get(key) ?? 0) + 1);
  };

  if (only === 'webhooks') {
    await webhooksBench(log);
    return;
  }
  if (only === 'csv') {
    await csvBench(log);
    return;
  }
  if (only === 'offers') {
    await offersSection(log, process.argv);
    return;
  }
  if (only === 'tickets') {
    await ticketsSection(log);
    return;
  }
  if (only === 'hot-event') {
    await hotEventSection(log, process.argv);
    return;
  }

  const durability = await timed('durability', () => {
    log('durability: raw writes/s on DynamoDB Local in memory, persisted (stock and our launcher)');
    return durabilityBench({
      rounds: settings.rounds,
      roundSeconds: settings.roundSeconds,
      concurrency: 8,
    });
  });
  if (only === 'durability') {
    printReport({
      rows: durability,
      ratios: durabilityRatios(durability),
      coldStart: { runs: [], medianReadyMs: Number.NaN },
      committed: {},
      problems: [],
      warnings: [],
      machine: `${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}`,
    });
    return;
  }

  const lambda = await timed('lambda bundles', () => {
    log(
      `lambda bundles: each function bundled as deployed, ${settings.lambdaInitRuns} imports each`,
    );
    return lambdaBundles(repoRoot, { runs: settings.lambdaInitRuns });
  });
  printLambdaBundles(lambda);
  if (only === 'lambda') {
    await writeResults({ at: new Date().toISOString(), phases, lambda });
    if (lambda.problems.length > 0) process.exitCode = 1;
    return;
  }

  const coldStarts = await timed('cold start', async () => {
    log(`cold start: ${settings.coldStartRuns} runs of the local runtime from an empty DATA_DIR`);
    const runs: ColdStart[] = [];
    for (let i = 0; i < settings.coldStartRuns; i++) runs.push(await measureColdStart(repoRoot));
    return runs;
  });
  const restarts = await timed('restart', async () => {
    log(`restart: ${settings.coldStartRuns} starts on a data directory an earlier start left`);
    const dataDir = await mkdtemp(join(tmpdir(), 'roster-bench-restart-'));
    try {
      await measureColdStart(repoRoot, { dataDir });
      const runs: ColdStart[] = [];
      for (let i = 0; i < settings.coldStartRuns; i++) {
        runs.push(await measureColdStart(repoRoot, { dataDir }));
      }
      return runs;
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  log('starting DynamoDB Local (in memory), tables, the app and a bare node:http server');
  const stack = await timed('stack start', startStack);
  const onSignal = () => void stack.stop().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const rows: Row[] = [...durability];
  // Each module's section, as its exercise names it (test/support/exercises/<m>.ts).
  const sectionRatios: Record<string, number> = {};
  const expected: Record<string, Record<string, number>> = {};
  const sectionProblems: string[] = [];
  const committed: Record<string, Committed> = {};
  const tools: BenchTools = { settings, timed, log, compare, steadyHttp, steadyDirect, allAtOnce };
  try {
    rows.push(...(await timed('foundation', () => foundation(stack))));
    for (const { module, exercise } of exercisesOf(modules)) {
      const { bench } = exercise;
      if (isNone(bench)) {
        log(`${module.name}: no section (${bench.none})`);
        continue;
      }
      const section = await bench.run(stack, tools);
      rows.push(...section.rows);
      Object.assign(sectionRatios, section.ratios);
      Object.assign(expected, section.expected);
      Object.assign(committed, section.committed);
      sectionProblems.push(...(section.problems ?? []));
    }
  } finally {
    await timed('stack stop', () => stack.stop());
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  try {
    const persisted = await timed('persisted registration burst', () => persistedBurst(tools));
    rows.push(...persisted.rows);
    Object.assign(expected, persisted.expected);
  } finally {
    console.warn = originalWarn;
  }

  const byName = Object.fromEntries(rows.map((row) => [row.name, row.m]));
  const rps = (name: string) => byName[name]?.requestsPerSecond ?? Number.NaN;
  const ratios = {
    'health: app / direct SDK GetItem': rps('health app') / rps('health direct SDK'),
    'health: app / bare node:http': rps('health app') / rps('health bare node:http'),
    ...sectionRatios,
    ...durabilityRatios(rows),
    'register burst, app: persisted (npm start) / in memory':
      rps(`register app${PERSISTED}`) / rps('register app'),
  };
  const problems = [
    ...[...coldStarts, ...restarts].flatMap((run, i) =>
      run.orphanedJava ? [`cold start ${i + 1}: DynamoDB Local outlived the runtime`] : [],
    ),
    ...checkOutcomes(rows, expected),
    ...sectionProblems,
    ...lambda.problems,
  ];
  const seenWarnings = [...warnings].map(([text, count]) => `${text} (x${count})`);
  const coldStart = {
    runs: coldStarts,
    medianReadyMs: median(coldStarts.map((run) => run.readyMs)),
    restarts,
    restartMedianReadyMs: median(restarts.map((run) => run.readyMs)),
  };
  const totalSeconds = Math.round(performance.now() - started) / 1000;

  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: { before: loadBefore, after: loadavg()[0] },
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  const machineLine =
    `${machine.cpus} x ${machine.cpuModel}, Node ${machine.node}; load average (1 min) ` +
    `${machine.loadAverage1m.before?.toFixed(1)} before, ${machine.loadAverage1m.after?.toFixed(1)} after`;
  printReport({
    rows,
    ratios,
    coldStart,
    committed,
    problems,
    warnings: seenWarnings,
    machine: machineLine,
  });

  printLambdaBundles(lambda);
  const results = {
    at: new Date().toISOString(),
    totalSeconds,
    phases,
    machine,
    settings,
    coldStart,
    measurements: byName,
    committed,
    ratios,
    problems,
    warnings: seenWarnings,
    lambda,
  };
  await writeResults(results);
  log(`${totalSeconds.toFixed(0)} s in all`);
  if (problems.length > 0) process.exitCode = 1;
}

const PERSISTED = ' (persisted)';

/**
 * The events section's registration burst again on a DynamoDB Local that persists to disk, as
 * `npm start` runs it (the rest of the bench runs in memory): its rows carry " (persisted)".
 */
async function persistedBurst(
  tools: BenchTools,
): Promise<{ rows: Row[]; expected: Record<string, Record<string, number>> }> {
  log('registration burst again on DynamoDB Local persisted to disk, as npm start runs it');
  const dir = await mkdtemp(join(tmpdir(), 'roster-bench-persisted-'));
  const stack = await startStack({ dbPath: join(dir, 'dynamodb') });
  try {
    const section = await eventsSection(stack, tools);
    return {
      rows: section.rows
        .filter((row) => row.name.startsWith('register'))
        .map((row) => ({ ...row, name: `${row.name}${PERSISTED}` })),
      expected: Object.fromEntries(
        Object.entries(section.expected ?? {}).map(([name, want]) => [`${name}${PERSISTED}`, want]),
      ),
    };
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** What the durable launcher costs, and what persisting costs, in writes per second. */
function durabilityRatios(rows: readonly Row[]): Record<string, number> {
  const rps = (name: string) =>
    rows.find((row) => row.name === name)?.m.requestsPerSecond ?? Number.NaN;
  return {
    'TransactWriteItems persisted: durable launcher / stock launcher':
      rps('txn persisted, durable launcher') / rps('txn persisted, stock launcher'),
    'PutItem persisted: durable launcher / stock launcher':
      rps('put persisted, durable launcher') / rps('put persisted, stock launcher'),
    'TransactWriteItems: persisted (durable) / in memory':
      rps('txn persisted, durable launcher') / rps('txn in memory'),
  };
}

async function writeResults(results: Record<string, unknown>): Promise<void> {
  const resultsFile = `${resultsDir}latest.json`;
  await mkdir(resultsDir, { recursive: true });
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`raw numbers in ${resultsFile}`);
}

/** 6. Each Lambda's bundle and module init, against the floor, and the targets. */
function printLambdaBundles(lambda: LambdaBundles): void {
  const met = (ratio: number, limit: number) => (ratio <= limit ? 'met' : 'NOT met');
  const floor = lambda.rows.find((row) => row.name === 'floor');
  const lines = lambda.rows.map(
    (row) =>
      `${row.name.padEnd(36)} ${(row.bytes / 1024).toFixed(0).padStart(6)} KB  ` +
      `${((row.totalBytes ?? row.bytes) / 1024).toFixed(0).padStart(6)} KB  ` +
      `${row.initMedianMs.toFixed(1).padStart(7)} ms  ` +
      `${(row.initMedianMs / (floor?.initMedianMs ?? Number.NaN)).toFixed(2).padStart(5)} × floor` +
      (row.requestMedianMs === undefined ? '' : `  (request ${row.requestMedianMs.toFixed(1)} ms)`),
  );
  const { targets } = lambda;
  process.stdout.write(
    [
      '',
      `${'lambda (bundle as deployed)'.padEnd(36)} ${'init path'.padStart(9)}  ${'package'.padStart(9)}  ${'init p50'.padStart(10)}  ${'vs floor'.padStart(11)}`,
      ...lines,
      '',
      `API bundle ${(targets.apiBytes / 1024).toFixed(0)} KB (target ≤ ${targets.apiBytesLimit / 1024} KB): ${targets.apiBytes <= targets.apiBytesLimit ? 'met' : 'NOT met'}`,
      `API init ${targets.apiInitOverFloor.toFixed(2)} × floor (target ≤ ${targets.apiInitLimit}): ${met(targets.apiInitOverFloor, targets.apiInitLimit)}`,
      `API init + first validated request ${targets.apiFirstRequestOverFloor.toFixed(2)} × the floor's (target ≤ ${targets.apiInitLimit}): ${met(targets.apiFirstRequestOverFloor, targets.apiInitLimit)}`,
      `task functions, the slowest ${targets.tasksInitOverFloor.toFixed(2)} × floor (target ≤ ${targets.otherFunctionsLimit}): ${met(targets.tasksInitOverFloor, targets.otherFunctionsLimit)}`,
      `authorizer ${targets.authorizerInitOverFloor.toFixed(2)} × floor (target ≤ ${targets.otherFunctionsLimit}): ${met(targets.authorizerInitOverFloor, targets.otherFunctionsLimit)}`,
      ...lambda.problems.map((problem) => `PROBLEM: ${problem}`),
      '',
    ].join('\n'),
  );
}

/** 1. /health through the app vs the same GetItem from the SDK vs HTTP doing no work at all. */
function foundation(stack: BenchStack): Promise<Row[]> {
  log(`foundation: /health vs GetItem vs bare HTTP at concurrency ${settings.concurrency}`);
  const getItem = new GetItemCommand({
    TableName: stack.container.table(idempotencyTable).name,
    Key: { id: { S: 'health-check' } },
  });
  return compare({
    'health app': steadyHttp(`${stack.appUrl}/health`),
    'health direct SDK': steadyDirect(async () => {
      // Exactly what checkHealth sends (src/runtime/container.ts), timeout signal included.
      await stack.direct.client.send(getItem, { abortSignal: AbortSignal.timeout(2000) });
      return undefined;
    }),
    'health bare node:http': steadyHttp(`${stack.bareUrl}/health`),
  });
}

/**
 * Warms every target up, then measures them in interleaved rounds (A B C, B C A, C A B …) and
 * adds up each one's rounds: a moment when the machine is busy elsewhere lands on all of them.
 */
async function compare(targets: Record<string, Target>): Promise<Row[]> {
  const entries = Object.entries(targets);
  for (const [, run] of entries) await run(settings.warmupSeconds);
  const samples = new Map<string, Sample[]>(entries.map(([name]) => [name, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (let k = 0; k < entries.length; k++) {
      const [name, run] = entries[(round + k) % entries.length] as [string, Target];
      samples.get(name)?.push(await run(settings.roundSeconds));
    }
  }
  return entries.map(([name]) => ({ name, m: summarize(samples.get(name) ?? []) }));
}

function steadyHttp(url: string, headers: Record<string, string> = {}): Target {
  return (seconds) =>
    httpLoad({
      url,
      headers,
      connections: settings.concurrency,
      durationSeconds: seconds,
      watchdogSeconds: seconds + 10,
    });
}

function steadyDirect(call: () => Promise<string | undefined>): Target {
  return (seconds) =>
    directLoad({
      concurrency: settings.concurrency,
      durationMs: seconds * 1000,
      hardStopMs: seconds * 1000 + 10_000,
      maxCalls: settings.maxDirectCalls,
      call,
    });
}

function allAtOnce(count: number, call: (i: number) => Promise<string>): Promise<Sample> {
  return directLoad({
    concurrency: count,
    durationMs: settings.burstWatchdogSeconds * 1000,
    hardStopMs: settings.burstWatchdogSeconds * 1000,
    maxCalls: count,
    call,
  });
}

/** Each row's outcomes: exactly what its section expects, or else only 2xx and `ok`. */
function checkOutcomes(rows: Row[], expected: Record<string, Record<string, number>>): string[] {
  const problems: string[] = [];
  for (const { name, m } of rows) {
    const want = expected[name];
    const fine = want
      ? Object.keys({ ...m.outcomes, ...want }).every((k) => m.outcomes[k] === want[k])
      : Object.keys(m.outcomes).every((k) => k === '200' || k === '201' || k === 'ok');
    if (!fine || m.errors > 0) {
      problems.push(`${name}: outcomes ${JSON.stringify(m.outcomes)}, errors ${m.errors}`);
    }
  }
  return problems;
}

function log(message: string): void {
  process.stdout.write(`bench: ${message}\n`);
}

main().catch((error: unknown) => {
  console.error('bench failed:', error);
  process.exitCode = 1;
});

/**
 * Webhooks, on the real local runtime: how long from a change's commit (its 201) to the first
 * attempt at the receiver, with a receiver that always answers; then at least once through
 * chaos (a receiver failing 40 % of attempts, a SIGKILL of the whole runtime every minute).
 */
async function webhooksBench(say: (line: string) => void): Promise<void> {
  say('webhooks: commit → first attempt, 2,000 events at 25/s, receiver always 204, no kills');
  const quiet = await webhooksChaos({
    events: 2000,
    killEverySeconds: Number.POSITIVE_INFINITY,
    failing: false,
    concurrency: 8,
    ratePerSecond: 25,
    drainSeconds: 60,
    log: say,
  });
  const sorted = [...quiet.firstAttemptMs].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  say(
    `  ${quiet.acknowledged} committed in ${quiet.seconds.toFixed(1)} s; first attempt after the 201: ` +
      `p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms, p99 ${pct(0.99)} ms, max ${sorted.at(-1)} ms ` +
      `(target p95 ≤ 2000 ms); missing ${quiet.missing.length}`,
  );
  say('webhooks: 10,000 events at 30/s, receiver 30 % 500 + 10 % timeout, SIGKILL every 60 s');
  const chaos = await webhooksChaos({
    events: 10_000,
    killEverySeconds: 60,
    concurrency: 8,
    ratePerSecond: 30,
    drainSeconds: 180,
    log: say,
  });
  say(
    `  ${chaos.acknowledged} acknowledged, ${chaos.kills} kills, ${chaos.attempts} attempts at the receiver, ` +
      `${chaos.delivered} delivered (2xx), missing ${chaos.missing.length}, ` +
      `${chaos.duplicated} delivered more than once (${chaos.extraCopies} extra copies), ${chaos.seconds.toFixed(0)} s`,
  );
  if (chaos.missing.length > 0 || quiet.missing.length > 0 || (pct(0.95) ?? 0) > 2000) {
    process.exitCode = 1;
  }
}

/** The registrations CSV export: 50,000 rows streamed with the server's RSS growing < 20 MB. */
async function ticketsSection(say: (line: string) => void): Promise<void> {
  say('tickets: the door manifest of one event with 10,000 confirmed registrations, over HTTP');
  const f = await ticketsBench(say);
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
  say(
    `  manifest: ${f.attendees} tickets, ${mb(f.manifestBytes)} MB raw, ${mb(f.manifestGzipBytes)} MB gzipped (limit 2 MB), ${f.manifestMs.toFixed(0)} ms (median of 3)`,
  );
  say(
    `  delta (?since=): ${f.deltaMs.changed.toFixed(0)} ms after 20 leave and 20 join, ${f.deltaMs.unchanged.toFixed(0)} ms with nothing new (medians), slowest ${f.deltaMs.max.toFixed(0)} ms (limit 1 s); largest delta ${(f.deltaBytes / 1024).toFixed(1)} kB`,
  );
}

async function csvBench(say: (line: string) => void): Promise<void> {
  say('csv: 50,000 registrations (40,000 confirmed, 10,000 waitlisted) exported as CSV over HTTP');
  const figures = await csvExportBench({ registrations: 50_000, confirmed: 40_000, log: say });
  say(
    `  server before the first export: RSS ${figures.rssBeforeMb.toFixed(0)} MB, ` +
      `live heap ${figures.liveHeapBeforeMb.toFixed(1)} MB`,
  );
  for (const round of figures.rounds) {
    say(
      `  ${round.rows} rows, ${(round.bytes / 1024 / 1024).toFixed(1)} MB in ${round.seconds.toFixed(1)} s ` +
        `(${Math.round(round.rows / round.seconds)} rows/s); RSS ${round.rssStartMb.toFixed(0)} → peak ${round.rssPeakMb.toFixed(0)} MB, ` +
        `growth ${round.rssGrowthMb.toFixed(1)} MB (target < 20 MB); live heap after ${round.liveHeapMb.toFixed(1)} MB`,
    );
  }
  const growth = Math.max(...figures.rounds.map((round) => round.rssGrowthMb));
  if (figures.rounds.some((round) => round.rows !== 50_000) || growth >= 20) process.exitCode = 1;
}
