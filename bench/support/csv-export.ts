import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import { v7 as uuidv7 } from 'uuid';
import { eventsKeys } from '../../src/modules/events/events.dynamo.js';
import { modules } from '../../src/modules/index.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { deriveSecrets } from '../../src/platform/secrets.js';
import { createApi, createContainer } from '../../src/runtime/container.js';
import { localAdapters } from '../../src/runtime/local/adapters.js';
import { seedEventRows } from './seed-rows.js';
import { BENCH_API_KEY, listen, startStack, urlOf } from './stack.js';

/** One export of the whole event: its rows, and the server's RSS while it streamed. */
export interface CsvExportRound {
  readonly rows: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly rssPeakMb: number;
  /** The server's RSS as this export began. */
  readonly rssStartMb: number;
  /** The highest RSS sampled while this export streamed, less the RSS as it began. */
  readonly rssGrowthMb: number;
  /** The server's heap in use after a full collection, once this export has ended. */
  readonly liveHeapMb: number;
}

export interface CsvExportFigures {
  readonly seedSeconds: number;
  readonly rssBeforeMb: number;
  readonly liveHeapBeforeMb: number;
  /**
   * The same export, several times in a row: memory an export kept would add up from one to
   * the next, where the garbage collector's headroom would not.
   */
  readonly rounds: readonly CsvExportRound[];
}

const MB = 1024 * 1024;
const SAMPLE_EVERY_MS = 20;
const WARMUP_ROWS = 5000;
const ROUNDS = 3;

/**
 * One event with `registrations` registrations (`confirmed` of them confirmed, the rest
 * waitlisted) and their users, written straight into an in-memory DynamoDB Local with
 * BatchWriteItem; then its CSV export streamed over HTTP from the real app, run as a process of
 * its own (so that its RSS is the server's alone, not the seeding's or the client's), sampled
 * while the file streams. Each export starts from a fully collected heap: without that, the
 * growth measured is mostly when the collector last ran (the same export measured 9 to 45 MB
 * that way, while the heap still live after it never moved) — the live heap after each export
 * is printed beside it, so memory an export kept would still show.
 */
export async function csvExportBench(options: {
  readonly registrations: number;
  readonly confirmed: number;
  readonly log: (line: string) => void;
}): Promise<CsvExportFigures> {
  const { registrations, confirmed, log } = options;
  const stack = await startStack();
  let server: ChildProcess | undefined;
  try {
    const seedStarted = performance.now();
    const eventId = await seed(stack, registrations, confirmed);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    log(`  seeded ${registrations} registrations and their users in ${seedSeconds.toFixed(1)} s`);
    const started = await startServer(stack.config.dynamodbEndpoint as string);
    server = started.child;
    const { appUrl } = started;
    const rss = () => rssOf(started.child.pid as number);
    // A server that has answered before: code compiled, the heap at its working size. Only
    // then is growth what the export itself holds.
    const warmup = await seed(stack, WARMUP_ROWS, WARMUP_ROWS / 2);
    await exportOf(appUrl, warmup);

    const liveBefore = await started.liveHeapMb();
    const rssBefore = rss();
    const rounds: CsvExportRound[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Each round starts from a collected heap (the live-heap probe runs a full collection).
      const rssStart = rss();
      let rssPeak = rssStart;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, rss());
      }, SAMPLE_EVERY_MS);
      const t0 = performance.now();
      try {
        const exported = await exportOf(appUrl, eventId);
        rssPeak = Math.max(rssPeak, rss());
        const seconds = (performance.now() - t0) / 1000;
        clearInterval(sampler);
        rounds.push({
          ...exported,
          seconds,
          rssPeakMb: rssPeak / MB,
          rssStartMb: rssStart / MB,
          rssGrowthMb: (rssPeak - rssStart) / MB,
          liveHeapMb: await started.liveHeapMb(),
        });
      } finally {
        clearInterval(sampler);
      }
    }
    return { seedSeconds, rssBeforeMb: rssBefore / MB, liveHeapBeforeMb: liveBefore, rounds };
  } finally {
    server?.kill('SIGTERM');
    await stack.stop();
  }
}

/** The server process's resident set size in bytes (Linux: /proc; elsewhere: ps). */
function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // Not Linux: ask ps.
  }
  return (
    Number(
      execFileSync('ps', ['-o', 'rss=', '-p', String(pid)])
        .toString()
        .trim(),
    ) * 1024
  );
}

interface ExportServer {
  readonly child: ChildProcess;
  readonly appUrl: string;
  /** The server's heap in use after a full collection, in MB. */
  liveHeapMb(): Promise<number>;
}

/** This file run as the server: the app alone, on the bench's DynamoDB Local. */
async function startServer(endpoint: string): Promise<ExportServer> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)],
    {
      env: { ...process.env, CSV_EXPORT_SERVER_DYNAMODB: endpoint },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    let end = out.indexOf('\n');
    while (end >= 0) {
      const line = out.slice(0, end);
      out = out.slice(end + 1);
      const take = waiting.shift();
      if (take) take(line);
      else lines.push(line);
      end = out.indexOf('\n');
    }
  });
  const nextLine = () =>
    new Promise<string>((done, fail) => {
      const line = lines.shift();
      if (line !== undefined) return done(line);
      waiting.push(done);
      child.once('exit', (code) => fail(new Error(`the export server exited (${code})`)));
    });
  const appUrl = /^listening (\S+)$/.exec(await nextLine())?.[1];
  if (!appUrl) throw new Error('the export server did not say where it listens');
  return {
    child,
    appUrl,
    async liveHeapMb() {
      child.kill('SIGUSR2');
      return Number(/^live (\d+)$/.exec(await nextLine())?.[1]) / MB;
    },
  };
}

async function serve(endpoint: string): Promise<void> {
  const config = loadConfig(
    {
      DYNAMODB_ENDPOINT: endpoint,
      API_KEYS: BENCH_API_KEY,
      LOG_LEVEL: 'silent',
      TABLE_PREFIX: 'bench',
    },
    modules,
  );
  const journal = await mkdtemp(join(tmpdir(), 'roster-bench-csv-'));
  const adapters = localAdapters({
    modules,
    logger: createLogger('silent'),
    container: () => container,
    journalDir: journal,
  });
  const container = createContainer({
    config,
    modules,
    secrets: deriveSecrets(Buffer.alloc(32, 1)),
    ports: adapters.ports,
  });
  const server = await listen(createAdaptorServer({ fetch: createApi(container).fetch }) as Server);
  process.once('SIGTERM', () => {
    server.close();
    void adapters
      .stop()
      .finally(() => rm(journal, { recursive: true, force: true }).finally(() => process.exit(0)));
  });
  // The heap still in use after a full collection: what the process holds, without the
  // garbage its RSS also counts until the collector runs.
  process.on('SIGUSR2', () => {
    (globalThis as { gc?: () => void }).gc?.();
    process.stdout.write(`live ${process.memoryUsage().heapUsed}\n`);
  });
  process.stdout.write(`listening ${urlOf(server)}\n`);
}

if (process.env.CSV_EXPORT_SERVER_DYNAMODB) await serve(process.env.CSV_EXPORT_SERVER_DYNAMODB);

type Stack = Awaited<ReturnType<typeof startStack>>;

/**
 * The event's CSV export read to its end over HTTP, counting its rows as they arrive: node:http,
 * whose Buffers cost the shared process less than fetch's web streams would.
 */
function exportOf(appUrl: string, eventId: string): Promise<{ rows: number; bytes: number }> {
  return new Promise((done, fail) => {
    const url = `${appUrl}/events/${eventId}/registrations.csv`;
    const req = get(url, { headers: { 'x-api-key': BENCH_API_KEY } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        fail(new Error(`export answered ${res.statusCode}`));
        return;
      }
      let bytes = 0;
      let lineEnds = 0;
      // Names hold no line breaks (the text rule), so each CRLF ends one record.
      let previous = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (const byte of chunk) {
          if (byte === 0x0a && previous === 0x0d) lineEnds++;
          previous = byte;
        }
      });
      res.on('end', () => done({ rows: lineEnds - 1, bytes }));
      // A transfer the server aborted (a page that failed) is an error, not a short file.
      res.on('error', fail);
      res.on('aborted', () => fail(new Error('export aborted')));
    });
    req.on('error', fail);
  });
}

/**
 * Users and registrations in the shapes the adapters write (events.users.dynamo.ts,
 * events.registrations.dynamo.ts), with the event's counters and waitlist bookkeeping to match.
 */
async function seed(stack: Stack, registrations: number, confirmed: number): Promise<string> {
  const eventId = `csv-${uuidv7()}`;
  const waiting = registrations - confirmed;
  await seedEventRows(stack, {
    eventId,
    title: 'Benchmark CSV export',
    description: 'Written by npm run bench -- --only=csv',
    capacity: confirmed,
    rows: registrations,
    itemsOf: (i) => userAndRegistration(eventId, i, confirmed),
    counters: {
      registeredCount: confirmed,
      waitlistCount: waiting,
      waitlistIssued: waiting,
      waitlistFrontier: 0,
    },
  });
  return eventId;
}

/** The `i`-th user and registration: confirmed below `confirmed`, else waitlisted in order. */
function userAndRegistration(eventId: string, i: number, confirmed: number) {
  const userId = `${eventId}-u${i}`;
  const now = new Date().toISOString();
  // Some names a spreadsheet would run: the export neutralises them as it streams.
  const name = i % 1000 === 7 ? `=HYPERLINK("http://x","user ${i}")` : `Bench User ${i}, №${i}`;
  const ticket = i < confirmed ? undefined : i - confirmed + 1;
  const registrationId = uuidv7();
  return [
    {
      ...eventsKeys.user(userId),
      type: 'user',
      userId,
      name,
      createdAt: now,
      GSI2PK: 'USERS',
      GSI2SK: `${now}#${userId}`,
    },
    {
      ...eventsKeys.registration(eventId, userId),
      type: 'registration',
      registrationId,
      eventId,
      userId,
      status: ticket === undefined ? 'confirmed' : 'waitlisted',
      registeredAt: now,
      version: 1,
      ...(ticket === undefined ? {} : { ticket }),
      LSI1SK:
        ticket === undefined
          ? eventsKeys.confirmedSort(registrationId)
          : eventsKeys.waitlistSort(ticket),
      GSI2PK: `USER#${userId}#REGS`,
      GSI2SK: `${now}#${eventId}`,
    },
  ];
}
