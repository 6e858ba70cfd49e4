import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { readPid } from '../../bench/support/cold-start.js';
import { percentiles } from '../../bench/support/measure.js';
import { probeClient } from '../../src/runtime/local/dynamodb-local.js';
import { freePort } from '../../src/runtime/local/ports.js';
import {
  BANNER_END,
  type Banner,
  cleanRuntimeEnv,
  parseBanner,
} from '../../test/support/process.js';
import { addLocalUser, signInLocal } from '../../test/support/users.js';
import type { LoadOptions, LoadProgress, LoadResult } from './load.js';

/**
 * `npm run soak [-- --minutes 10 --rate 100 --log-level info]`: the local runtime as `npm start`
 * runs it (its own DATA_DIR and DynamoDB Local), a steady mixed load from another process for a
 * while, and what it shows: throughput, p50/p99 per route, the server's memory over time (RSS
 * from /proc, the V8 heap from a probe preloaded into the server, DynamoDB Local's RSS) and the
 * data directory's size before and after. Prints a report, writes it as JSON under
 * bench/results/, and exits 1 if the run was not clean (a 5xx, a transport error, starts skipped
 * because the server fell behind, the server dying, or memory that grows).
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '100' },
    'log-level': { type: 'string', default: 'info' },
    'sample-seconds': { type: 'string', default: '5' },
    'keep-data': { type: 'boolean', default: false },
  },
});
const settings = {
  minutes: Number(args.minutes),
  rate: Number(args.rate),
  logLevel: String(args['log-level']),
  sampleSeconds: Number(args['sample-seconds']),
  events: 20,
  users: 300,
  maxInFlight: 256,
} as const;
if (!(settings.minutes > 0) || !(settings.rate > 0) || !(settings.sampleSeconds > 0)) {
  throw new Error('--minutes, --rate and --sample-seconds must be positive numbers');
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const resultsDir = join(repoRoot, 'bench', 'results');
const API_KEY = `soak-${randomBytes(12).toString('hex')}`;
const PASSWORD = `Soak-${randomBytes(9).toString('base64url')}-9`;
const MB = 1024 * 1024;

interface Sample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly serverRss: number;
  readonly heapUsed: number | undefined;
  readonly heapTotal: number | undefined;
  readonly databaseRss: number | undefined;
  /** CPU used since the previous sample, in % of one core. */
  readonly serverCpu: number | undefined;
  readonly databaseCpu: number | undefined;
  readonly loadGeneratorCpu: number | undefined;
  /** The whole machine: busy % of all cores since the previous sample, and the 1-minute load. */
  readonly machineBusy: number | undefined;
  readonly loadAverage: number;
  /** A one-row ListTables straight to DynamoDB Local, timed: its own pauses, apart from the app's. */
  readonly databasePingMs: number | undefined;
}

/** A series of (seconds since the load started, value). */
type Series = readonly (readonly [number, number])[];

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'roster-soak-'));
  const probeFile = join(dataDir, 'heap-probe.jsonl');
  const port = await freePort();
  const server = startServer(dataDir, probeFile, port);
  let exitCode = 0;
  try {
    const { url, dynamodb } = await server.ready;
    const databasePid = readPid(join(dataDir, 'dynamodb', 'dynamodb-local.pid'));
    const sizeAtStart = dirSize(join(dataDir, 'dynamodb'));
    log(`server ${url} (pid ${server.child.pid}), DynamoDB Local pid ${databasePid ?? '?'}`);

    const runId = `s${randomBytes(3).toString('hex')}`;
    const { events, users, token } = await seed(url, dynamodb, runId);
    const sizeBeforeLoad = dirSize(join(dataDir, 'dynamodb'));
    log(`seeded ${events.length} events, ${users.length} users; data ${mb(sizeBeforeLoad)} MB`);

    const samples: Sample[] = [];
    const loadStarted = Date.now();
    let loadGeneratorPid: number | undefined;
    const cpu = cpuMeter();
    let pingMs: number | undefined;
    // One attempt: a retry would hide the pause being timed.
    const pingClient = probeClient(dynamodb);
    const ping = setInterval(() => {
      const t0 = performance.now();
      void pingClient
        .send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(10_000) })
        .then(() => {
          pingMs = Math.max(pingMs ?? 0, performance.now() - t0);
        })
        .catch(() => {
          pingMs = 10_000;
        });
    }, 1000);
    const sample = () => {
      const probe = lastProbe(probeFile);
      const serverPid = server.child.pid ?? -1;
      samples.push({
        t: (Date.now() - loadStarted) / 1000,
        serverRss: rssOf(serverPid) ?? 0,
        heapUsed: probe?.heapUsed,
        heapTotal: probe?.heapTotal,
        databaseRss: databasePid ? rssOf(databasePid) : undefined,
        serverCpu: cpu.process(serverPid),
        databaseCpu: databasePid ? cpu.process(databasePid) : undefined,
        loadGeneratorCpu: loadGeneratorPid ? cpu.process(loadGeneratorPid) : undefined,
        machineBusy: cpu.machine(),
        loadAverage: round(loadavg()[0] ?? 0, 2),
        databasePingMs: pingMs === undefined ? undefined : round(pingMs),
      });
      pingMs = undefined;
    };
    sample();
    const sampler = setInterval(sample, settings.sampleSeconds * 1000);
    const options: LoadOptions = {
      url,
      apiKey: API_KEY,
      token,
      rate: settings.rate,
      durationMs: settings.minutes * 60_000,
      events,
      users,
      runId,
      cpfBase: randomInt(0, 900_000_000),
      maxInFlight: settings.maxInFlight,
      progressMs: 30_000,
    };
    const progress: LoadProgress[] = [];
    const load = runLoadProcess(options, (line) => {
      progress.push(line);
      const last = samples.at(-1);
      log(
        `${Math.round(line.t / 1000)} s: ${line.completed} done, ${line.inFlight} in flight, ` +
          `${line.failed} failed; server RSS ${mb(last?.serverRss)} MB, heap ${mb(last?.heapUsed)} MB; ` +
          `machine ${last?.machineBusy ?? '?'}% busy, load ${last?.loadAverage}`,
      );
    });
    loadGeneratorPid = load.pid;
    const result = await load.result;
    clearInterval(sampler);
    clearInterval(ping);
    pingClient.destroy();
    sample();

    const serverAlive = server.child.exitCode === null && server.child.signalCode === null;
    await server.stop();
    const sizeAfter = dirSize(join(dataDir, 'dynamodb'));
    const report = buildReport({
      result,
      progress,
      samples,
      heapAfterGc: probeSeries(probeFile, loadStarted),
      pauses: pausesOf(probeFile, loadStarted),
      sizes: { atStart: sizeAtStart, beforeLoad: sizeBeforeLoad, after: sizeAfter },
      serverAlive,
      serverLog: server.logCounts(),
    });
    printReport(report);
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(resultsDir, 'soak-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    log(`report written to ${file}`);
    if (report.problems.length > 0) {
      log(`NOT CLEAN: ${report.problems.join('; ')}`);
      exitCode = 1;
    } else log('clean');
  } catch (error) {
    log(`failed: ${(error as Error).stack ?? String(error)}`);
    const tail = server.output().split('\n').slice(-20).join('\n');
    if (tail.trim()) log(`server output (last lines):\n${tail}`);
    exitCode = 1;
  } finally {
    await server.stop();
    if (!args['keep-data']) await rm(dataDir, { recursive: true, force: true });
    else log(`data kept in ${dataDir}`);
  }
  process.exit(exitCode);
}

/** The local runtime under soak, started as `npm start` starts it. */
interface Server {
  readonly child: ChildProcess;
  /** The start-up banner, once it is all printed. */
  readonly ready: Promise<Banner>;
  readonly output: () => string;
  readonly logCounts: () => Record<string, number>;
  stop(): Promise<void>;
}

function startServer(dataDir: string, probeFile: string, port: number): Server {
  const env = cleanRuntimeEnv();
  const probe = pathToFileURL(join(repoRoot, 'scripts', 'soak', 'heap-probe.mjs')).href;
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--import', probe, 'src/runtime/local/main.ts'],
    {
      cwd: repoRoot,
      env: {
        ...env,
        PORT: String(port),
        DATA_DIR: dataDir,
        API_KEYS: API_KEY,
        LOG_LEVEL: settings.logLevel,
        SOAK_PROBE_FILE: probeFile,
        SOAK_PROBE_MS: String(settings.sampleSeconds * 1000),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // The banner and the last lines are kept; log lines are counted by level, not stored.
  let head = '';
  let tail = '';
  const counts: Record<string, number> = {};
  const take = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (head.length < 4000) head += text;
    tail = (tail + text).slice(-8000);
    for (const match of text.matchAll(/"level":"([A-Z]+)"/g)) {
      const level = match[1] ?? '?';
      counts[level] = (counts[level] ?? 0) + 1;
    }
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const ready = new Promise<Banner>((done, fail) => {
    const timer = setTimeout(() => fail(new Error('no banner within 90 s')), 90_000);
    const check = () => {
      if (BANNER_END.test(head)) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        try {
          done(parseBanner(head));
        } catch (error) {
          fail(error);
        }
      }
    };
    child.stdout?.on('data', check);
    void exited.then(() => fail(new Error(`the server exited: ${tail}`)));
  });
  return {
    child,
    ready,
    output: () => `${head}\n…\n${tail}`,
    logCounts: () => ({ ...counts }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function rssOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb * 1024 : undefined;
  } catch {
    return undefined;
  }
}

interface ProbeLine {
  readonly t: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly afterGc?: boolean;
  /** The probe's own full collection, when it made one (ms). */
  readonly gcMs?: number;
  /** How late the server's event loop ran since the previous line. */
  readonly loopDelay?: { readonly p99Ms: number; readonly maxMs: number };
}

/**
 * Where the server's pauses came from, from the probe's lines after the load started: its
 * event loop's delay (the worst per interval, and the intervals that had one over 100 ms) and
 * the probe's own forced collections.
 */
function pausesOf(file: string, since: number) {
  let lines: ProbeLine[] = [];
  try {
    lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ProbeLine)
      .filter((line) => line.t >= since);
  } catch {
    // no probe file: no figures
  }
  const delays = lines.flatMap((line) => (line.loopDelay ? [line.loopDelay] : []));
  const gcs = lines.flatMap((line) => (line.gcMs === undefined ? [] : [line.gcMs]));
  return {
    eventLoopMaxMs: delays.length ? Math.max(...delays.map((d) => d.maxMs)) : null,
    eventLoopWorstP99Ms: delays.length ? Math.max(...delays.map((d) => d.p99Ms)) : null,
    intervalsOver100Ms: delays.filter((d) => d.maxMs > 100).length,
    intervals: delays.length,
    forcedGcMaxMs: gcs.length ? Math.max(...gcs) : null,
  };
}

/** The heap right after the probe's full collections: (seconds since `since`, bytes). */
function probeSeries(file: string, since: number): Series {
  try {
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ProbeLine)
      .filter((line) => line.afterGc && line.t >= since)
      .map((line) => [(line.t - since) / 1000, line.heapUsed] as const);
  } catch {
    return [];
  }
}

/**
 * CPU shares between two readings, from /proc: a process's utime + stime (clock ticks, 100 per
 * second on Linux) in % of one core, and the machine's busy % of all cores (/proc/stat).
 */
function cpuMeter() {
  const TICKS = 100;
  const last = new Map<number, { ticks: number; at: number }>();
  let machine: { busy: number; total: number } | undefined;
  return {
    process(pid: number): number | undefined {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ticks = Number(fields[11]) + Number(fields[12]);
        const at = performance.now();
        const before = last.get(pid);
        last.set(pid, { ticks, at });
        if (!before) return undefined;
        return round(((ticks - before.ticks) / TICKS / ((at - before.at) / 1000)) * 100);
      } catch {
        return undefined;
      }
    },
    machine(): number | undefined {
      const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
      const values = line.trim().split(/\s+/).slice(1).map(Number);
      const idle = (values[3] ?? 0) + (values[4] ?? 0);
      const total = values.reduce((sum, v) => sum + v, 0);
      const before = machine;
      machine = { busy: total - idle, total };
      if (!before || total === before.total) return undefined;
      return round(((total - idle - before.busy) / (total - before.total)) * 100);
    },
  };
}

function lastProbe(file: string): { heapUsed: number; heapTotal: number } | undefined {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    return JSON.parse(lines.at(-1) ?? '') as { heapUsed: number; heapTotal: number };
  } catch {
    return undefined;
  }
}

/** Bytes of every file under `dir` (apparent size, as `du -sb`). */
function dirSize(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    total += stat.isDirectory() ? dirSize(path) : stat.size;
  }
  return total;
}

/** Makes the events and users the load aims at, and a user's token. */
async function seed(url: string, dynamodb: string, runId: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  await call('POST', '/age-groups', { min_age: 0, max_age: 150 });
  const events = Array.from({ length: settings.events }, (_, i) => `${runId}-event-${i}`);
  for (const eventId of events) {
    await call('POST', '/events', {
      eventId,
      title: `Soak ${eventId}`,
      description: 'The soak registers here',
      date: '2031-01-01',
      location: 'Soak Hall',
      capacity: 100,
      organizer: 'soak',
      hasWaitlist: true,
    });
  }
  const users = Array.from({ length: settings.users }, (_, i) => `${runId}-user-${i}`);
  for (let i = 0; i < users.length; i += 20) {
    await Promise.all(
      users.slice(i, i + 20).map((userId) => call('POST', '/users', { userId, name: userId })),
    );
  }
  // A local-issuer user, as `npm run users -- add` makes one, and its token.
  await addLocalUser(dynamodb, 'soak-user', PASSWORD);
  const token = await signInLocal(url, 'soak-user', PASSWORD);
  return { events, users, token };
}

/** Runs the load generator in a process of its own, so its work does not slow the server's. */
function runLoadProcess(
  options: LoadOptions,
  onProgress: (line: LoadProgress) => void,
): { pid: number | undefined; result: Promise<LoadResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/soak/load-process.ts'], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin?.end(JSON.stringify(options));
  let buffer = '';
  let result: LoadResult | undefined;
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
      const parsed = JSON.parse(line) as LoadProgress | LoadResult;
      if (parsed.type === 'progress') onProgress(parsed);
      else result = parsed;
    }
  });
  return {
    pid: child.pid,
    result: new Promise((done, fail) => {
      child.once('exit', (code) =>
        result ? done(result) : fail(new Error(`the load generator exited with ${code}`)),
      );
    }),
  };
}

/** What the report is made of. */
interface ReportInput {
  readonly result: LoadResult;
  readonly progress: readonly LoadProgress[];
  readonly samples: readonly Sample[];
  readonly heapAfterGc: Series;
  readonly pauses: ReturnType<typeof pausesOf>;
  readonly sizes: { atStart: number; beforeLoad: number; after: number };
  readonly serverAlive: boolean;
  readonly serverLog: Record<string, number>;
}

const seriesOf = (samples: readonly Sample[], value: (s: Sample) => number | undefined): Series =>
  samples.flatMap((s) => {
    const v = value(s);
    return v === undefined ? [] : [[s.t, v] as const];
  });

/**
 * Whether a series grows: the least-squares slope over the points after warm-up (the first
 * tenth of the run, at least a minute when the run is long enough), projected over that window,
 * against the larger of 16 MB and a tenth of its mean. Under two minutes of points the garbage
 * collector's sawtooth outweighs any trend: not judged.
 */
function trend(series: Series, total: number) {
  const warmup = Math.min(Math.max(total * 0.1, 60), total / 2);
  const points = series.filter(([t]) => t >= warmup);
  if (points.length < 3) return undefined;
  const n = points.length;
  const meanT = points.reduce((sum, [t]) => sum + t, 0) / n;
  const meanV = points.reduce((sum, [, v]) => sum + v, 0) / n;
  const slope =
    points.reduce((sum, [t, v]) => sum + (t - meanT) * (v - meanV), 0) /
    points.reduce((sum, [t]) => sum + (t - meanT) ** 2, 0);
  const window = (points.at(-1)?.[0] ?? 0) - (points[0]?.[0] ?? 0);
  const growth = slope * window;
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const minute = (from: number, to: number) =>
    median(points.filter(([t]) => t >= from && t < to).map(([, v]) => v)) ?? Number.NaN;
  return {
    fromSeconds: Math.round(warmup),
    meanMb: round(meanV / MB),
    slopeMbPerMinute: round((slope * 60) / MB, 3),
    growthOverWindowMb: round(growth / MB),
    firstMinuteMedianMb: round(minute(warmup, warmup + 60) / MB),
    lastMinuteMedianMb: round(minute(total - 60, total + 1) / MB),
    judged: window >= 120,
    flat: growth < Math.max(16 * MB, 0.1 * meanV),
  };
}

const mean = (values: readonly (number | undefined)[]) => {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  return known.length === 0 ? null : round(known.reduce((sum, v) => sum + v, 0) / known.length);
};

/** The overall p99 a clean soak stays under at its rate. */
const P99_GOAL_MS = 250;

function buildReport(input: ReportInput) {
  const { result, samples, sizes } = input;
  const seconds = result.elapsedMs / 1000;
  const routes = Object.entries(result.routes)
    .map(([route, stats]) => {
      const sorted = [...stats.latencies].sort((a, b) => a - b);
      const { p50Ms, p99Ms } = percentiles(sorted);
      return {
        route,
        count: stats.count,
        perSecond: round(stats.count / seconds),
        p50Ms: round(p50Ms),
        p99Ms: round(p99Ms),
        maxMs: round(sorted.at(-1) ?? Number.NaN),
        statuses: stats.statuses,
        transportErrors: stats.transportErrors,
      };
    })
    .sort((a, b) => b.count - a.count);
  const all = percentiles(Object.values(result.routes).flatMap((stats) => stats.latencies));
  const fiveHundreds = routes.reduce(
    (sum, r) =>
      sum +
      Object.entries(r.statuses)
        .filter(([status]) => status.startsWith('5'))
        .reduce((s, [, n]) => s + n, 0),
    0,
  );
  const transportErrors = routes.reduce((sum, r) => sum + r.transportErrors, 0);
  const total = samples.at(-1)?.t ?? 0;
  const memory = {
    serverRss: trend(
      seriesOf(samples, (s) => s.serverRss),
      total,
    ),
    heapAfterGc: trend(input.heapAfterGc, total),
    heapUsed: trend(
      seriesOf(samples, (s) => s.heapUsed),
      total,
    ),
    databaseRss: trend(
      seriesOf(samples, (s) => s.databaseRss),
      total,
    ),
  };
  const cores = cpus().length;
  const cpu = {
    serverPercentOfCore: mean(samples.map((s) => s.serverCpu)),
    databasePercentOfCore: mean(samples.map((s) => s.databaseCpu)),
    loadGeneratorPercentOfCore: mean(samples.map((s) => s.loadGeneratorCpu)),
    machineBusyPercent: mean(samples.map((s) => s.machineBusy)),
    /** What other processes on the machine used, in % of one core (machine busy − the soak's). */
    othersPercentOfCore: mean(
      samples.map((s) =>
        s.machineBusy === undefined
          ? undefined
          : s.machineBusy * cores -
            (s.serverCpu ?? 0) -
            (s.databaseCpu ?? 0) -
            (s.loadGeneratorCpu ?? 0),
      ),
    ),
    maxLoadAverage: Math.max(...samples.map((s) => s.loadAverage)),
  };
  const backlogs = input.progress.filter((p) => p.inFlight > 50).map((p) => Math.round(p.t / 1000));
  const problems = [
    ...(fiveHundreds > 0 ? [`${fiveHundreds} answers 5xx`] : []),
    ...(transportErrors > 0 ? [`${transportErrors} transport errors`] : []),
    ...(result.skipped > 0 ? [`${result.skipped} starts skipped (server behind the rate)`] : []),
    ...(input.serverAlive ? [] : ['the server died during the run']),
    ...(memory.serverRss?.judged && !memory.serverRss.flat ? ['server RSS grows'] : []),
    ...(memory.heapAfterGc?.judged && !memory.heapAfterGc.flat ? ['server heap grows'] : []),
    ...(all.p99Ms > P99_GOAL_MS ? [`p99 ${round(all.p99Ms)} ms over ${P99_GOAL_MS} ms`] : []),
  ];
  const pings = samples.flatMap((s) => (s.databasePingMs === undefined ? [] : [s.databasePingMs]));
  const pauses = {
    ...input.pauses,
    databasePingMaxMs: pings.length ? Math.max(...pings) : null,
    databasePingsOver100Ms: pings.filter((ms) => ms > 100).length,
  };
  return {
    settings: { ...settings, node: process.version },
    machine: {
      cpus: cores,
      cpuModel: cpus()[0]?.model,
      memoryGb: round(totalmem() / 1024 ** 3),
      loadAverageAtEnd: loadavg().map((l) => round(l)),
    },
    startedAt: result.startedAt,
    durationSeconds: round(seconds),
    requests: {
      started: result.started,
      completed: result.completed,
      skipped: result.skipped,
      perSecond: round(result.completed / seconds),
      p50Ms: round(all.p50Ms),
      p99Ms: round(all.p99Ms),
      fiveHundreds,
      transportErrors,
      /** Progress points (s) at which more than 50 requests were waiting: the server fell behind. */
      backlogAt: backlogs,
    },
    routes,
    memory,
    cpu,
    pauses,
    samples: samples.map((s) => ({
      t: Math.round(s.t),
      serverRssMb: round(s.serverRss / MB),
      heapUsedMb: s.heapUsed === undefined ? null : round(s.heapUsed / MB),
      databaseRssMb: s.databaseRss === undefined ? null : round(s.databaseRss / MB),
      serverCpu: s.serverCpu ?? null,
      databaseCpu: s.databaseCpu ?? null,
      loadGeneratorCpu: s.loadGeneratorCpu ?? null,
      machineBusy: s.machineBusy ?? null,
      loadAverage: s.loadAverage,
      databasePingMs: s.databasePingMs ?? null,
    })),
    heapAfterGcMb: input.heapAfterGc.map(([t, v]) => [Math.round(t), round(v / MB)]),
    progress: input.progress,
    dataDirectory: {
      atStartMb: round(sizes.atStart / MB, 2),
      beforeLoadMb: round(sizes.beforeLoad / MB, 2),
      afterMb: round(sizes.after / MB, 2),
      grewMb: round((sizes.after - sizes.beforeLoad) / MB, 2),
    },
    serverLogLines: input.serverLog,
    problems,
  };
}

function printReport(report: ReturnType<typeof buildReport>): void {
  const { requests, routes, memory, cpu, dataDirectory } = report;
  const every = Math.max(1, Math.round(report.samples.length / 12));
  const lines = [
    '',
    `Soak: ${report.durationSeconds} s at ${report.settings.rate} req/s (${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.settings.node}, LOG_LEVEL=${report.settings.logLevel})`,
    `  ${requests.completed} requests, ${requests.perSecond}/s; p50 ${requests.p50Ms} ms, p99 ${requests.p99Ms} ms; ` +
      `5xx ${requests.fiveHundreds}, transport errors ${requests.transportErrors}, skipped ${requests.skipped}` +
      (requests.backlogAt.length > 0 ? `; fell behind at ${requests.backlogAt.join(', ')} s` : ''),
    `  pauses: event loop max ${report.pauses.eventLoopMaxMs} ms (worst p99 ${report.pauses.eventLoopWorstP99Ms} ms; ` +
      `${report.pauses.intervalsOver100Ms} of ${report.pauses.intervals} intervals over 100 ms); ` +
      `forced GC max ${report.pauses.forcedGcMaxMs} ms; DynamoDB Local ping max ${report.pauses.databasePingMaxMs} ms ` +
      `(${report.pauses.databasePingsOver100Ms} over 100 ms)`,
    '',
    `  ${'route'.padEnd(48)} ${'count'.padStart(7)} ${'/s'.padStart(6)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}  statuses`,
    ...routes.map(
      (r) =>
        `  ${r.route.padEnd(48)} ${String(r.count).padStart(7)} ${String(r.perSecond).padStart(6)} ` +
        `${String(r.p50Ms).padStart(8)} ${String(r.p99Ms).padStart(8)}  ${JSON.stringify(r.statuses)}`,
    ),
    '',
    '  memory (after warm-up)           mean MB  slope MB/min  first min  last min  flat',
    ...(['serverRss', 'heapAfterGc', 'heapUsed', 'databaseRss'] as const).map((key) => {
      const m = memory[key];
      if (!m) return `  ${key.padEnd(32)} (no samples)`;
      const verdict = !m.judged ? 'not judged (run too short)' : m.flat ? 'yes' : 'NO';
      return (
        `  ${key.padEnd(32)} ${String(m.meanMb).padStart(7)} ${String(m.slopeMbPerMinute).padStart(13)} ` +
        `${String(m.firstMinuteMedianMb).padStart(10)} ${String(m.lastMinuteMedianMb).padStart(9)}  ${verdict}`
      );
    }),
    '',
    `  CPU (mean, % of one core): server ${cpu.serverPercentOfCore}, DynamoDB Local ${cpu.databasePercentOfCore}, ` +
      `load generator ${cpu.loadGeneratorPercentOfCore}, other processes ${cpu.othersPercentOfCore}; ` +
      `machine ${cpu.machineBusyPercent}% busy, load average up to ${cpu.maxLoadAverage}`,
    '',
    '  over time (t s: server RSS / heap used / DynamoDB Local RSS MB, machine busy %)',
    `  ${report.samples
      .filter((_, i, all) => i % every === 0 || i === all.length - 1)
      .map(
        (s) =>
          `${s.t}: ${s.serverRssMb}/${s.heapUsedMb}/${s.databaseRssMb} ${s.machineBusy ?? '?'}%`,
      )
      .join('  ')}`,
    `  heap after a full GC (t s: MB): ${report.heapAfterGcMb
      .filter(
        (_, i, all) => i % Math.max(1, Math.round(all.length / 12)) === 0 || i === all.length - 1,
      )
      .map(([t, v]) => `${t}: ${v}`)
      .join('  ')}`,
    '',
    `  data directory: ${dataDirectory.atStartMb} MB at start, ${dataDirectory.beforeLoadMb} MB before the load, ${dataDirectory.afterMb} MB after (+${dataDirectory.grewMb} MB)`,
    `  server log lines: ${JSON.stringify(report.serverLogLines)}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const round = (value: number, digits = 1) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};
const mb = (bytes: number | undefined) => (bytes === undefined ? '?' : round(bytes / MB));
const log = (line: string) => process.stdout.write(`soak: ${line}\n`);

main().catch((error: unknown) => {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
