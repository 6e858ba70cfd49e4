import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { eventsTable } from '../../src/modules/events/events.dynamo.js';
import { offerExpiriesQueue } from '../../src/modules/events/events.module.js';
import { createLogger } from '../../src/platform/logger.js';
import { localTasks } from '../../src/runtime/local/tasks.js';
import { BENCH_API_KEY, type BenchStack, startStack } from './stack.js';

/*
 * Waitlist offers that lapse, on the local stack with the local runtime's task runner (start-up
 * tasks, schedules, queue consumers): the real LocalTimers, the offer-expiries queue and its
 * `events/expire-offers` consumer, the sweep every minute. Offer-mode events of one seat get
 * 1 + 2 × batch registrations through the API (one confirmed, the rest waiting); then a capacity
 * raise of `batch` on each makes `batch` offers at once, so events × batch offers are out, each
 * with a next person waiting behind it. Nobody answers them: at their deadline (the minimum
 * window, 60 s) each lapses and its seat goes to the next person as a new offer.
 *
 * The time of each commit is taken from the app's own DynamoDB client (a middleware that notes
 * when a transaction holding offers or a lapse came back successful), so the delay measured is
 * deadline → the next person's offer committed, not when the app read its clock before it.
 */

export interface OffersBenchOptions {
  /** Offer-mode events, each with `batch` offers out at once. */
  readonly events: number;
  /** Offers per event (its `offerBatch`, 1–100). */
  readonly batch: number;
  /** Requests in flight while setting up. */
  readonly concurrency: number;
  /** How long after the last deadline to wait for the seats to be passed on. */
  readonly settleSeconds: number;
  /**
   * Make the offers evenly over this many seconds (one event's capacity raise at a time), with a
   * window long enough that all of them are out before the first lapses: every offer pending at
   * once, lapsing at events × batch / spread a second. 0: all at once, the minimum window.
   */
  readonly spreadSeconds: number;
  readonly log: (line: string) => void;
}

export interface OffersFigures {
  readonly offers: number;
  readonly setupSeconds: number;
  /** From the first capacity raise to the last answer: every offer out. */
  readonly makeSeconds: number;
  /** Latest deadline − earliest: how close together the offers lapse. */
  readonly deadlineSpreadMs: number;
  /** Offers of the first round that lapsed (committed as expired). */
  readonly lapsed: number;
  /** Seats that reached the next person (their offer committed). */
  readonly passedOn: number;
  /** Deadline → the lapse committed, per lapsed offer, ms, ascending. */
  readonly lapseMs: readonly number[];
  /** Deadline → the next person's offer committed, per seat, ms, ascending. */
  readonly nextOfferMs: readonly number[];
  /** From the first deadline to the last seat passed on. */
  readonly drainSeconds: number;
  /** The app's DynamoDB calls from the first deadline on, by command (and failures). */
  readonly calls: Readonly<Record<string, number>>;
  readonly load: LoadFigures;
  /** What the final state of the events breaks (counters against rows, seats lost). */
  readonly problems: readonly string[];
}

export interface LoadFigures {
  readonly cores: number;
  /** The 1-minute load average as the bench began, and as the last seat was passed on. */
  readonly loadAverageBefore: number;
  readonly loadAverageAfter: number;
  /**
   * While the offers lapsed: every core's busy share, and the CPU (in cores) of this process (the
   * app), of DynamoDB Local, and of everything else on the machine.
   */
  readonly machineBusyPercent: number;
  readonly nodeCores: number;
  readonly dynamoCores: number;
  readonly otherCores: number;
}

const EVENT_DATE = '2030-06-01';
/** Nothing committed for this long: settled. */
const QUIET_MS = 3000;
const MIN_WINDOW_SECONDS = 60;

export async function offersBench(options: OffersBenchOptions): Promise<OffersFigures> {
  const { events: eventCount, batch, concurrency, log, spreadSeconds } = options;
  const windowSeconds = windowFor(spreadSeconds);
  if (batch < 1 || batch > 100) throw new RangeError('batch: 1 to 100 (offerBatch)');
  const loadBefore = loadavg()[0] ?? 0;
  const stack = await startStack();
  const tasks = localTasks(stack.container, createLogger('silent'), {
    queues: stack.adapters.queues,
  });
  const commits = watchCommits(stack);
  try {
    await tasks.start();
    const api = client(stack.appUrl);
    const runId = Date.now().toString(36);
    const setupStarted = performance.now();

    // Everyone registers for every event: 1 + 2 × batch users, each event in the same order.
    const users = Array.from({ length: 1 + 2 * batch }, (_, i) => `offers-${runId}-u${i}`);
    await pool(users, concurrency, (userId) =>
      api('POST', '/users', { userId, name: `Bench ${userId}` }, [201]),
    );
    const eventIds = Array.from({ length: eventCount }, (_, i) => `offers-${runId}-e${i}`);
    await pool(eventIds, concurrency, (eventId) =>
      api(
        'POST',
        '/events',
        {
          eventId,
          title: 'Benchmark offers',
          description: 'Written by npm run bench -- --only=offers',
          date: EVENT_DATE,
          location: 'localhost',
          capacity: 1,
          organizer: 'bench',
          hasWaitlist: true,
          promotion: 'offer',
          offerWindowSeconds: windowSeconds,
          offerBatch: batch,
        },
        [201],
      ),
    );
    // One lane per event at a time: an event's registrations in order, events side by side.
    let registered = 0;
    await pool(eventIds, concurrency, async (eventId) => {
      for (const userId of users) {
        // 409: a retry of a registration that had committed.
        await api('POST', `/events/${eventId}/registrations`, { userId }, [201, 409]);
        registered++;
      }
    });
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    log(
      `  ${eventCount} events, ${users.length} users, ${registered} registrations through the API in ${setupSeconds.toFixed(0)} s`,
    );

    const makeStarted = performance.now();
    if (spreadSeconds > 0) {
      // Paced: event i's offers are made at i × spread / events, whatever the others took.
      const step = (spreadSeconds * 1000) / eventCount;
      await Promise.all(
        eventIds.map(async (eventId, i) => {
          await sleepUntil(Date.now() + i * step);
          await api('PUT', `/events/${eventId}`, { capacity: 1 + batch }, [200]);
        }),
      );
    } else {
      await pool(eventIds, concurrency, (eventId) =>
        api('PUT', `/events/${eventId}`, { capacity: 1 + batch }, [200]),
      );
    }
    const makeSeconds = (performance.now() - makeStarted) / 1000;

    // Each raise answers once its offers are committed; one that gave up (busy) leaves the rest
    // to the seat sweep, and the final check says so. (When making them all takes longer than the
    // window, the first lapses have already passed seats on to people behind: not counted here.)
    const firstRound = new Set(users.slice(1, 1 + batch));
    const behind = new Set(users.slice(1 + batch));
    const offersTo = (who: Set<string>) =>
      [...commits.offers.values()].filter(({ userId }) => who.has(userId)).map(({ at }) => at);
    const made = offersTo(firstRound);
    const offers = made.length;
    const lastDeadline = Math.max(...made) + windowSeconds * 1000;
    log(
      `  ${offers} offers out (made in ${makeSeconds.toFixed(1)} s); waiting for their deadlines`,
    );

    const cpu = cpuMeter(stack.databasePid);
    const firstDeadline = Math.min(...made) + windowSeconds * 1000;
    await sleepUntil(firstDeadline);
    cpu.start();
    commits.count();
    const progress = setInterval(() => {
      log(`  … ${commits.lapses.size} lapsed, ${offersTo(behind).length} passed on`);
    }, 30_000);
    // Done when every seat has reached someone, or when nothing more happens (a commit this
    // bench did not see come back: the final check names it).
    const quiet = () =>
      stack.adapters.queues.depth(offerExpiriesQueue) === 0 &&
      Date.now() - commits.lastWrite() > QUIET_MS;
    const settled = await waitFor(
      () => offersTo(behind).length >= offers || (commits.lapses.size >= offers && quiet()),
      lastDeadline - Date.now() + options.settleSeconds * 1000,
      '',
    ).then(
      () => true,
      () => false,
    );
    clearInterval(progress);
    const drainSeconds = (Date.now() - firstDeadline) / 1000;
    const used = cpu.stop();
    const calls = Object.fromEntries(commits.calls);
    const loadAfter = loadavg()[0] ?? 0;
    if (!settled) log(`  not every seat passed on within ${options.settleSeconds} s`);

    // The offers to the people behind lapse in turn (nobody waits after them): the state is read
    // once they have, and nothing has been queued or committed for a few seconds.
    const secondRoundEnds = Math.max(...offersTo(behind), 0) + windowSeconds * 1000;
    log('  waiting for the offers to the people behind to lapse too, then checking every event');
    await waitFor(
      () => Date.now() > secondRoundEnds && quiet(),
      secondRoundEnds - Date.now() + options.settleSeconds * 1000,
      'the offers to the people behind to lapse',
    ).catch((error: Error) => log(`  ${error.message}`));
    const figures = await readOutcome(stack, eventIds, users, batch, commits);
    if (offers < eventCount * batch) {
      figures.problems.push(`${offers} offers made of ${eventCount * batch}`);
    }
    return {
      offers,
      setupSeconds,
      makeSeconds,
      deadlineSpreadMs: figures.deadlineSpreadMs,
      lapsed: figures.lapsed,
      passedOn: figures.passedOn,
      lapseMs: figures.lapseMs,
      nextOfferMs: figures.nextOfferMs,
      drainSeconds,
      calls,
      load: {
        cores: cpus().length,
        loadAverageBefore: loadBefore,
        loadAverageAfter: loadAfter,
        ...used,
      },
      problems: figures.problems,
    };
  } finally {
    await tasks.stop();
    await stack.stop();
  }
}

interface Commits {
  /** Offer id → when the transaction that made it came back (epoch ms), and to whom. */
  readonly offers: Map<string, { readonly at: number; readonly userId: string }>;
  /** `<eventId>/<userId>` → when its offer's lapse came back committed (epoch ms). */
  readonly lapses: Map<string, number>;
  /** The app's DynamoDB calls by command once `count()` was called, failures apart. */
  readonly calls: Map<string, number>;
  count(): void;
  /** When the app's last transaction came back committed (epoch ms). */
  lastWrite(): number;
}

/**
 * Notes the commits of the app's transactions that make offers (each puts an `OFFER#<id>` token
 * lookup) and of lapses (a registration set to `expired`), as each comes back successful; and,
 * once `count()` is called, every call the app makes.
 */
function watchCommits(stack: BenchStack): Commits {
  let counting = false;
  let lastWrite = 0;
  const commits: Commits = {
    offers: new Map(),
    lapses: new Map(),
    calls: new Map(),
    count: () => {
      counting = true;
    },
    lastWrite: () => lastWrite,
  };
  const tally = (name: string, by = 1) => {
    if (counting) commits.calls.set(name, (commits.calls.get(name) ?? 0) + by);
  };
  // DynamoDB Local answers a write queued too long behind an item's lock with a retryable
  // error; the SDK tries again after a pause, under the call this middleware sees.
  const retried = (metadata: Metadata | undefined) => {
    if (!metadata?.attempts || metadata.attempts <= 1) return;
    tally('SDK retries', metadata.attempts - 1);
    tally('SDK retry pauses (ms)', metadata.totalRetryDelay ?? 0);
  };
  stack.container.dynamo.client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context.commandName ?? 'unknown').replace(/Command$/, '');
      tally(command);
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (error) {
        tally(`${command} failed (${(error as Error).name})`);
        retried((error as { $metadata?: Metadata }).$metadata);
        throw error;
      }
      retried((result.output as { $metadata?: Metadata }).$metadata);
      if (command === 'TransactWriteItems') {
        const at = Date.now();
        lastWrite = at;
        const { TransactItems = [] } = (args as { input: TransactInput }).input;
        for (const item of TransactItems) {
          const put = item.Put?.Item;
          const lookup = put && text(put.PK);
          if (put && lookup?.startsWith('OFFER#')) {
            commits.offers.set(lookup.slice(6), { at, userId: text(put.userId) ?? '' });
          }
          const update = item.Update;
          const values = update ? Object.values(update.ExpressionAttributeValues ?? {}) : [];
          const key = update && [text(update.Key.PK), text(update.Key.SK)];
          if (key?.[1]?.startsWith('REG#') && values.some((value) => text(value) === 'expired')) {
            commits.lapses.set(`${key[0]?.slice(6)}/${key[1].slice(4)}`, at);
          }
        }
      }
      return result;
    },
    { step: 'initialize', name: 'benchOfferCommits' },
  );
  return commits;
}

interface Metadata {
  readonly attempts?: number;
  readonly totalRetryDelay?: number;
}

interface TransactInput {
  readonly TransactItems?: ReadonlyArray<{
    readonly Put?: { readonly Item: Record<string, unknown> };
    readonly Update?: {
      readonly Key: Record<string, unknown>;
      readonly ExpressionAttributeValues?: Record<string, unknown>;
    };
  }>;
}

/** A string attribute, marshalled (`{ S }`) or not. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const s = (value as { S?: unknown } | undefined)?.S;
  return typeof s === 'string' ? s : undefined;
}

/**
 * Every event's rows and counters once things settled: the delays (each event's lapsed offers
 * in deadline order, paired with the offers to the people behind them in commit order — the seats
 * pass in queue order) and what the state breaks.
 */
async function readOutcome(
  stack: BenchStack,
  eventIds: readonly string[],
  users: readonly string[],
  batch: number,
  commits: Commits,
) {
  const table = stack.container.table(eventsTable).name;
  const problems: string[] = [];
  const lapseMs: number[] = [];
  const nextOfferMs: number[] = [];
  const deadlines: number[] = [];
  let lapsed = 0;
  let passedOn = 0;
  const firstRound = new Set(users.slice(1, 1 + batch));
  const behind = new Set(users.slice(1 + batch));
  for (const eventId of eventIds) {
    const items = await partition(stack, table, `EVENT#${eventId}`);
    const event = items.find((item) => item.SK === 'EVENT');
    const rows = items.filter((item) => String(item.SK).startsWith('REG#'));
    if (!event) {
      problems.push(`${eventId}: no event item`);
      continue;
    }
    const count = (status: string) => rows.filter((row) => row.status === status).length;
    const confirmed = count('confirmed');
    const offered = count('offered');
    const waiting = count('waitlisted');
    const capacity = Number(event.capacity);
    // The stored registeredCount counts held seats too (events.dynamo.ts).
    if (Number(event.registeredCount) !== confirmed + offered) {
      problems.push(
        `${eventId}: registeredCount ${event.registeredCount}, rows ${confirmed}+${offered}`,
      );
    }
    if (Number(event.offeredCount) !== offered) {
      problems.push(`${eventId}: offeredCount ${event.offeredCount}, offered rows ${offered}`);
    }
    if (Number(event.waitlistCount) !== waiting) {
      problems.push(`${eventId}: waitlistCount ${event.waitlistCount}, waiting rows ${waiting}`);
    }
    if (confirmed + offered > capacity) {
      problems.push(`${eventId}: ${confirmed} confirmed + ${offered} offered > ${capacity}`);
    }
    const shouldHold = Math.min(capacity - confirmed, offered + waiting, batch);
    if (offered !== shouldHold) {
      problems.push(`${eventId}: ${offered} offers out where ${shouldHold} should be`);
    }

    const deadlinesHere: number[] = [];
    for (const row of rows) {
      if (!firstRound.has(String(row.userId))) continue;
      const deadline = Date.parse(String(row.offerExpiresAt));
      deadlines.push(deadline);
      if (row.status !== 'expired') {
        problems.push(`${eventId}/${row.userId}: ${row.status}, not expired`);
        continue;
      }
      lapsed++;
      deadlinesHere.push(deadline);
      const at = commits.lapses.get(`${eventId}/${row.userId}`);
      if (at !== undefined) lapseMs.push(at - deadline);
    }
    const passed = rows
      .filter((row) => behind.has(String(row.userId)) && row.offerId !== undefined)
      .map((row) => commits.offers.get(String(row.offerId))?.at)
      .filter((at): at is number => at !== undefined)
      .sort((a, b) => a - b);
    deadlinesHere.sort((a, b) => a - b);
    passedOn += passed.length;
    if (passed.length !== deadlinesHere.length) {
      problems.push(
        `${eventId}: ${deadlinesHere.length} offers lapsed, ${passed.length} passed to the next`,
      );
    }
    passed.forEach((at, i) => {
      const deadline = deadlinesHere[i];
      if (deadline !== undefined) nextOfferMs.push(at - deadline);
    });
  }
  return {
    problems,
    lapsed,
    passedOn,
    lapseMs: lapseMs.sort((a, b) => a - b),
    nextOfferMs: nextOfferMs.sort((a, b) => a - b),
    deadlineSpreadMs: Math.max(...deadlines) - Math.min(...deadlines),
  };
}

async function partition(stack: BenchStack, table: string, pk: string) {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await stack.direct.doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The API with the bench's key; a 500 or 503 (DynamoDB Local busy) is tried again. */
function client(appUrl: string) {
  return async (method: string, path: string, body: unknown, expected: readonly number[]) => {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${appUrl}${path}`, {
        method,
        headers: { 'x-api-key': BENCH_API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await response.text();
      if (expected.includes(response.status)) return;
      if ((response.status === 500 || response.status === 503) && attempt < 8) {
        await sleep(100 * 2 ** attempt);
        continue;
      }
      throw new Error(`${method} ${path}: ${response.status} ${text}`);
    }
  };
}

/** `work` on each item, `concurrency` at a time. */
async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** The offer window: the minimum, or long enough that paced offers are all out before any lapses. */
function windowFor(spreadSeconds: number): number {
  return spreadSeconds > 0 ? Math.ceil(spreadSeconds) + 30 : MIN_WINDOW_SECONDS;
}

async function sleepUntil(at: number): Promise<void> {
  if (at > Date.now()) await sleep(at - Date.now());
}

async function waitFor(done: () => boolean, withinMs: number, what: string): Promise<void> {
  const until = Date.now() + withinMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`waited ${withinMs} ms for ${what}`);
    await sleep(100);
  }
}

/** CPU used between start() and stop(): the machine's (every core), this process's, a pid's. */
function cpuMeter(pid: number) {
  const machine = () => {
    const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/);
    const ticks = fields.map(Number);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { total: ticks.reduce((a, b) => a + b, 0), idle };
  };
  const processTicks = (id: number) => {
    try {
      const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime: fields 14–17 of the file, 12–15 after the name.
      return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    } catch {
      return Number.NaN;
    }
  };
  let from = { machine: machine(), node: process.cpuUsage(), dynamo: 0, at: 0 };
  return {
    start() {
      from = {
        machine: machine(),
        node: process.cpuUsage(),
        dynamo: processTicks(pid),
        at: performance.now(),
      };
    },
    stop() {
      const seconds = (performance.now() - from.at) / 1000;
      const now = machine();
      const total = now.total - from.machine.total;
      const node = process.cpuUsage(from.node);
      // Linux counts process CPU in ticks of 1/100 s (USER_HZ).
      const dynamoSeconds = (processTicks(pid) - from.dynamo) / 100;
      const busy = (total - (now.idle - from.machine.idle)) / total;
      const nodeCores = (node.user + node.system) / 1e6 / seconds;
      const dynamoCores = dynamoSeconds / seconds;
      return {
        machineBusyPercent: 100 * busy,
        nodeCores,
        dynamoCores,
        otherCores: Math.max(0, busy * cpus().length - nodeCores - dynamoCores),
      };
    },
  };
}

/** The section as `npm run bench -- --only=offers` prints it; `--offers=<events>x<batch>`. */
export async function offersSection(log: (line: string) => void, argv: readonly string[]) {
  const size = argv.find((arg) => arg.startsWith('--offers='))?.slice('--offers='.length);
  const [events, batch] = (size ?? '100x100').split('x').map(Number);
  const spread = Number(
    argv.find((arg) => arg.startsWith('--offers-over='))?.slice('--offers-over='.length) ?? 0,
  );
  log(
    `offers: ${events} offer-mode events × ${batch} offers (window ${windowFor(spread)} s${
      spread > 0
        ? `, made evenly over ${spread} s: all out at once, then lapsing at ${(((events ?? 0) * (batch ?? 0)) / spread).toFixed(0)}/s`
        : ', made at once'
    }) lapsing, each seat to the next person`,
  );
  const figures = await offersBench({
    events: events ?? 100,
    batch: batch ?? 100,
    concurrency: 16,
    settleSeconds: 1800,
    spreadSeconds: spread,
    log,
  });
  const pct = (sorted: readonly number[], p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  const line = (sorted: readonly number[]) =>
    `p50 ${pct(sorted, 0.5)} ms, p95 ${pct(sorted, 0.95)} ms, p99 ${pct(sorted, 0.99)} ms, ` +
    `max ${sorted.at(-1)} ms (${sorted.length})`;
  const { load } = figures;
  log(
    `  ${figures.offers} offers made in ${figures.makeSeconds.toFixed(1)} s; deadlines within ` +
      `${(figures.deadlineSpreadMs / 1000).toFixed(1)} s of each other`,
  );
  log(`  deadline → lapse committed: ${line(figures.lapseMs)}`);
  log(
    `  deadline → next person's offer committed: ${line(figures.nextOfferMs)} (target p99 ≤ 1000 ms)`,
  );
  log(
    `  ${figures.lapsed} lapsed, ${figures.passedOn} passed on, in ${figures.drainSeconds.toFixed(1)} s from the first deadline`,
  );
  log(
    `  load while lapsing: machine ${load.machineBusyPercent.toFixed(0)} % busy of ${load.cores} cores; ` +
      `the app ${load.nodeCores.toFixed(2)} cores, DynamoDB Local ${load.dynamoCores.toFixed(2)}, ` +
      `other processes ${load.otherCores.toFixed(2)}; ` +
      `load average ${load.loadAverageBefore.toFixed(1)} before, ${load.loadAverageAfter.toFixed(1)} after`,
  );
  const calls = Object.entries(figures.calls).sort(([, a], [, b]) => b - a);
  const all = calls.filter(([name]) => !name.includes(' ')).reduce((sum, [, n]) => sum + n, 0);
  log(
    `  the app's DynamoDB calls meanwhile: ${all} (${(all / Math.max(1, figures.lapsed)).toFixed(1)} per lapse): ` +
      calls.map(([name, n]) => `${name} ${n}`).join(', '),
  );
  for (const problem of figures.problems.slice(0, 20)) log(`  PROBLEM: ${problem}`);
  if (figures.problems.length > 20) log(`  … ${figures.problems.length - 20} more problems`);
  if (figures.problems.length > 0 || figures.passedOn < figures.offers) process.exitCode = 1;
}
