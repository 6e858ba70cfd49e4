import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { eventBody } from '../support/exercises/events.js';
import type { AfterRestart, LedgerEntry } from '../support/exercises/index.js';
import { until } from '../support/poll.js';
import {
  BANNER_END,
  exitOf,
  killGroup,
  killJavaMentioning,
  parseBanner,
  processes,
  type RosterProcess,
  startRoster,
  stopRoster,
} from '../support/process.js';
import { addLocalUser, signInLocal } from '../support/users.js';
import { MixedLoad, send } from './mixed-load.js';

/**
 * An acknowledged write survives a hard kill that comes right after its answer. The real local
 * runtime (its own process group: the server and DynamoDB Local) answers one create 2xx, and
 * 0–5 ms after the answer the whole group is SIGKILLed; the next start on the same data
 * directory must have every write answered so far. DynamoDB Local's stock launcher answers a
 * transaction before its COMMIT runs, so this lost most of them before the launcher that waits
 * for the commit (src/runtime/local/java/RosterDynamoDbLocal.java).
 *
 * Every start also checks that nothing the runtime listens on is reachable from outside the
 * machine: each listening socket of the group is bound to a loopback address.
 */

const KEY = 'kill-after-ack-key-0123456789';
const PASSWORD = 'Kill-After-Ack-Passw0rd!';
/** Kills, one per create; `KILL_AFTER_ACK_KILLS=<n>` to run more. */
const KILLS = Number(process.env.KILL_AFTER_ACK_KILLS ?? 20);
/**
 * Runtimes killed side by side, each on its own data directory: a start is mostly waiting on
 * the JVM and on module loading, so two lanes take little more than half the time of one.
 */
const LANES = Number(process.env.KILL_AFTER_ACK_LANES ?? 2);

const runtimeEnv = (dataDir: string) => ({
  DATA_DIR: dataDir,
  API_KEYS: KEY,
  CUSTOMERS_SCHEDULE: 'off',
  // Whatever port the OS gives (the banner tells it): 3000 may be someone's `npm start`.
  PORT: '0',
});

interface Listening {
  readonly address: string;
  readonly port: number;
}

/** The TCP sockets the processes of `pids` listen on, from /proc (address as the kernel has it). */
function listeningSockets(pids: readonly number[]): Listening[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match?.[1]) inodes.add(match[1]);
      } catch {
        // closed while we looked
      }
    }
  }
  const found: Listening[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address rem_address st … inode; st 0A is LISTEN
      if (fields[3] !== '0A' || !fields[9] || !inodes.has(fields[9])) continue;
      const [hex, port] = (fields[1] ?? '').split(':');
      found.push({ address: addressOf(hex ?? ''), port: Number.parseInt(port ?? '0', 16) });
    }
  }
  return found;
}

/** /proc/net's hex address (little-endian 32-bit words) as text. */
function addressOf(hex: string): string {
  const bytes = (word: string) => (word.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16));
  if (hex.length === 8) return bytes(hex).join('.');
  const words = (hex.match(/.{8}/g) ?? []).flatMap(bytes);
  const mapped = words.slice(0, 10).every((b) => b === 0) && words[10] === 255 && words[11] === 255;
  if (mapped) return `::ffff:${words.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push(((words[i] ?? 0) * 256 + (words[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

const isLoopback = (address: string) =>
  address.startsWith('127.') || address === '0:0:0:0:0:0:0:1' || address.startsWith('::ffff:127.');

/** The runtime's process group: the leader and everything it started. */
function groupOf(roster: RosterProcess): number[] {
  const leader = roster.child.pid ?? -1;
  const all = processes();
  const group = new Set([leader]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (group.has(p.ppid) && !group.has(p.pid)) {
        group.add(p.pid);
        grew = true;
      }
    }
  }
  return [...group];
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('an answered write survives a SIGKILL 0–5 ms after its answer', {
  timeout: 60_000,
}, () => {
  const started: RosterProcess[] = [];
  const dataDirs: string[] = [];
  const acknowledged: LedgerEntry[] = [];
  /** Each lane's last runtime, serving every write that lane had answered. */
  const finals: { url: string; runs: LedgerEntry[] }[] = [];
  const sockets: { start: number; listening: Listening[] }[] = [];
  const missingAtStart: { start: number; missing: string[] }[] = [];
  const startMs: number[] = [];
  /** Every module's create operations, sent in turn (test/support/exercises/<m>.ts). */
  let creates: readonly string[] = [];

  async function start(
    dataDir: string,
  ): Promise<{ url: string; dynamodb: string; roster: RosterProcess }> {
    const began = Date.now();
    const roster = startRoster(runtimeEnv(dataDir), 'node', { ownProcessGroup: true });
    started.push(roster);
    const { url, dynamodb } = parseBanner(await roster.waitForOutput(BANNER_END));
    startMs.push(Date.now() - began);
    sockets.push({ start: started.length, listening: listeningSockets(groupOf(roster)) });
    return { url, dynamodb, roster };
  }

  /** What of `entries` the runtime at `url` does not have. */
  async function missingOf(
    url: string,
    dynamodb: string,
    load: MixedLoad,
    entries: readonly LedgerEntry[],
  ) {
    const dynamo = createDynamoClients({ region: 'us-east-1', endpoint: dynamodb });
    const runtime: AfterRestart = {
      get: async (path) => {
        const res = await fetch(`${url}${path}`, { headers: { 'x-api-key': KEY } });
        return { status: res.status, body: (await res.json()) as unknown };
      },
      tables: { dynamo, name: (table) => `roster-${table.id}` },
    };
    const missing: string[] = [];
    try {
      for (const entry of entries) {
        const verify = load.operation(entry.op)?.verify;
        const gone = verify ? await verify(entry, runtime) : [`${entry.op}: nothing verifies it`];
        if (gone.length > 0) {
          missing.push(`${entry.op} ${entry.method} ${entry.path} → ${entry.status}`);
        }
      }
    } finally {
      dynamo.client.destroy();
    }
    return missing;
  }

  /** One lane: its own data directory, set-up, then `kills` starts each ending in a kill. */
  async function lane(index: number, kills: number): Promise<void> {
    const dataDir = await mkdtemp(join(tmpdir(), 'roster-kill-after-ack-'));
    dataDirs.push(dataDir);
    // As an earlier release left it: readable by everyone until the runtime makes it owner-only.
    await chmod(dataDir, 0o755);
    const runId = `k${index}${Date.now().toString(36)}`;
    const events = Array.from({ length: 3 }, (_, i) => `${runId}-event-${i}`);
    const users = Array.from(
      { length: Math.ceil(kills / events.length) + 1 },
      (_, i) => `${runId}-user-${i}`,
    );
    const load = new MixedLoad({
      runId,
      users,
      events,
      doomedEvents: [],
      random: Math.random,
    });
    creates = load.creates;
    const answered: LedgerEntry[] = [];

    // Set-up on the first start: the events and users registrations go to, an age group every
    // enrollment fits, a user to sign in as for the SLA errors. Stopped cleanly: not under test.
    let { url, dynamodb, roster } = await start(dataDir);
    const target = { url, apiKey: KEY, token: '' };
    await addLocalUser(dynamodb, 'kill-after-ack', PASSWORD);
    const token = await signInLocal(url, 'kill-after-ack', PASSWORD);
    const setup = [
      ...events.map((eventId) => ({ path: '/events', body: eventBody(eventId, 1000, true) })),
      ...users.map((userId) => ({ path: '/users', body: { userId, name: userId } })),
      { path: '/age-groups', body: { min_age: 0, max_age: 150 } },
    ];
    for (const { path, body } of setup) {
      const res = await send(target, {
        op: 'create-event',
        method: 'POST',
        path,
        body,
        subject: {},
      });
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(201);
    }
    await stopRoster(roster);

    for (let kill = 0; kill < kills; kill++) {
      ({ url, dynamodb, roster } = await start(dataDir));
      const missing = await missingOf(url, dynamodb, load, answered);
      if (missing.length > 0) missingAtStart.push({ start: started.length, missing });

      // Without an Idempotency-Key: the key's record is written after the create's transaction,
      // and that later write would wait for the transaction's commit in DynamoDB Local's queue.
      const { idempotencyKey: _, ...request } = load.next(creates[kill % creates.length]);
      const entry = await load.run({ url, apiKey: KEY, token }, request);
      // The answer is read to its end; then, at most 5 ms later, the whole group dies.
      await pause(Math.floor(Math.random() * 6));
      killGroup(roster);
      await exitOf(roster);
      expect(
        entry.status,
        `${request.method} ${request.path}: ${JSON.stringify(entry.response)}`,
      ).toBeLessThan(300);
      answered.push(entry);
      acknowledged.push(entry);
    }

    ({ url, dynamodb, roster } = await start(dataDir));
    const missing = await missingOf(url, dynamodb, load, answered);
    if (missing.length > 0) missingAtStart.push({ start: started.length, missing });
    finals.push({ url, runs: answered.filter((entry) => entry.op === 'submit-workflow') });
  }

  beforeAll(async () => {
    await Promise.all(
      Array.from({ length: LANES }, (_, i) =>
        lane(i, Math.floor(KILLS / LANES) + (i < KILLS % LANES ? 1 : 0)),
      ),
    );
  }, 900_000);

  afterAll(async () => {
    await Promise.all(started.map(stopRoster));
    for (const dataDir of dataDirs) {
      killJavaMentioning(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    }
    const sorted = [...startMs].sort((a, b) => a - b);
    console.info(
      `kill-after-ack: ${acknowledged.length} kills after a 2xx, ${started.length} starts, ` +
        `start to banner median ${sorted[Math.floor(sorted.length / 2)]} ms`,
    );
  });

  it(`killed ${KILLS} times right after a 2xx, across every module's create routes`, () => {
    expect(acknowledged).toHaveLength(KILLS);
    expect(new Set(acknowledged.map((entry) => entry.op))).toEqual(new Set(creates));
  });

  it('finds, at every start, every write answered 2xx before it', () => {
    expect(missingAtStart).toEqual([]);
  });

  it('listens on loopback addresses only (the API and DynamoDB Local), at every start', () => {
    for (const { start, listening } of sockets) {
      expect(listening.length, `start ${start}: no listening socket found`).toBeGreaterThanOrEqual(
        2,
      );
      expect(
        listening.filter((s) => !isLoopback(s.address)),
        `start ${start}`,
      ).toEqual([]);
    }
  });

  it('keeps its data directory owner-only', () => {
    const modeOf = (path: string) => statSync(path).mode & 0o777;
    expect(dataDirs).toHaveLength(LANES);
    for (const dataDir of dataDirs) {
      expect(modeOf(dataDir)).toBe(0o700);
      for (const entry of readdirSync(dataDir, { recursive: true }) as string[]) {
        const path = join(dataDir, entry);
        expect(modeOf(path) & 0o077, `${entry} is readable by others`).toBe(0);
      }
    }
  });

  it('completes every workflow run it answered 202 after the kills', async () => {
    expect(finals).toHaveLength(LANES);
    const statuses = await until(
      () =>
        Promise.all(
          finals.flatMap(({ url, runs }) =>
            runs.map(async (entry) => {
              const { executionId } = entry.response as { executionId: string };
              const res = await fetch(`${url}/workflow/executions/${executionId}`, {
                headers: { 'x-api-key': KEY },
              });
              return ((await res.json()) as { status: string }).status;
            }),
          ),
        ),
      (list) => list.every((status) => status === 'SUCCEEDED'),
    );
    expect(statuses.filter((status) => status !== 'SUCCEEDED')).toEqual([]);
  });
});
