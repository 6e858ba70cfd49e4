import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventBody } from './exercises/events.js';
import { sleep } from './poll.js';
import {
  BANNER_END,
  exitOf,
  killGroup,
  parseBanner,
  type RosterProcess,
  startRoster,
  stopRoster,
} from './process.js';

/**
 * Webhooks under chaos: the real local runtime (`npm start`'s entry point, its own data
 * directory) creates events through its API — each commits an `event.created` domain event —
 * while a loopback receiver fails 30 % of the attempts with a 500 and lets 10 % time out, and the
 * runtime's whole process group is SIGKILLed every `killEverySeconds` and started again on the
 * same data. Every acknowledged creation must reach the receiver at least once (counted by the
 * event's id in the payload); duplicates are counted, not refused (at least once).
 *
 * Used by test/webhooks/chaos.test.ts (a few hundred events, two kills) and by
 * `npm run bench -- --only=webhooks` (10,000 events, a kill a minute).
 */

export interface ChaosOptions {
  readonly events: number;
  /** Infinity: never. */
  readonly killEverySeconds: number;
  /** Also (or instead) kill after every this many acknowledged creations. */
  readonly killEveryAcknowledged?: number;
  /** The receiver fails 30 % (500) and lets 10 % time out; false: it always answers 204. */
  readonly failing?: boolean;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Creations started per second at most (a steady load); unset: as fast as answered. */
  readonly ratePerSecond?: number;
  /** After the last creation, how long to wait for the last deliveries. */
  readonly drainSeconds: number;
  readonly log?: (line: string) => void;
}

export interface ChaosResult {
  readonly acknowledged: number;
  /** Acknowledged creations whose event.created never arrived. */
  readonly missing: readonly string[];
  /** Distinct event.created payloads received for acknowledged creations. */
  readonly delivered: number;
  /** Requests the receiver got in all (every attempt, any answer). */
  readonly attempts: number;
  /** Events received (answered 2xx) more than once, and the extra copies. */
  readonly duplicated: number;
  readonly extraCopies: number;
  readonly kills: number;
  /** Commit (the 201) to the first attempt's arrival at the receiver, ms, per event. */
  readonly firstAttemptMs: readonly number[];
  readonly seconds: number;
}

const KEY = 'webhooks-chaos-key-0123456789';

/** The runtime's settings for the run: short timeouts and a compressed retry schedule. */
const runtimeEnv = (dataDir: string) => ({
  DATA_DIR: dataDir,
  API_KEYS: KEY,
  LOG_LEVEL: 'warn',
  WEBHOOKS_ATTEMPT_TIMEOUT_SECONDS: '1',
  // Twenty attempts a second or a few apart: at 40 % failure, all failing is a 1e-8 chance.
  WEBHOOKS_RETRY_SCHEDULE: '0,1,1,1,2,2,2,3,3,3,5,5,5,5,5,5,5,5,5,5',
  WEBHOOKS_SWEEP_SCHEDULE: 'rate(2 seconds)',
  WEBHOOKS_SWEEP_GRACE_SECONDS: '3',
});

interface Receiver {
  readonly url: string;
  readonly server: Server;
  /** event id (from the payload) → arrivals (epoch ms) answered 2xx, and every arrival. */
  readonly delivered: Map<string, number[]>;
  readonly firstArrival: Map<string, number>;
  attempts: number;
}

async function startChaosReceiver(random: () => number, failing: boolean): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    server: createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const at = Date.now();
        receiver.attempts++;
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          type: string;
          data?: { eventId?: string };
        };
        const id = body.type === 'event.created' ? body.data?.eventId : undefined;
        if (id && !receiver.firstArrival.has(id)) receiver.firstArrival.set(id, at);
        const roll = failing ? random() : 1;
        if (roll < 0.1) return; // never answers: the attempt times out
        if (roll < 0.4) {
          response.writeHead(500).end('chaos');
          return;
        }
        if (id) receiver.delivered.set(id, [...(receiver.delivered.get(id) ?? []), at]);
        response.writeHead(204).end();
      });
    }),
    delivered: new Map(),
    firstArrival: new Map(),
    attempts: 0,
  };
  await new Promise<void>((done) => receiver.server.listen(0, '127.0.0.1', done));
  const { port } = receiver.server.address() as AddressInfo;
  return Object.assign(receiver, { url: `http://127.0.0.1:${port}/hooks` });
}

export async function webhooksChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const receiver = await startChaosReceiver(random, options.failing ?? true);
  const dataDir = await mkdtemp(join(tmpdir(), 'roster-webhooks-chaos-'));
  let roster: RosterProcess | undefined;
  let base = '';
  const start = async () => {
    roster = startRoster(runtimeEnv(dataDir), 'node', { ownProcessGroup: true });
    base = parseBanner(await roster.waitForOutput(BANNER_END, 90_000)).url;
  };
  const call = (path: string, init: { method: string; json?: unknown }) =>
    fetch(`${base}${path}`, {
      method: init.method,
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
      signal: AbortSignal.timeout(10_000),
    });

  const acknowledged = new Map<string, number>();
  let kills = 0;
  try {
    await start();
    const created = await call('/webhooks', {
      method: 'POST',
      json: { url: receiver.url, eventTypes: ['event.created'] },
    });
    if (created.status !== 201) throw new Error(`no endpoint: ${await created.text()}`);

    const queue = Array.from({ length: options.events }, (_, n) => ({
      id: `chaos-${n}`,
      tries: 0,
    }));
    let restarting: Promise<void> | undefined;
    let nextKill = Date.now() + options.killEverySeconds * 1000;
    let nextKillCount = options.killEveryAcknowledged ?? Number.POSITIVE_INFINITY;
    const restart = () => {
      restarting ??= (async () => {
        const dying = roster;
        if (dying) {
          killGroup(dying);
          await exitOf(dying);
        }
        kills++;
        log(`  kill ${kills} after ${acknowledged.size} acknowledged; restarting`);
        await start();
        nextKill = Date.now() + options.killEverySeconds * 1000;
        restarting = undefined;
      })();
      return restarting;
    };
    const paceStart = Date.now();
    let started = 0;
    const pace = async () => {
      if (!options.ratePerSecond) return;
      const slot = paceStart + (started++ * 1000) / options.ratePerSecond;
      if (slot > Date.now()) await sleep(slot - Date.now());
    };
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        await pace();
        if (restarting) await restarting;
        const byCount = options.killEveryAcknowledged;
        if (Date.now() >= nextKill || (byCount && acknowledged.size >= nextKillCount)) {
          if (byCount) nextKillCount = acknowledged.size + byCount;
          await restart();
        }
        try {
          const response = await call('/events', {
            method: 'POST',
            json: eventBody(item.id, 10, false),
          });
          await response.body?.cancel();
          // 201: acknowledged. 409 on a second try: created before a kill, never acknowledged.
          if (response.status === 201) acknowledged.set(item.id, Date.now());
          else if (response.status !== 409 && item.tries++ < 5) queue.push(item);
        } catch {
          // The process died under the request (not acknowledged): try once more later.
          if (item.tries++ < 5) queue.push(item);
          if (restarting) await restarting;
          else await sleep(50);
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    log(`  ${acknowledged.size} acknowledged; waiting for the last deliveries`);
    const deadline = Date.now() + options.drainSeconds * 1000;
    while (Date.now() < deadline) {
      if ([...acknowledged.keys()].every((id) => receiver.delivered.has(id))) break;
      await sleep(250);
    }
  } finally {
    if (roster) await stopRoster(roster);
    await new Promise((done) => receiver.server.close(done));
    await rm(dataDir, { recursive: true, force: true });
  }

  const missing = [...acknowledged.keys()].filter((id) => !receiver.delivered.has(id));
  const copies = [...acknowledged.keys()].map((id) => receiver.delivered.get(id)?.length ?? 0);
  return {
    acknowledged: acknowledged.size,
    missing,
    delivered: copies.filter((n) => n > 0).length,
    attempts: receiver.attempts,
    duplicated: copies.filter((n) => n > 1).length,
    extraCopies: copies.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
    kills,
    firstAttemptMs: [...acknowledged].flatMap(([id, ackAt]) => {
      const first = receiver.firstArrival.get(id);
      return first === undefined ? [] : [Math.max(0, first - ackAt)];
    }),
    seconds: (Date.now() - started) / 1000,
  };
}
