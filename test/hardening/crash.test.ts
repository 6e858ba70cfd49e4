import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modules } from '../../src/modules/index.js';
import { createDynamoClients, type DynamoClients } from '../../src/platform/dynamo/client.js';
import { idempotencyTable } from '../../src/platform/dynamo/tables.js';
import { startDynamoDbLocal } from '../../src/runtime/local/dynamodb-local.js';
import { freePort } from '../../src/runtime/local/ports.js';
import type { Execution } from '../customers/fixtures.js';
import { eventBody, eventState } from '../support/exercises/events.js';
import {
  exercisesOf,
  isNone,
  type LedgerEntry,
  type StoredTables,
} from '../support/exercises/index.js';
import { journalEntries } from '../support/journal.js';
import { until } from '../support/poll.js';
import {
  BANNER_END,
  exitOf,
  javaProcessesMentioning,
  killGroup,
  killJavaMentioning,
  parseBanner,
  type RosterProcess,
  startRoster,
  stopRoster,
} from '../support/process.js';
import { addLocalUser, signInLocal } from '../support/users.js';
import { MixedLoad, seededRandom, send, type Target } from './mixed-load.js';
import { scanText } from './secret-scan.js';

/**
 * Crash recovery across modules: the real local runtime (`npm start`'s entry point, its own data
 * directory and DynamoDB Local) under a mixed load, its whole process group SIGKILLed in the
 * middle, then started again on the same data directory. What it acknowledged must be there,
 * what it accepted must finish, and every registration rule (docs/spec.md#registration-rules)
 * must hold.
 */

const KEY = 'crash-test-key-0123456789';
const PASSWORD = 'Crash-Test-Passw0rd!';
/** Replays a run: `CRASH_SEED=<n> npx vitest run test/hardening/crash.test.ts`. */
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
/** Acknowledged requests of the mixed load before the burst that ends in the kill. */
const KILL_AFTER_ACKS = 60;
/** Sent at once; the process group is killed when a third of them are answered 202/201. */
const BURST: string[] = Array.from({ length: 24 }, (_, i) =>
  i % 4 === 3 ? 'put-customer' : 'enroll',
);
const WORKERS = 8;

const runtimeEnv = (dataDir: string) => ({
  DATA_DIR: dataDir,
  API_KEYS: KEY,
  // Logs on, so the scan of this runtime's output (here and at the end of the suite) means something.
  LOG_LEVEL: 'debug',
  // A request left in flight holds its Idempotency-Key this long, then a retry may take over.
  IDEMPOTENCY_IN_FLIGHT_SECONDS: '8',
  // The in-memory queue dies with the process: the reconciler sends again what stayed PENDING.
  ENROLLMENTS_RECONCILE_AFTER_SECONDS: '1',
  ENROLLMENTS_RECONCILE_SCHEDULE: 'rate(1 second)',
  // CustomerCreated events a crash left in the outbox are published by the sweep.
  CUSTOMERS_OUTBOX_GRACE_SECONDS: '1',
  CUSTOMERS_OUTBOX_SWEEP: 'rate(1 second)',
  CUSTOMERS_SCHEDULE: 'off',
});

/** The runtime's tables, under its default prefix, read directly. */
const tablesOf = (dynamo: DynamoClients): StoredTables => ({
  dynamo,
  name: (table) => `roster-${table.id}`,
});

/**
 * The work a crash can leave half done, as the start-up tasks find it: each module's (enrollments
 * still PENDING, execution records still RUNNING, CustomerCreated events still in the outbox,
 * events marked for deletion: test/support/exercises/<m>.ts), Idempotency-Keys held by requests
 * that never finished, events the bus accepted and did not deliver, and executions the engine
 * started and did not finish (their journals). Read directly from the tables (a test reading its
 * own tables may scan) and the data directory.
 */
async function leftovers(dynamo: DynamoClients, dataDir: string): Promise<Leftovers> {
  const tables = tablesOf(dynamo);
  const found: Record<string, number> = {};
  for (const { exercise } of exercisesOf(modules)) {
    if (!isNone(exercise.load)) Object.assign(found, await exercise.load.leftovers?.(tables));
  }
  const inProgress = await dynamo.doc.send(
    new ScanCommand({
      TableName: tables.name(idempotencyTable),
      FilterExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': 'INPROGRESS' },
      ConsistentRead: true,
    }),
  );
  return {
    ...found,
    keysInProgress: inProgress.Items?.length ?? 0,
    journalledEvents: (await journalEntries(join(dataDir, 'event-bus'))).length,
    journalledExecutions: (await journalEntries(join(dataDir, 'workflows'))).length,
  };
}

/** Counts of work left half done, by kind. */
type Leftovers = Record<string, number>;
/** The same kinds, none left. */
const nothingLeft = (found: Leftovers): Leftovers =>
  Object.fromEntries(Object.keys(found).map((kind) => [kind, 0]));

const pairOf = (entry: LedgerEntry) => `${entry.subject.userId} ${entry.subject.eventId}`;

/** What the run did before, at and after the crash: what every check below reads. */
interface Scenario {
  readonly load: MixedLoad;
  readonly events: readonly string[];
  readonly users: readonly string[];
  readonly token: string;
  /** Answered 2xx before the kill. */
  readonly acknowledged: readonly LedgerEntry[];
  /** In flight at the kill (or sent after it): no answer. */
  readonly unanswered: readonly LedgerEntry[];
  /** The unanswered creates sent again after the restart, with what they got in the end. */
  readonly retried: readonly LedgerEntry[];
  readonly inProgressAnswers: number;
  readonly atKill: Leftovers;
  readonly outputs: () => string;
  /** GET on the restarted runtime. */
  readonly get: (path: string) => Promise<{ status: number; body: unknown }>;
  /** Replays a request to the restarted runtime. */
  readonly resend: (request: LedgerEntry) => Promise<Response>;
  /** The restarted runtime's database. */
  readonly dynamo: DynamoClients;
}

describe(`crash recovery of the local runtime across modules (seed ${SEED})`, {
  timeout: 60_000,
}, () => {
  const started: RosterProcess[] = [];
  let dataDir = '';
  let run: Scenario;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'roster-crash-'));
    run = await crashAndRestart(dataDir, started);
  }, 150_000);

  afterAll(async () => {
    run?.dynamo.client.destroy();
    await Promise.all(started.map(stopRoster));
    if (dataDir) {
      killJavaMentioning(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    }
    if (run) {
      console.info(
        `crash test (seed ${SEED}): ${run.load.ledger.length} requests before the kill, ` +
          `${run.acknowledged.length} acknowledged, ${run.unanswered.length} unanswered ` +
          `(${run.retried.length} retried with their key, ${run.inProgressAnswers} answered ` +
          `IDEMPOTENCY.IN_PROGRESS first); left at the kill: ${JSON.stringify(run.atKill)}`,
      );
    }
  });

  it('was killed with work half done: creates in flight, background work under way', () => {
    expect(run.unanswered.filter((entry) => entry.idempotencyKey).length).toBeGreaterThan(0);
    expect(run.atKill, 'the crash left nothing to recover').not.toEqual(nothingLeft(run.atKill));
  });

  it('ends each create left in flight in success when it is retried with its Idempotency-Key', () => {
    const inFlight = run.unanswered.filter((entry) => entry.idempotencyKey);

    expect(run.retried.map((entry) => `${entry.op} ${entry.status}`)).toEqual(
      inFlight.map((entry) => `${entry.op} ${run.load.operation(entry.op)?.create?.retried}`),
    );
  });

  it('replays the first answer of an acknowledged create sent again with its key', async () => {
    for (const entry of run.acknowledged.filter((e) => e.idempotencyKey).slice(0, 20)) {
      const res = await run.resend(entry);
      expect(res.status, `${entry.method} ${entry.path}`).toBe(entry.status);
      expect(res.headers.get('idempotent-replayed')).toBe('true');
      expect(await res.json()).toEqual(entry.response);
    }
  });

  it('has every write it answered 2xx (and every deletion it answered gone)', async () => {
    const missing: string[] = [];
    const runtime = { get: run.get, tables: tablesOf(run.dynamo) };
    for (const entry of [...run.acknowledged, ...run.retried]) {
      const verify = run.load.operation(entry.op)?.verify;
      if (verify) missing.push(...(await verify(entry, runtime)));
    }
    expect(missing).toEqual([]);
  });

  it('brings every enrollment it answered 202 to PROCESSED or REJECTED, one per CPF', async () => {
    const enrollments = [...run.acknowledged, ...run.retried].filter((e) => e.op === 'enroll');
    const ids = enrollments.map((e) => (e.response as { enrollment_id: string }).enrollment_id);
    expect(new Set(ids).size).toBe(new Set(enrollments.map((e) => e.subject.cpf)).size);

    const statuses = await until(
      () =>
        Promise.all(
          ids.map(async (id) => (await run.get(`/enrollments/${id}`)).body as { status: string }),
        ),
      (list) => list.every(({ status }) => status === 'PROCESSED' || status === 'REJECTED'),
    );

    expect(statuses.filter(({ status }) => status === 'PENDING')).toEqual([]);
    expect(statuses).toHaveLength(ids.length);
  });

  it('leaves no workflow execution RUNNING, no event in the outbox, nothing in the journals, nothing half done', async () => {
    const left = await until(
      () => leftovers(run.dynamo, dataDir),
      (found) => Object.values(found).every((count) => count === 0),
    );

    expect(left).toEqual(nothingLeft(left));
    for (const entry of run.retried
      .concat(run.acknowledged)
      .filter((e) => e.op === 'submit-workflow')) {
      const { executionId } = entry.response as { executionId: string };
      const { status, body } = await run.get(`/workflow/executions/${executionId}`);
      expect(status, `execution ${executionId}`).toBe(200);
      // Acknowledged with 202, so run to its end: resumed after the restart if it was cut short.
      expect((body as { status: string }).status, `execution ${executionId}`).toBe('SUCCEEDED');
    }
  });

  it('runs the workflow of every customer it answered 201 (its CustomerCreated event was accepted)', async () => {
    const created = [...run.acknowledged, ...run.retried].filter(
      (e) => e.op === 'put-customer' && e.status === 201,
    );
    expect(created.length).toBeGreaterThan(0);
    const runs = await until(
      () =>
        Promise.all(
          created.map(
            async ({ subject }) =>
              (await run.get(`/workflow/executions?id=${subject.id}`)).body as Execution[],
          ),
        ),
      (all) => all.every((list) => list.some((e) => e.status === 'SUCCEEDED')),
    );
    const without = created.filter((_, i) => !runs[i]?.some((e) => e.status === 'SUCCEEDED'));
    expect(without.map((e) => e.subject.id)).toEqual([]);
    // The event's run found the customer there, whichever delivery (first or after the restart).
    for (const list of runs) {
      for (const e of list.filter((e) => e.status === 'SUCCEEDED')) {
        expect(e.branch).toBe('AlreadyExists');
      }
    }
  });

  it('holds every registration rule (docs/spec.md#registration-rules) on the committed rows of every event', async () => {
    const registered = new Set(
      [...run.acknowledged, ...run.retried].filter((e) => e.op === 'register').map(pairOf),
    );
    const left = new Set(run.acknowledged.filter((e) => e.op === 'unregister').map(pairOf));
    const leaving = new Set(run.load.ledger.filter((e) => e.op === 'unregister').map(pairOf));

    for (const eventId of run.events) {
      const { event, rows } = await eventState(tablesOf(run.dynamo), eventId);
      if (!event) throw new Error(`event ${eventId} is gone`);
      const confirmed = rows.filter((row) => row.status === 'confirmed').length;
      const waitlisted = rows.filter((row) => row.status === 'waitlisted').length;
      const where = `event ${eventId}`;
      expect(event.registeredCount, `${where}: registeredCount = confirmed rows`).toBe(confirmed);
      expect(event.waitlistCount, `${where}: waitlistCount = waitlisted rows`).toBe(waitlisted);
      expect(confirmed, `${where}: confirmed ≤ capacity`).toBeLessThanOrEqual(event.capacity);
      if (waitlisted > 0) {
        expect(confirmed, `${where}: a free seat while someone waits`).toBe(event.capacity);
      }
      const userIds = rows.map((row) => row.userId);
      expect(new Set(userIds).size, `${where}: one registration per user`).toBe(userIds.length);
      for (const userId of run.users) {
        const pair = `${userId} ${eventId}`;
        if (left.has(pair)) expect(userIds, `${pair} left (acknowledged)`).not.toContain(userId);
        else if (registered.has(pair) && !leaving.has(pair)) {
          expect(userIds, `${pair} registered (acknowledged)`).toContain(userId);
        }
      }
      // The places the API tells: 1…n in join order, no gap left by a join the crash cut short.
      const { body } = await run.get(`/events/${eventId}/registrations?limit=200`);
      const places = (body as { status: string; waitlistPosition?: number }[])
        .filter((r) => r.status === 'waitlisted')
        .map((r) => r.waitlistPosition);
      expect(places, `${where}: waitlist places`).toEqual(
        Array.from({ length: waitlisted }, (_, i) => i + 1),
      );
    }
  });

  it("writes no CPF, password, token or key to either process's debug output", () => {
    const output = run.outputs();
    const cpfs = run.load.ledger.flatMap((e) => (e.subject.cpf ? [e.subject.cpf] : []));

    const requestLines = output.split('\n').filter((line) => line.includes('"message":"request"'));
    expect(requestLines.length).toBeGreaterThan(run.load.ledger.length);
    expect(scanText(output, 'runtime output', [KEY, PASSWORD, run.token, ...cpfs])).toEqual([]);
  });
});

/**
 * Starts the runtime, arranges data, runs the mixed load, kills the process group in the middle,
 * reads what the crash left, starts the runtime again on the same data directory and retries the
 * creates left in flight with their keys.
 */
async function crashAndRestart(dataDir: string, started: RosterProcess[]): Promise<Scenario> {
  const runId = `k${randomBytes(3).toString('hex')}`;
  const random = seededRandom(SEED);
  const start = async () => {
    const roster = startRoster({ ...runtimeEnv(dataDir), PORT: String(await freePort()) }, 'node', {
      ownProcessGroup: true,
    });
    started.push(roster);
    return { roster, banner: parseBanner(await roster.waitForOutput(BANNER_END)) };
  };

  // The first process, with data to aim at.
  const first = await start();
  const setup = async (method: string, path: string, body?: unknown) => {
    const res = await send(
      { url: first.banner.url, apiKey: KEY, token: '' },
      { op: 'create-event', method, path, body, subject: {} },
    );
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  await setup('POST', '/age-groups', { min_age: 0, max_age: 150 });
  // A user of the local issuer, as `npm run users -- add` makes one (same table, same database).
  await addLocalUser(first.banner.dynamodb, 'crash-user', PASSWORD);
  const token = await signInLocal(first.banner.url, 'crash-user', PASSWORD);

  const users = Array.from({ length: 24 }, (_, i) => `${runId}-user-${i}`);
  for (const userId of users) await setup('POST', '/users', { userId, name: userId });
  const events = Array.from({ length: 4 }, (_, i) => `${runId}-event-${i}`);
  for (const eventId of events) await setup('POST', '/events', eventBody(eventId, 3, true));
  // Events deleted under load, each with registrations that the deletion must take along.
  const doomedEvents = Array.from({ length: 3 }, (_, i) => `${runId}-doomed-${i}`);
  for (const eventId of doomedEvents) {
    await setup('POST', '/events', eventBody(eventId, 2, true));
    for (const userId of users.slice(0, 4)) {
      await setup('POST', `/events/${eventId}/registrations`, { userId });
    }
  }

  // A mixed load, then SIGKILL to the process group while requests are in flight.
  const load = new MixedLoad({ events, doomedEvents, users, random, runId });
  const target: Target = { url: first.banner.url, apiKey: KEY, token };
  let killed = false;
  let burst: Promise<unknown> | undefined;
  const kill = () => {
    if (killed) return;
    killed = true;
    killGroup(first.roster);
  };
  const worker = async () => {
    while (!killed && !burst) {
      const entry = await load.run(target, load.next());
      if (entry.status === undefined) return;
      if (load.ledger.length > 20 * KILL_AFTER_ACKS) {
        throw new Error(`only ${load.acknowledged.length} of ${load.ledger.length} answered 2xx`);
      }
      if (!burst && load.acknowledged.length >= KILL_AFTER_ACKS) {
        // Work that goes on in the background after its answer: a third of the way through the
        // burst's answers the group is killed, with the rest of the burst (and the other
        // workers' requests) in flight and the answered part's background work under way.
        let answers = 0;
        burst = Promise.all(
          BURST.map(async (kind) => {
            const answered = await load.run(target, load.next(kind));
            if (answered.status === 202 || answered.status === 201) answers++;
            if (answers >= BURST.length / 3) kill();
          }),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  await burst;
  kill();
  const exit = await exitOf(first.roster);
  if (exit.signal !== 'SIGKILL')
    throw new Error(`the first process ended with ${JSON.stringify(exit)}`);
  const survivors = await until(
    () => javaProcessesMentioning(dataDir),
    (pids) => pids.length === 0,
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  if (survivors.length > 0) {
    throw new Error('DynamoDB Local outlived the SIGKILL of its process group');
  }

  // What the crash left half done, read from the data files with a bare DynamoDB Local.
  const database = await startDynamoDbLocal({ dbPath: join(dataDir, 'dynamodb') });
  const reader = createDynamoClients({ region: 'us-east-1', endpoint: database.endpoint });
  const atKill = await leftovers(reader, dataDir).finally(async () => {
    reader.client.destroy();
    await database.stop();
  });

  // The second process, on the same data directory; the client retries what got no answer.
  const second = await start();
  const after: Target = { url: second.banner.url, apiKey: KEY, token };
  const retried: LedgerEntry[] = [];
  let inProgressAnswers = 0;
  for (const entry of load.unanswered.filter((e) => e.idempotencyKey)) {
    // 409 IDEMPOTENCY.IN_PROGRESS while the dead request's claim on the key lasts.
    const { res } = await until(
      async () => {
        const res = await send(after, entry);
        const held =
          res.status === 409 &&
          ((await res.clone().json()) as { code?: string }).code === 'IDEMPOTENCY.IN_PROGRESS';
        if (held) inProgressAnswers++;
        return { res, held };
      },
      ({ held }) => !held,
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const text = await res.text();
    retried.push({ ...entry, status: res.status, response: text ? JSON.parse(text) : undefined });
  }

  return {
    load,
    events,
    users,
    token,
    acknowledged: load.acknowledged,
    unanswered: load.unanswered,
    retried,
    inProgressAnswers,
    atKill,
    outputs: () =>
      [first, second].map(({ roster }) => roster.stdout() + roster.stderr()).join('\n'),
    get: async (path) => {
      const res = await send(after, { op: 'create-event', method: 'GET', path, subject: {} });
      return { status: res.status, body: await res.json() };
    },
    resend: (request) => send(after, request),
    dynamo: createDynamoClients({ region: 'us-east-1', endpoint: second.banner.dynamodb }),
  };
}
