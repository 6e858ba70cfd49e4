import { cpus, loadavg } from 'node:os';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { eventsModule } from '../../src/modules/events/events.module.js';
import {
  DYNAMODB_PARTITION_LIMITS,
  type PartitionSimulation,
  type PartitionUsage,
  type SimulationStats,
} from '../../src/platform/dynamo/partition-simulation.js';
import {
  admissionArg,
  admissionRate,
  duplicateRows,
  type Inversions,
  numbersArg,
  orderInversions,
  overtakes,
  promotionOrder,
  REGISTRATION_CHARGES,
  registrationCeiling,
  retryable,
  retryDelayMs,
  scaleWithin,
  simulateArg,
  unsoldSeats,
  waitlistArg,
} from './hot-event.rules.js';
import { directLoad, percentiles } from './measure.js';
import { BENCH_API_KEY, type BenchStack, startStack } from './stack.js';

/*
 * One hot event at on-sale scale: an event of `capacity` seats and `demand` ≥ capacity distinct
 * users, each registering once through the HTTP API, `inFlight` of them at a time, as real
 * clients: a 503 (or a 409 IDEMPOTENCY.IN_PROGRESS) is tried again after its Retry-After plus
 * jitter, under the same Idempotency-Key, so a retry of a registration that committed gets it
 * back instead of a second one. With the partition simulation on the app's DynamoDB client
 * (docs/decisions/partition-simulation.md), what a run measures is DynamoDB's per-key ceiling,
 * scaled; without it, DynamoDB Local's own. What was committed is read back through the API.
 *
 * An event created with `shards: N` (N > 1) spreads its registrations over N keys (the stack runs
 * with EVENTS_SHARDING on). Every run's event takes a waitlist unless `--waitlist=off` (then the
 * users past the capacity are told 409 full). With one, the run measures how far the committed
 * waitlist (ticket order: the order promotions take) departs from the order the bench saw the
 * joins answered, then unregisters a tenth of the seats at once and checks each freed seat went
 * to the lowest tickets.
 */

export interface HotEventOptions {
  readonly shards: number;
  /** Whether the event takes a waitlist (without one, users past the capacity are told full). */
  readonly waitlist: boolean;
  readonly simulated: boolean;
  readonly capacity: number;
  /** Distinct users, each registering once. */
  readonly demand: number;
  /** Users registering at a time (each one's retries included). */
  readonly inFlight: number;
  /** No client tries again past this; a user not placed by then counts as unplaced. */
  readonly deadlineSeconds: number;
  /**
   * The event's waiting room, when on: every user joins its queue, waits for its turn and
   * registers with the admission token. `ceiling` is the run's simulated ceiling
   * (registrations/s) and `ratePerSecond` the share of it admitted.
   */
  readonly admission?: {
    readonly share: number;
    readonly ceiling: number;
    readonly ratePerSecond: number;
  };
}

export type HotEventRun =
  | {
      readonly kind: 'refused';
      readonly options: HotEventOptions;
      readonly status: number;
      readonly code: string | undefined;
    }
  | ({ readonly kind: 'ran'; readonly options: HotEventOptions } & HotEventFigures);

/** The phase after the sell-out: confirmed users unregister at once while people wait. */
export interface Promotions {
  readonly unregistered: number;
  /** Unregisters the API answered 200 / not (after retries), and their attempts' 503s. */
  readonly refused: Readonly<Record<string, number>>;
  readonly attempts: number;
  readonly answers503: number;
  readonly seconds: number;
  /** Waiting before who are confirmed after, read from the rows. */
  readonly promoted: number;
  /** Promoted users not among the lowest tickets (or the owed who went without). */
  readonly outOfOrder: number;
  /** `promoted` named in the 200s' `promoted` lists (a retry's 404 names none). */
  readonly named: number;
  /** Promotion times (`promotedAt`, ms) against tickets. */
  readonly promotedAt: Inversions;
  readonly confirmedAfter: number;
  readonly waitlistedAfter: number;
  readonly unsoldAfter: number;
  readonly countersAfter: { readonly registeredCount: number; readonly waitlistCount: number };
}

export interface HotEventFigures {
  readonly eventId: string;
  /** From the first attempt to the last 201. */
  readonly seconds: number;
  readonly attempts: number;
  /** Answers by status (`transport` for no answer), over every attempt. */
  readonly answers: Readonly<Record<string, number>>;
  /** 503s that came without Retry-After. */
  readonly withoutRetryAfter: number;
  /** Users never placed: out of time, or refused (their last status). */
  readonly unplaced: Readonly<Record<string, number>>;
  /** Users told 409 EVENTS.EVENT_FULL by an event without a waitlist: a final answer. */
  readonly toldFull: number;
  /** Per user, from their first attempt to their 201 (retries included), ms. */
  readonly placedP50Ms: number;
  readonly placedP99Ms: number;
  /** Seconds from the first attempt until half, 90 %, 99 % and all of the placed users were. */
  readonly placedBy: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    /** The last seat taken, and the first place on the waitlist, in seconds. */
    readonly lastConfirmed: number;
    readonly firstWaitlisted: number | undefined;
  };
  /** As read back through the API once the run ended. */
  readonly confirmed: number;
  readonly waitlisted: number;
  readonly otherRows: number;
  readonly duplicates: number;
  readonly counters: { readonly registeredCount: number; readonly waitlistCount: number };
  readonly unsold: number;
  /** What the simulation charged and refused during the run (simulated runs only). */
  /**
   * The app's DynamoDB calls that failed once the SDK's own retries were spent, by command and
   * error: what the app then retried itself or answered 503.
   */
  readonly failedCalls: Readonly<Record<string, number>>;
  /**
   * The committed waitlist (ticket order) against join order: the order the joins' 201s came
   * back, and the pairs where a join sent after another's 201 holds the lower ticket. Users
   * waiting whose 201 the bench never saw are left out (`unseen`).
   */
  readonly fifo?: {
    readonly answered: Inversions;
    readonly overtaken: Inversions;
    readonly unseen: number;
  };
  readonly promotions?: Promotions;
  /** The waiting room's calls (join and position reads), when it was on. */
  readonly queue?: {
    readonly calls: number;
    readonly answers: Readonly<Record<string, number>>;
    readonly withoutRetryAfter: number;
    /** Registrations refused 403 for their token (expired before it was used). */
    readonly tokenRefusals: number;
  };
  readonly simulation?: {
    readonly partitions: readonly PartitionUsage[];
    readonly requests: SimulationStats['requests'];
  };
  readonly loadAverage: { readonly before: number; readonly after: number };
}

const EVENT_DATE = '2030-06-01';
const n0 = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 0 });
const REQUEST_TIMEOUT_MS = 60_000;

/** The section as `npm run bench -- --only=hot-event` prints it. */
export async function hotEventSection(
  log: (line: string) => void,
  argv: readonly string[],
): Promise<void> {
  // By default the issue's comparison: one shard (the ceiling) and sixteen, at 1/60 — a scale at
  // which sixteen shards stay well within what DynamoDB Local commits on a small machine.
  const shardCounts = numbersArg(argv, 'shards', [1, 16]).map(Math.round);
  const modes = simulateArg(argv);
  const [scale = 1 / 60] = numbersArg(argv, 'scale', [1 / 60]);
  const [capacity = 600] = numbersArg(argv, 'capacity', [600]).map(Math.round);
  const [demand = 900] = numbersArg(argv, 'demand', [Math.ceil(1.5 * capacity)]).map(Math.round);
  const [inFlight = 200] = numbersArg(argv, 'clients', [200]).map(Math.round);
  // How long DynamoDB holds a transaction's items is not documented: 0 holds them while the call
  // is at DynamoDB Local (its latency, unscaled); a stated full-scale window is held / scale.
  const [transactionHoldMs = 0] = numbersArg(argv, 'hold-ms', [0]);
  const deadlineSeconds = 600;
  const waitlist = waitlistArg(argv);
  const admissionShare = admissionArg(argv);

  log(
    `hot event: one event of ${capacity} seats ${waitlist ? 'with' : 'without'} a waitlist, ` +
      `${demand} users registering once each through the API, ` +
      `${inFlight} at a time; a 503 is tried again after its Retry-After (+ up to 50 % jitter)`,
  );
  // The simulation scales rates, not time: a shard's joins come 1/scale times rarer, so a ticket
  // block of 1 s would hold 1/scale times fewer tickets than on DynamoDB and nearly every join
  // would write the waitlist item for a new one. Blocks live 1 s of full-scale time instead.
  const blockMs = modes.includes(true) ? Math.min(600_000, Math.round(1000 / scale)) : 1000;
  if (blockMs !== 1000) {
    log(
      `  ticket blocks live ${n0(blockMs)} ms (EVENTS_TICKET_BLOCK_MS): 1 s at full scale, as the ` +
        'simulation scales rates; FIFO departures below are in real seconds, × scale for full scale',
    );
  }
  const stack = await startStack({
    partitions: { enabled: false, scale, transactionHoldMs },
    env: { EVENTS_SHARDING: 'on', EVENTS_TICKET_BLOCK_MS: String(blockMs) },
  });
  const partitions = stack.partitions as PartitionSimulation;
  const failedCalls = countFailedCalls(stack);
  const runs: HotEventRun[] = [];
  const problems: string[] = [];
  try {
    for (const simulated of modes) {
      if (simulated) {
        partitions.setEnabled(true);
        for (const line of partitions.describe()) log(`  ${line}`);
        partitions.setEnabled(false);
      }
      for (const shards of shardCounts) {
        // The waiting room admits a share of what the event's shards take, by the ceiling's
        // arithmetic for this run's mix (as an operator would set it): simulated sharded runs
        // only — the 1-shard run shows the ceiling itself.
        const ceiling = registrationCeiling(partitions.ceilings.writeUnitsPerSecond, shards, {
          confirmed: capacity,
          waitlisted: waitlist ? Math.max(0, demand - capacity) : 0,
        }).binding.registrationsPerSecond;
        const admission =
          simulated && shards > 1 && admissionShare !== undefined
            ? {
                share: admissionShare,
                ceiling,
                ratePerSecond: admissionRate(ceiling, admissionShare),
              }
            : undefined;
        const options = {
          shards,
          waitlist,
          simulated,
          capacity,
          demand,
          inFlight,
          deadlineSeconds,
          ...(admission ? { admission } : {}),
        };
        const run = await hotEventRun(stack, options, failedCalls, log);
        runs.push(run);
        problems.push(...report(run, partitions, log));
      }
    }
  } finally {
    await stack.stop();
  }

  const rate = (run: HotEventRun | undefined) =>
    run?.kind === 'ran' ? committedPerSecond(run) : Number.NaN;
  const find = (shards: number, simulated: boolean) =>
    runs.find((run) => run.options.shards === shards && run.options.simulated === simulated);
  for (const simulated of modes) {
    const one = find(1, simulated);
    for (const run of runs) {
      if (run.options.simulated !== simulated || run.options.shards === 1) continue;
      if (run.kind !== 'ran' || one?.kind !== 'ran') continue;
      const ratio = rate(run) / rate(one);
      const suffix = simulated ? '' : ' (no simulation)';
      // A rate runs to the last 201: a run that left users unplaced reads faster than it was.
      const stalled = [one, run]
        .filter((r) => Object.keys(r.unplaced).length > 0)
        .map((r) => `${r.options.shards} shard${r.options.shards > 1 ? 's' : ''}`);
      log(
        `hot event: ${run.options.shards} shards / 1 shard  ${ratio.toFixed(2)}${suffix}` +
          (simulated ? ` (target ≥ 8: ${ratio >= 8 ? 'met' : 'NOT met'})` : '') +
          (stalled.length > 0
            ? `; ${stalled.join(' and ')} left users unplaced, so the ratio does not compare whole runs`
            : ''),
      );
      if (simulated && run.options.shards >= 16 && ratio < 8) {
        problems.push(`${run.options.shards} shards / 1 shard ${ratio.toFixed(2)} < 8`);
      }
    }
  }
  const local = find(1, false);
  const simulatedOne = find(1, true);
  if (local?.kind === 'ran') {
    const widest = Math.max(...shardCounts);
    const ceilingAt = (shards: number) =>
      registrationCeiling(partitions.ceilings.writeUnitsPerSecond, shards, mixOf(local)).binding;
    const ceiling = ceilingAt(widest);
    const fits = ceiling.registrationsPerSecond <= 0.5 * rate(local);
    log(
      `hot event: DynamoDB Local's own ceiling (1 shard, no simulation) ${rate(local).toFixed(1)} registrations/s` +
        (simulatedOne?.kind === 'ran'
          ? `, ${(rate(local) / rate(simulatedOne)).toFixed(1)} × the simulated 1-shard rate`
          : '') +
        `; the simulated ceiling at ${widest} shard${widest > 1 ? 's' : ''} (${ceiling.key}) is ` +
        `${ceiling.registrationsPerSecond.toFixed(0)}/s: ${fits ? 'well below it' : 'NOT well below it'}`,
    );
    if (!fits) {
      // A run that DynamoDB Local limits measures DynamoDB Local: say what would fit.
      const next = scaleWithin(ceiling.registrationsPerSecond, scale, rate(local));
      const oneShard = (ceilingAt(1).registrationsPerSecond * next) / scale;
      const seats = Math.floor((120 * 0.8 * oneShard) / (demand / capacity) / 10) * 10;
      log(
        `  on this machine now, ${widest} shards need --scale=1/${Math.round(1 / next)} or lower; ` +
          `there 1 shard takes ${oneShard.toFixed(1)}/s, so --capacity=${seats} keeps its run near 2 minutes`,
      );
    }
  }
  for (const problem of problems) log(`  PROBLEM: ${problem}`);
  if (problems.length > 0) process.exitCode = 1;
}

/** One event, its users seeded, then every user registering as a client would. */
async function hotEventRun(
  stack: BenchStack,
  options: HotEventOptions,
  failedCalls: Map<string, number>,
  log: (line: string) => void,
): Promise<HotEventRun> {
  const { shards, waitlist, simulated, capacity, demand, inFlight } = options;
  const partitions = stack.partitions;
  if (simulated && !partitions) throw new Error('a simulated run needs a stack with partitions');
  partitions?.setEnabled(false);
  const loadBefore = loadavg()[0] ?? 0;
  const eventId = `hot-${Date.now().toString(36)}-${shards}${simulated ? 's' : 'l'}`;
  log(
    `hot event: ${shards} shard${shards > 1 ? 's' : ''}, ${simulated ? `simulated at 1/${partitions?.scale ? Math.round(1 / partitions.scale) : '?'}` : 'no simulation (DynamoDB Local alone)'}: ${eventId}`,
  );

  const created = await api(stack, 'POST', '/events', {
    eventId,
    title: 'Benchmark hot event',
    description: 'Written by npm run bench -- --only=hot-event',
    date: EVENT_DATE,
    location: 'localhost',
    capacity,
    organizer: 'bench',
    status: 'active',
    hasWaitlist: waitlist,
    // Only a sharded event names its shards: the field is what a later release adds.
    ...(shards > 1 ? { shards } : {}),
    ...(options.admission
      ? { admission: { enabled: true, ratePerSecond: options.admission.ratePerSecond } }
      : {}),
  });
  if (created.status !== 201) {
    if (shards > 1 && created.status >= 400 && created.status < 500) {
      return {
        kind: 'refused',
        options,
        status: created.status,
        code: (created.body as { code?: string } | undefined)?.code,
      };
    }
    throw new Error(`POST /events: ${created.status} ${JSON.stringify(created.body)}`);
  }

  const userIds = Array.from({ length: demand }, (_, i) => `${eventId}-u${i}`);
  const { users } = stack.container.servicesOf(eventsModule);
  const seeded = await directLoad({
    concurrency: 32,
    durationMs: 300_000,
    hardStopMs: 300_000,
    maxCalls: demand,
    call: async (i) => {
      await users.createUser({ userId: userIds[i] as string, name: `Fan ${i}` });
      return undefined;
    },
  });
  if (seeded.outcomes.ok !== demand) throw new Error(`seeding: ${JSON.stringify(seeded.outcomes)}`);

  const before = partitions?.stats();
  failedCalls.clear();
  partitions?.setEnabled(simulated);
  const tally = { attempts: 0, answers: {} as Record<string, number>, withoutRetryAfter: 0 };
  const queueTally = {
    calls: 0,
    answers: {} as Record<string, number>,
    withoutRetryAfter: 0,
    tokenRefusals: 0,
  };
  const deadline = Date.now() + options.deadlineSeconds * 1000;
  const placedMs: number[] = [];
  /** When each user was placed, in seconds from the first attempt (in order). */
  const placedAt: number[] = [];
  let lastConfirmed = 0;
  let firstWaitlisted: number | undefined;
  /** Per placed user: when its successful attempt was sent, and when its 201 came back. */
  const seen = new Map<string, { sent: number; answered: number }>();
  const started = performance.now();
  let lastCommit = started;
  const until = started + options.deadlineSeconds * 1000;
  const url = `${stack.appUrl}/events/${eventId}/registrations`;
  const progress = setInterval(() => {
    log(`  … ${placedMs.length} placed, ${tally.attempts} attempts`);
  }, 20_000);
  const load = await directLoad({
    concurrency: inFlight,
    durationMs: options.deadlineSeconds * 1000,
    hardStopMs: options.deadlineSeconds * 1000 + REQUEST_TIMEOUT_MS + 10_000,
    maxCalls: demand,
    call: async (i) => {
      const userId = userIds[i] as string;
      const first = performance.now();
      const admit = () => waitForAdmission(stack.appUrl, eventId, userId, deadline, queueTally);
      let token = options.admission ? await admit() : undefined;
      if (options.admission && token === undefined) return 'not admitted';
      for (let attempt = 0; ; attempt++) {
        const sent = performance.now();
        const answer = await attemptRegistration(url, userId, `${eventId}:${userId}`, token);
        tally.attempts++;
        const kind = answer.code ? `${answer.status} ${answer.code}` : String(answer.status);
        tally.answers[kind] = (tally.answers[kind] ?? 0) + 1;
        if (answer.status === 503 && answer.retryAfter === null) tally.withoutRetryAfter++;
        if (answer.status === 201) {
          lastCommit = performance.now();
          placedMs.push(lastCommit - first);
          placedAt.push((lastCommit - started) / 1000);
          if (answer.placed === 'confirmed') lastConfirmed = (lastCommit - started) / 1000;
          else firstWaitlisted ??= (lastCommit - started) / 1000;
          seen.set(userId, { sent, answered: lastCommit });
          return 'placed';
        }
        if (answer.code === 'EVENTS.EVENT_FULL' && !waitlist) return 'told full';
        if (answer.status === 403 && options.admission) {
          // Its token expired before it was used (a retry's wait): the queue gives a fresh one.
          queueTally.tokenRefusals++;
          token = await admit();
          if (token === undefined) return 'not admitted';
          continue;
        }
        if (!retryable(answer)) return `refused ${answer.status}`;
        const wait = retryDelayMs(answer.retryAfter, attempt, Math.random());
        if (performance.now() + wait > until) return 'out of time';
        await sleep(wait);
      }
    },
  });
  clearInterval(progress);
  partitions?.setEnabled(false);
  const after = partitions?.stats();
  const failed = Object.fromEntries(failedCalls);

  const rows = await readCommitted(stack, eventId, shards);
  const event = (await api(stack, 'GET', `/events/${eventId}`)).body as {
    registeredCount: number;
    waitlistCount: number;
  };
  const count = (status: string) => rows.filter((row) => row.status === status).length;
  const confirmed = count('confirmed');
  const waitlisted = count('waitlisted');
  const unplaced = Object.fromEntries(
    Object.entries(load.outcomes).filter(
      ([outcome]) => outcome !== 'placed' && outcome !== 'told full',
    ),
  );
  const toldFull = load.outcomes['told full'] ?? 0;
  if (load.errors > 0) unplaced['still running at the hard stop'] = load.errors;
  const tried = Object.values(load.outcomes).reduce((sum, n) => sum + n, 0) + load.errors;
  if (tried < demand) unplaced['not started by the deadline'] = demand - tried;
  const unplacedCount = Object.values(unplaced).reduce((sum, n) => sum + n, 0);
  const placed = percentiles(placedMs);
  const waiting = rows.flatMap((row) =>
    row.status === 'waitlisted' && row.ticket !== undefined
      ? [{ userId: row.userId, ticket: row.ticket }]
      : [],
  );
  const timed = waiting.flatMap(({ userId, ticket }) => {
    const times = seen.get(userId);
    return times ? [{ ticket, ...times }] : [];
  });
  const fifo = waitlist
    ? {
        answered: orderInversions(timed.map(({ ticket, answered }) => ({ ticket, at: answered }))),
        overtaken: overtakes(timed),
        unseen: waiting.length - timed.length,
      }
    : undefined;
  const promotions =
    waitlist && waiting.length > 0
      ? await unregisterSample(stack, eventId, options, rows, waiting)
      : undefined;
  partitions?.setEnabled(false);
  return {
    kind: 'ran',
    options,
    eventId,
    seconds: (lastCommit - started) / 1000,
    attempts: tally.attempts,
    answers: tally.answers,
    withoutRetryAfter: tally.withoutRetryAfter,
    unplaced,
    toldFull,
    placedP50Ms: placed.p50Ms,
    placedP99Ms: placed.p99Ms,
    placedBy: {
      p50: placedAt[Math.ceil(0.5 * placedAt.length) - 1] ?? Number.NaN,
      p90: placedAt[Math.ceil(0.9 * placedAt.length) - 1] ?? Number.NaN,
      p99: placedAt[Math.ceil(0.99 * placedAt.length) - 1] ?? Number.NaN,
      lastConfirmed,
      firstWaitlisted,
    },
    confirmed,
    waitlisted,
    otherRows: rows.length - confirmed - waitlisted,
    duplicates: duplicateRows(rows.map((row) => row.userId)),
    counters: { registeredCount: event.registeredCount, waitlistCount: event.waitlistCount },
    unsold: unsoldSeats({ capacity, confirmed, waitlisted, unplaced: unplacedCount, toldFull }),
    failedCalls: failed,
    ...(fifo ? { fifo } : {}),
    ...(promotions ? { promotions } : {}),
    ...(options.admission ? { queue: queueTally } : {}),
    ...(before && after && simulated ? { simulation: difference(before, after) } : {}),
    loadAverage: { before: loadBefore, after: loadavg()[0] ?? 0 },
  };
}

/**
 * After the sell-out: a tenth of the seats (at least one, at most as many as wait) unregister at
 * once, as clients (a 503 is tried again after its Retry-After; a retry's 404 is an earlier
 * attempt's commit), with the simulation as the run had it. Then the rows are read again: each
 * user confirmed from the waitlist should hold one of the lowest tickets.
 */
async function unregisterSample(
  stack: BenchStack,
  eventId: string,
  options: HotEventOptions,
  rows: readonly CommittedRow[],
  waiting: readonly { userId: string; ticket: number }[],
): Promise<Promotions> {
  const { capacity, shards, simulated, inFlight, deadlineSeconds } = options;
  const confirmed = rows.filter((row) => row.status === 'confirmed').map((row) => row.userId);
  const size = Math.min(Math.max(1, Math.round(capacity / 10)), waiting.length, confirmed.length);
  // A partial Fisher–Yates shuffle: the first `size` are a uniform sample.
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(Math.random() * (confirmed.length - i));
    [confirmed[i], confirmed[j]] = [confirmed[j] as string, confirmed[i] as string];
  }
  const leaving = confirmed.slice(0, size);
  stack.partitions?.setEnabled(simulated);
  const tally = { attempts: 0, answers503: 0, named: 0 };
  const started = performance.now();
  const until = started + deadlineSeconds * 1000;
  const load = await directLoad({
    concurrency: inFlight,
    durationMs: deadlineSeconds * 1000,
    hardStopMs: deadlineSeconds * 1000 + REQUEST_TIMEOUT_MS + 10_000,
    maxCalls: size,
    call: async (i) => {
      const url = `${stack.appUrl}/events/${eventId}/registrations/${leaving[i]}`;
      for (let attempt = 0; ; attempt++) {
        const answer = await attemptUnregister(url);
        tally.attempts++;
        if (answer.status === 503) tally.answers503++;
        if (answer.status === 200) {
          tally.named += answer.promoted;
          return 'unregistered';
        }
        if (answer.status === 404 && attempt > 0) return 'unregistered';
        if (!retryable(answer)) {
          return `refused ${answer.status}${answer.code ? ` ${answer.code}` : ''}`;
        }
        const wait = retryDelayMs(answer.retryAfter, attempt, Math.random());
        if (performance.now() + wait > until) return 'out of time';
        await sleep(wait);
      }
    },
  });
  const seconds = (performance.now() - started) / 1000;
  stack.partitions?.setEnabled(false);
  const refused = Object.fromEntries(
    Object.entries(load.outcomes).filter(([outcome]) => outcome !== 'unregistered'),
  );
  if (load.errors > 0) refused['still running at the hard stop'] = load.errors;

  const after = await readCommitted(stack, eventId, shards);
  const rowOf = new Map(after.map((row) => [row.userId, row]));
  const promotedRows = waiting.flatMap(({ userId, ticket }) => {
    const row = rowOf.get(userId);
    return row?.status === 'confirmed' ? [{ userId, ticket, promotedAt: row.promotedAt }] : [];
  });
  const { outOfOrder } = promotionOrder(
    waiting,
    promotedRows.map((row) => row.userId),
  );
  const event = (await api(stack, 'GET', `/events/${eventId}`)).body as {
    registeredCount: number;
    waitlistCount: number;
  };
  const confirmedAfter = after.filter((row) => row.status === 'confirmed').length;
  const waitlistedAfter = after.filter((row) => row.status === 'waitlisted').length;
  return {
    unregistered: load.outcomes.unregistered ?? 0,
    refused,
    attempts: tally.attempts,
    answers503: tally.answers503,
    seconds,
    promoted: promotedRows.length,
    outOfOrder,
    named: tally.named,
    promotedAt: orderInversions(
      promotedRows.map(({ ticket, promotedAt }) => ({
        ticket,
        at: promotedAt ? Date.parse(promotedAt) : Number.NaN,
      })),
    ),
    confirmedAfter,
    waitlistedAfter,
    unsoldAfter: unsoldSeats({
      capacity,
      confirmed: confirmedAfter,
      waitlisted: waitlistedAfter,
      unplaced: 0,
    }),
    countersAfter: { registeredCount: event.registeredCount, waitlistCount: event.waitlistCount },
  };
}

/** Prints a run; answers what it breaks of the issue's done-when. */
function report(run: HotEventRun, partitions: PartitionSimulation, log: (line: string) => void) {
  const { shards, simulated, capacity, demand } = run.options;
  const label = `${shards} shard${shards > 1 ? 's' : ''}`;
  if (run.kind === 'refused') {
    log(
      `hot event: ${label}: not supported yet (${run.status} from POST /events${run.code ? `, ${run.code}` : ''})`,
    );
    return [];
  }
  const n = (value: number, digits = 0) =>
    value.toLocaleString('en-US', { maximumFractionDigits: digits });
  const rate = committedPerSecond(run);
  const statusOf = (answer: string) => Number(answer.split(' ')[0]);
  const answered = (which: (status: number) => boolean) =>
    Object.entries(run.answers)
      .filter(([answer]) => which(statusOf(answer)))
      .reduce((sum, [, count]) => sum + count, 0);
  const share503 = answered((status) => status === 503) / run.attempts;
  const serverErrors = answered((status) => status >= 500 && status !== 503);
  const answers = Object.entries(run.answers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status} ${n(count)}`)
    .join(', ');
  log(
    `  committed ${n(run.confirmed + run.waitlisted)} in ${run.seconds.toFixed(1)} s: ${rate.toFixed(1)} registrations/s` +
      (simulated ? ` (${n(partitions.fullScale(rate))}/s at full scale)` : '') +
      `; ${n(run.attempts)} attempts, ${(run.attempts / run.seconds).toFixed(1)}/s; ` +
      `half placed by ${run.placedBy.p50.toFixed(1)} s, 90 % by ${run.placedBy.p90.toFixed(1)} s, 99 % by ${run.placedBy.p99.toFixed(1)} s; ` +
      `the last seat at ${run.placedBy.lastConfirmed.toFixed(1)} s` +
      (run.placedBy.firstWaitlisted !== undefined
        ? `, the first waitlist place at ${run.placedBy.firstWaitlisted.toFixed(1)} s`
        : ''),
  );
  log(
    `  confirmed ${n(run.confirmed)} of ${n(capacity)}, waitlisted ${n(run.waitlisted)}` +
      `${run.options.waitlist ? '' : `, told full ${n(run.toldFull)}`}, unsold seats ${run.unsold}, ` +
      `duplicate users ${run.duplicates}; unplaced ${Object.keys(run.unplaced).length > 0 ? JSON.stringify(run.unplaced) : 0}`,
  );
  log(
    `  answers: ${answers}; 5xx other than 503: ${serverErrors}; 503 share ${(100 * share503).toFixed(1)} %` +
      `${run.withoutRetryAfter > 0 ? ` (${run.withoutRetryAfter} without Retry-After)` : ', each with Retry-After'}; ` +
      `a user's wait for a place (retries included) p50 ${(run.placedP50Ms / 1000).toFixed(1)} s, p99 ${(run.placedP99Ms / 1000).toFixed(1)} s`,
  );
  const { admission } = run.options;
  const queue = run.queue;
  let queue503 = 0;
  if (admission && queue) {
    const queueAnswers = Object.entries(queue.answers)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, count]) => `${status} ${n(count)}`)
      .join(', ');
    queue503 =
      Object.entries(queue.answers)
        .filter(([answer]) => statusOf(answer) === 503)
        .reduce((sum, [, count]) => sum + count, 0) / Math.max(1, queue.calls);
    log(
      `  waiting room: ${admission.ratePerSecond} positions/s admitted (${(100 * admission.share).toFixed(0)} % of the ` +
        `simulated ceiling ${admission.ceiling.toFixed(1)}/s; ${n(partitions.fullScale(admission.ratePerSecond))}/s at full scale); ` +
        `committed ${((100 * rate) / admission.ratePerSecond).toFixed(0)} % of it; ${n(queue.calls)} queue calls: ${queueAnswers}; ` +
        `503 share ${(100 * queue503).toFixed(1)} %${queue.withoutRetryAfter > 0 ? ` (${queue.withoutRetryAfter} without Retry-After)` : ''}; ` +
        `tokens expired before use ${queue.tokenRefusals}`,
    );
  }
  if (run.fifo) {
    const { answered, overtaken, unseen } = run.fifo;
    const pairs = (answered.waiting * (answered.waiting - 1)) / 2;
    const largest = (of: Inversions) =>
      `the largest ${(of.largestMs / 1000).toFixed(2)} s / ${n(of.largestPlaces)} places`;
    log(
      `  FIFO: ${n(answered.waiting)} waiting, ${n(answered.inverted)} inverted pairs, ${largest(answered)} ` +
        `(ticket order against the order the joins' 201s came back; ` +
        `${pairs > 0 ? ((100 * answered.inverted) / pairs).toFixed(2) : '0.00'} % of pairs); ` +
        `a join sent after another's 201 yet ahead of it: ${n(overtaken.inverted)} pairs, ${largest(overtaken)}` +
        (unseen > 0 ? `; ${n(unseen)} waiting whose 201 the bench never saw, left out` : ''),
    );
  }
  const promotions = run.promotions;
  if (promotions) {
    const refusedText =
      Object.keys(promotions.refused).length > 0 ? JSON.stringify(promotions.refused) : 0;
    log(
      `  promotions: ${n(promotions.promoted)}, out of order ${promotions.outOfOrder} ` +
        `(${n(promotions.unregistered)} confirmed users unregistered at once in ${promotions.seconds.toFixed(1)} s, ` +
        `${n(promotions.attempts)} attempts, 503 share ${((100 * promotions.answers503) / Math.max(1, promotions.attempts)).toFixed(1)} %, ` +
        `not unregistered ${refusedText}; the 200s named ${n(promotions.named)} promoted; ` +
        `promotedAt against tickets: ${n(promotions.promotedAt.inverted)} inverted pairs, the largest ` +
        `${(promotions.promotedAt.largestMs / 1000).toFixed(3)} s / ${n(promotions.promotedAt.largestPlaces)} places)`,
    );
    log(
      `  after them: confirmed ${n(promotions.confirmedAfter)} of ${n(capacity)}, waitlisted ${n(promotions.waitlistedAfter)}, ` +
        `unsold seats ${promotions.unsoldAfter}; counters ${promotions.countersAfter.registeredCount}/${promotions.countersAfter.waitlistCount}`,
    );
  }
  const failures = Object.entries(run.failedCalls).sort(([, a], [, b]) => b - a);
  log(
    `  the app's DynamoDB calls that failed after the SDK's retries: ${failures.length > 0 ? failures.map(([name, count]) => `${name} ${n(count)}`).join(', ') : 'none'}`,
  );
  if (simulated && run.simulation) printCeiling(run, partitions, rate, log);
  log(
    `  load average (1 min) ${run.loadAverage.before.toFixed(1)} before, ${run.loadAverage.after.toFixed(1)} after, ${cpus().length} cores`,
  );

  const problems: string[] = [];
  const name = `${label}${simulated ? '' : ' (no simulation)'}`;
  if (demand >= capacity && run.confirmed !== capacity) {
    problems.push(`${name}: ${run.confirmed} confirmed, capacity ${capacity}`);
  }
  if (run.duplicates > 0) problems.push(`${name}: ${run.duplicates} duplicate registrations`);
  if (run.unsold > 0) problems.push(`${name}: ${run.unsold} seats unsold while people wanted one`);
  if (serverErrors > 0) problems.push(`${name}: ${serverErrors} 5xx other than 503`);
  if (run.withoutRetryAfter > 0) problems.push(`${name}: 503 without Retry-After`);
  if (run.otherRows > 0)
    problems.push(`${name}: ${run.otherRows} rows neither confirmed nor waiting`);
  if (Object.keys(run.unplaced).length > 0) {
    problems.push(`${name}: users never placed ${JSON.stringify(run.unplaced)}`);
  }
  if (
    run.counters.registeredCount !== run.confirmed ||
    run.counters.waitlistCount !== run.waitlisted
  ) {
    problems.push(
      `${name}: counters ${run.counters.registeredCount}/${run.counters.waitlistCount}, rows ${run.confirmed}/${run.waitlisted}`,
    );
  }
  if (promotions) {
    if (promotions.outOfOrder > 0) {
      problems.push(`${name}: ${promotions.outOfOrder} promotions out of ticket order`);
    }
    if (Object.keys(promotions.refused).length > 0) {
      problems.push(`${name}: unregisters not done ${JSON.stringify(promotions.refused)}`);
    }
    const expected = Math.min(promotions.unregistered, run.waitlisted);
    if (promotions.promoted !== expected) {
      problems.push(
        `${name}: ${promotions.promoted} promoted for ${expected} seats freed while people waited`,
      );
    }
    if (promotions.unsoldAfter > 0) {
      problems.push(`${name}: ${promotions.unsoldAfter} seats unsold after the unregisters`);
    }
    if (
      promotions.countersAfter.registeredCount !== promotions.confirmedAfter ||
      promotions.countersAfter.waitlistCount !== promotions.waitlistedAfter
    ) {
      problems.push(
        `${name}: after the unregisters, counters ${promotions.countersAfter.registeredCount}/${promotions.countersAfter.waitlistCount}, rows ${promotions.confirmedAfter}/${promotions.waitlistedAfter}`,
      );
    }
  }
  if (simulated && shards > 1 && share503 > 0.01) {
    problems.push(`${name}: 503 share ${(100 * share503).toFixed(1)} % > 1 %`);
  }
  if (queue && queue503 > 0.01) {
    problems.push(`${name}: the waiting room's 503 share ${(100 * queue503).toFixed(1)} % > 1 %`);
  }
  if (queue && queue.withoutRetryAfter > 0) problems.push(`${name}: queue 503 without Retry-After`);
  return problems;
}

/** Where the simulated ceiling comes from, against what the run measured on the keys. */
function printCeiling(
  run: Extract<HotEventRun, { kind: 'ran' }>,
  partitions: PartitionSimulation,
  rate: number,
  log: (line: string) => void,
): void {
  const { shards } = run.options;
  const n = (value: number, digits = 1) =>
    value.toLocaleString('en-US', { maximumFractionDigits: digits });
  const perKey = partitions.ceilings.writeUnitsPerSecond;
  const full = DYNAMODB_PARTITION_LIMITS.writeUnitsPerSecond;
  const { perKey: ceilings, binding } = registrationCeiling(perKey, shards, mixOf(run));
  log(
    `  where the ceiling comes from: one partition key takes ${n(perKey)} WCU/s here (${n(full)} on DynamoDB); ` +
      'per registration, at most 1 KB per item (a transactional write 2 WCU per KB, a plain write or index entry 1):',
  );
  const wcu = ({ confirmed, waitlisted }: { confirmed: number; waitlisted: number }) =>
    `a seat ${confirmed} WCU, a waitlist place ${waitlisted}`;
  for (const charge of REGISTRATION_CHARGES) {
    const ceiling = ceilings.find((c) => c.key === charge.key);
    log(
      `    ${charge.key} ×${charge.keys(shards)}: ${wcu(charge.simulated)}` +
        (charge.dynamodb ? ` (on DynamoDB ${wcu(charge.dynamodb)})` : '') +
        ` — ${charge.why}` +
        (ceiling && Number.isFinite(ceiling.registrationsPerSecond)
          ? ` → ${n(ceiling.registrationsPerSecond)} registrations/s here`
          : ''),
    );
  }
  log(
    `  so at this run's mix (${run.confirmed} seats, ${run.waitlisted} waiting) the simulated ceiling is ${binding.key}: ` +
      `${n(perKey)} / ${n(binding.wcuPerRegistration, 2)} WCU = ${n(binding.registrationsPerSecond)} registrations/s here, ` +
      `${n(partitions.fullScale(binding.registrationsPerSecond), 0)}/s at full scale; measured ${n(rate)}/s ` +
      `(${((100 * rate) / binding.registrationsPerSecond).toFixed(0)} % of it)`,
  );
  // What DynamoDB itself would bill, with the writes the simulation leaves out.
  const billed = registrationCeiling(full, shards, mixOf(run), { billing: 'dynamodb' }).binding;
  log(
    `  on DynamoDB, with the writes not simulated, ${billed.key} binds at ${n(full)} / ${n(billed.wcuPerRegistration, 2)} WCU = ` +
      `${n(billed.registrationsPerSecond, 0)} registrations/s for one event`,
  );
  const simulation = run.simulation;
  if (!simulation) return;
  const committed = run.confirmed + run.waitlisted;
  const label = (usage: PartitionUsage) =>
    `${usage.table.replace(/^bench-/, '')}${usage.index ? `/${usage.index}` : ''} ${usage.key}`;
  const hottest = [...simulation.partitions]
    .sort((a, b) => b.writeUnits - a.writeUnits)
    .slice(0, 4)
    .map(
      (usage) =>
        `${label(usage)} ${n(usage.writeUnits, 0)} WCU (${n(usage.writeUnits / committed, 2)} per registration, ` +
        `${n(usage.writeUnits / run.seconds)}/s; ${n(usage.writeThrottles, 0)} throttled, ${n(usage.conflicts, 0)} conflicts` +
        `${usage.readUnits > 0 ? `; ${n(usage.readUnits, 0)} RCU, ${n(usage.readUnits / run.seconds)}/s` : ''})`,
    );
  log(`  the keys the simulation charged most: ${hottest.join('; ')}`);
  const { requests } = simulation;
  log(
    `  the app's DynamoDB calls: ${n(requests.admitted, 0)} admitted, ${n(requests.throttled, 0)} throttled, ` +
      `${n(requests.conflicted, 0)} refused for a conflict (refusals as DynamoDB's: the SDK retries a throttle, transactWrite a cancelled transaction; a plain write in conflict fails at once)`,
  );
}

const committedPerSecond = (run: HotEventFigures) => (run.confirmed + run.waitlisted) / run.seconds;

const mixOf = (run: HotEventFigures) => ({
  confirmed: Math.max(1, run.confirmed),
  waitlisted: run.waitlisted,
});

/** Counts the app's DynamoDB calls that fail, as the app sees them (after the SDK's retries). */
function countFailedCalls(stack: BenchStack): Map<string, number> {
  const failed = new Map<string, number>();
  stack.container.dynamo.client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        // A cancelled transaction says why: a failed condition is an answer, not a failure.
        const reasons = (error as { CancellationReasons?: { Code?: string }[] })
          .CancellationReasons;
        const codes = [...new Set(reasons?.map(({ Code }) => Code).filter((c) => c !== 'None'))];
        const command = (context.commandName ?? 'unknown').replace(/Command$/, '');
        const name = `${command}${itemKind(args.input)} ${(error as Error).name}${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`;
        failed.set(name, (failed.get(name) ?? 0) + 1);
        throw error;
      }
    },
    { step: 'initialize', name: 'benchHotEventFailures' },
  );
  return failed;
}

/**
 * Which kind of item a single-item call was on, as its key reads with the ids left out
 * (`EVENT#…#S/SHARD`, `EVENT#…#W/WAITLIST`): which plain write failed says which step refused.
 */
function itemKind(input: unknown): string {
  const key = (input as { Key?: Record<string, unknown> } | undefined)?.Key;
  if (!key) return '';
  const text = (value: unknown) =>
    typeof value === 'string' ? value : String((value as { S?: string } | undefined)?.S ?? '');
  const shape = (value: string) =>
    value
      .replace(/^(EVENT|USER)#[^#]+/, '$1#…')
      .replace(/#S\d\d/, '#S..')
      .replace(/#[0-9a-f-]{36}$/i, '#…');
  return ` ${shape(text(key.PK))}/${shape(text(key.SK))}`;
}

/** What the simulation counted between two reads of its stats. */
function difference(before: SimulationStats, after: SimulationStats) {
  const id = (usage: PartitionUsage) => `${usage.table}|${usage.index ?? ''}|${usage.key}`;
  const earlier = new Map(before.partitions.map((usage) => [id(usage), usage]));
  const partitions = after.partitions
    .map((usage) => {
      const was = earlier.get(id(usage));
      return {
        ...usage,
        writeUnits: usage.writeUnits - (was?.writeUnits ?? 0),
        readUnits: usage.readUnits - (was?.readUnits ?? 0),
        writeThrottles: usage.writeThrottles - (was?.writeThrottles ?? 0),
        readThrottles: usage.readThrottles - (was?.readThrottles ?? 0),
        conflicts: usage.conflicts - (was?.conflicts ?? 0),
      };
    })
    .filter((usage) => usage.writeUnits > 0 || usage.readUnits > 0 || usage.conflicts > 0);
  const requests = {
    admitted: after.requests.admitted - before.requests.admitted,
    throttled: after.requests.throttled - before.requests.throttled,
    conflicted: after.requests.conflicted - before.requests.conflicted,
    unmodelled: after.requests.unmodelled - before.requests.unmodelled,
  };
  return { partitions, requests };
}

/** What a client saw of one call: no answer (`transport`), or a status and its body. */
interface ClientAnswer {
  readonly status: number | 'transport';
  readonly retryAfter: string | null;
  readonly body: unknown;
  /** A problem's stable code (EVENTS.BUSY, DEPENDENCY.UNAVAILABLE, …), which refusal it was. */
  readonly code?: string;
}

/** One call as a client makes it: the bench's API key, a timeout, the body read as JSON. */
async function clientCall(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: unknown },
): Promise<ClientAnswer> {
  try {
    const response = await fetch(url, {
      method: init.method,
      headers: {
        'x-api-key': BENCH_API_KEY,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = safeJson(await response.text());
    const code =
      response.status >= 400 ? (body as { code?: unknown } | undefined)?.code : undefined;
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body,
      ...(typeof code === 'string' ? { code } : {}),
    };
  } catch {
    return { status: 'transport', retryAfter: null, body: undefined };
  }
}

/** One POST of a registration; the status, or `transport` when no answer came. */
async function attemptRegistration(
  url: string,
  userId: string,
  idempotencyKey: string,
  admissionToken?: string,
): Promise<
  ClientAnswer & { /** A 201's registration status: confirmed or waitlisted. */ placed?: string }
> {
  const answer = await clientCall(url, {
    method: 'POST',
    headers: {
      'idempotency-key': idempotencyKey,
      ...(admissionToken ? { 'admission-token': admissionToken } : {}),
    },
    body: { userId },
  });
  const placed =
    answer.status !== 'transport' && answer.status < 400
      ? (answer.body as { status?: unknown } | undefined)?.status
      : undefined;
  return { ...answer, ...(typeof placed === 'string' ? { placed } : {}) };
}

/**
 * A user through the event's waiting room, as a client would: joins the queue (the same user
 * again gets the same place), reads its place again when it says the place is admitted, and
 * returns the admission token — or undefined past `deadline` (ms) or on a final refusal. A 503 is
 * tried again after its Retry-After, as registrations are.
 */
async function waitForAdmission(
  appUrl: string,
  eventId: string,
  userId: string,
  deadline: number,
  tally: { calls: number; answers: Record<string, number>; withoutRetryAfter: number },
): Promise<string | undefined> {
  let joined = false;
  for (let attempt = 0; ; attempt++) {
    const answer = joined
      ? await clientCall(`${appUrl}/events/${eventId}/queue/${userId}`, { method: 'GET' })
      : await clientCall(`${appUrl}/events/${eventId}/queue`, {
          method: 'POST',
          body: { userId },
        });
    const { status, retryAfter, body, code } = answer;
    tally.calls++;
    const kind = code ? `${status} ${code}` : String(status);
    tally.answers[kind] = (tally.answers[kind] ?? 0) + 1;
    if (status === 503 && retryAfter === null) tally.withoutRetryAfter++;
    let wait: number;
    if (status === 200 || status === 201) {
      joined = true;
      attempt = 0;
      const place = body as { admitAt: string; admissionToken?: string };
      if (place.admissionToken) return place.admissionToken;
      // Its turn, as the place says, plus a little jitter so that a second's admissions spread.
      wait = Math.max(0, Date.parse(place.admitAt) - Date.now()) + Math.random() * 100;
    } else if (retryable(answer)) {
      wait = retryDelayMs(retryAfter, attempt, Math.random());
    } else {
      return undefined;
    }
    if (Date.now() + wait > deadline) return undefined;
    await sleep(wait);
  }
}

interface CommittedRow {
  readonly userId: string;
  readonly status: string;
  /** Its waitlist ticket, while waiting. */
  readonly ticket?: number;
  /** ISO time, once promoted from the waitlist. */
  readonly promotedAt?: string;
}

/** One DELETE of a registration; the status, and how many the answer says it promoted. */
async function attemptUnregister(url: string): Promise<ClientAnswer & { promoted: number }> {
  const answer = await clientCall(url, { method: 'DELETE' });
  const promoted = (answer.body as { promoted?: unknown } | undefined)?.promoted;
  return { ...answer, promoted: Array.isArray(promoted) ? promoted.length : 0 };
}

/** The partitions that hold an event's registration rows: its own, or each of its shards'. */
export function registrationPartitions(eventId: string, shards: number): string[] {
  if (shards <= 1) return [`EVENT#${eventId}`];
  return Array.from(
    { length: shards },
    (_, shard) => `EVENT#${eventId}#S${String(shard).padStart(2, '0')}`,
  );
}

/**
 * Every registration row the event committed, read straight from the table (strongly consistent,
 * through the stack's own client: no simulation), every shard's partition summed — what is
 * stored, whatever the API's list of the event's registrations makes of it.
 */
async function readCommitted(
  stack: BenchStack,
  eventId: string,
  shards: number,
): Promise<CommittedRow[]> {
  const rows: CommittedRow[] = [];
  for (const partition of registrationPartitions(eventId, shards)) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await stack.direct.doc.send(
        new QueryCommand({
          TableName: stack.config.tables.events,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :reg)',
          ExpressionAttributeValues: { ':pk': partition, ':reg': 'REG#' },
          ProjectionExpression: 'userId, #status, ticket, promotedAt',
          ExpressionAttributeNames: { '#status': 'status' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      rows.push(...((page.Items ?? []) as CommittedRow[]));
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return rows;
}

async function api(stack: BenchStack, method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.appUrl}${path}`, {
    method,
    headers: { 'x-api-key': BENCH_API_KEY, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as unknown) : undefined,
    link: response.headers.get('link'),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
