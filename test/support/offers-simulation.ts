import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { eventsKeys } from '../../src/modules/events/events.dynamo.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { offersOpen, seatsToPass } from '../../src/modules/events/events.offers.rules.js';
import type { DynamoClients } from '../../src/platform/dynamo/client.js';
import type { Ports } from '../../src/platform/module.js';
import type { TimerPort } from '../../src/platform/timers/timers.js';
import { createTestApp, type TestApp } from './app.js';

/*
 * The waitlist-offers simulation: random steps (register, unregister, accept, decline, let lapse,
 * change capacity or offer settings, kill the process mid-step and restart it) against the real
 * events module on DynamoDB Local, with an injected clock, checking after every step that the
 * stored data keeps the rules:
 *
 * - per event, rows = counters (confirmed, offered, waitlisted), and confirmed + offered ≤ capacity;
 * - settled (after a step that finished, or a restart's start-up tasks): no seat is free while
 *   someone waits with no offer out for it (seatsToPass = 0: in offer mode, the batch is out);
 * - FIFO: whoever left the waitlist by an offer or a promotion held a lower ticket than everyone
 *   still waiting; a newcomer is never confirmed while someone waits;
 * - an accept before the deadline succeeds, at or after it is a 410; every answer is one the
 *   rules allow for the data as it was.
 *
 * A kill stops the "process" at a random DynamoDB call of the step (before the call, or right
 * after it committed), as SIGKILL would: every later call fails; the restart is a new container
 * on the same tables, whose start-up tasks run before the next step. Timers die with the process.
 */

export interface SimulationOptions {
  readonly steps: number;
  readonly seed: number;
  /**
   * Offers the run must have made: past `steps`, it goes on (the same random sequence, so a seed
   * replays its first `steps` as before) until it has, for at most three times `steps` more. A
   * short run on an unlucky seed can make none (its users picked so that no seat ever frees
   * while someone waits in offer mode).
   */
  readonly minOffers?: number;
  /** Called with progress every so often (the bench prints it). */
  readonly progress?: (step: number) => void;
}

export interface SimulationReport {
  readonly steps: number;
  readonly seed: number;
  /** How many times each kind of step ran. */
  readonly counts: Readonly<Record<string, number>>;
  readonly kills: number;
  readonly offersMade: number;
  readonly accepted: number;
  readonly lapsed: number;
}

/** Mulberry32: a small seeded generator, so that a failing run can be replayed by its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}

class ProcessKilled extends Error {
  override name = 'ProcessKilled';
}

/** A kill switch in the client's middleware: after `armed` more calls, the process is dead. */
function killSwitch(clients: DynamoClients) {
  let remaining: number | undefined;
  let commitThenDie = false;
  let dead = false;
  clients.client.middlewareStack.add(
    (next) => async (args) => {
      if (dead) throw new ProcessKilled('the process was killed');
      if (remaining !== undefined && remaining-- <= 0) {
        dead = true;
        if (commitThenDie) await next(args);
        throw new ProcessKilled('the process was killed');
      }
      return next(args);
    },
    { step: 'initialize', name: 'offersSimulationKill' },
  );
  return {
    arm(calls: number, afterCommit: boolean) {
      remaining = calls;
      commitThenDie = afterCommit;
    },
    disarm() {
      remaining = undefined;
    },
    get dead() {
      return dead;
    },
  };
}

interface Timer {
  readonly at: number;
  readonly body: { eventId: string; userId: string; offerId: string };
}

interface Row {
  readonly userId: string;
  readonly status: string;
  readonly ticket?: number;
  readonly offerId?: string;
  readonly offerExpiresAt?: string;
}

interface Stored {
  readonly event: Record<string, unknown>;
  readonly rows: Row[];
}

type Process = {
  readonly app: TestApp;
  readonly kill: ReturnType<typeof killSwitch>;
  readonly timers: Timer[];
};

const USERS = 14;
const WINDOW_SECONDS = 120;

export async function runOffersSimulation(options: SimulationOptions): Promise<SimulationReport> {
  const rng = random(options.seed);
  let now = Date.parse('2026-12-01T10:00:00.000Z');
  const clock = () => new Date(now);
  const prefix = `sim${options.seed.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const counts: Record<string, number> = {};
  const report = { kills: 0, offersMade: 0, accepted: 0, lapsed: 0 };
  const log: string[] = [];
  const fail = (message: string): never => {
    throw new Error(
      `offers simulation (seed ${options.seed}): ${message}\nlast steps:\n${log.slice(-12).join('\n')}`,
    );
  };

  const start = async (): Promise<Process> => {
    const timers: Timer[] = [];
    const port: TimerPort = {
      timers: () => ({
        set: async (_name, at, body) => {
          timers.push({ at: at.getTime(), body: JSON.parse(body) });
        },
      }),
    };
    let kill: ReturnType<typeof killSwitch> | undefined;
    const app = await createTestApp({
      modules: [eventsModule],
      env: { TABLE_PREFIX: prefix },
      clock,
      ports: { timers: port } as Ports,
      dynamo: (clients) => {
        kill = killSwitch(clients);
        return clients;
      },
    });
    return { app, kill: kill as ReturnType<typeof killSwitch>, timers };
  };

  let proc = await start();
  const services = () => proc.app.servicesOf(eventsModule);

  /** What start-up runs: the module's start-up tasks, in order. */
  const startupTasks = async () => {
    for (const task of eventsModule.tasks ?? []) {
      if (task.startup) await task.run(services(), { trigger: 'startup' });
    }
  };

  const events = [
    { eventId: `${prefix}-a`, capacity: 2, promotion: 'offer', offerBatch: 1 },
    { eventId: `${prefix}-b`, capacity: 3, promotion: 'offer', offerBatch: 2 },
    // Its offers close an hour into the run: from then on seats are promoted at once.
    {
      eventId: `${prefix}-c`,
      capacity: 1,
      promotion: 'offer',
      offerBatch: 1,
      date: new Date(now + 2 * 3_600_000).toISOString(),
      offersCloseBefore: 1,
    },
  ];
  for (const event of events) {
    const res = await proc.app.call('/events', {
      method: 'POST',
      json: {
        title: 'Simulated',
        description: 'Offers simulation',
        date: '2027-06-01',
        location: 'Online',
        organizer: 'Roster',
        hasWaitlist: true,
        offerWindowSeconds: WINDOW_SECONDS,
        ...event,
      },
    });
    if (res.status !== 201) fail(`create event: ${res.status} ${await res.text()}`);
  }
  const users = Array.from({ length: USERS }, (_, i) => `${prefix}-u${i}`);
  for (const userId of users) {
    const res = await proc.app.call('/users', { method: 'POST', json: { userId, name: userId } });
    if (res.status !== 201) fail(`create user: ${res.status}`);
  }

  const read = async (eventId: string): Promise<Stored> => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await proc.app.dynamo.doc.send(
        new QueryCommand({
          TableName: proc.app.config.tables.events,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': eventsKeys.event(eventId).PK },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const event = items.find((item) => item.SK === 'EVENT') ?? fail(`event ${eventId} is gone`);
    const rows = items
      .filter((item) => String(item.SK).startsWith('REG#'))
      .map((item) => ({
        userId: item.userId as string,
        status: item.status as string,
        ...(item.ticket !== undefined ? { ticket: Number(item.ticket) } : {}),
        ...(item.offerId ? { offerId: item.offerId as string } : {}),
        ...(item.offerExpiresAt ? { offerExpiresAt: item.offerExpiresAt as string } : {}),
      }));
    return { event, rows };
  };

  const waitingTickets = (stored: Stored) =>
    new Map(
      stored.rows.filter((r) => r.status === 'waitlisted').map((r) => [r.userId, r.ticket ?? 0]),
    );

  /** The rules, on the data as stored now; `settled`: no step is half done. */
  const check = async (
    settled: boolean,
    before: ReadonlyMap<string, Stored>,
    actedOn: string | undefined,
  ) => {
    for (const { eventId } of events) {
      const stored = await read(eventId);
      const { event, rows } = stored;
      const count = (status: string) => rows.filter((r) => r.status === status).length;
      const confirmed = count('confirmed');
      const offered = count('offered');
      const waiting = count('waitlisted');
      const taken = Number(event.registeredCount);
      const offeredCount = Number(event.offeredCount ?? 0);
      if (taken !== confirmed + offered || offeredCount !== offered) {
        fail(
          `${eventId}: counters ${taken} taken / ${offeredCount} offered, rows ${confirmed} confirmed + ${offered} offered`,
        );
      }
      if (Number(event.waitlistCount) !== waiting) {
        fail(`${eventId}: waitlistCount ${event.waitlistCount}, rows ${waiting}`);
      }
      if (confirmed + offered > Number(event.capacity)) {
        fail(`${eventId}: ${confirmed} confirmed + ${offered} held > capacity ${event.capacity}`);
      }
      if (new Set(rows.map((r) => r.userId)).size !== rows.length) fail(`${eventId}: a user twice`);
      for (const row of rows) if (row.offerId) offerIds.add(row.offerId);
      // FIFO: who left the waitlist other than by their own act held a lower ticket than all
      // still waiting.
      const previous = before.get(eventId);
      const after = waitingTickets(stored);
      const lowestWaiting = Math.min(...after.values());
      if (previous) {
        for (const [userId, ticket] of waitingTickets(previous)) {
          if (after.has(userId) || userId === actedOn) continue;
          if (ticket > lowestWaiting) {
            fail(`${eventId}: ${userId} (ticket ${ticket}) left before ticket ${lowestWaiting}`);
          }
        }
        // A newcomer never takes a seat from people waiting.
        const wasActive = new Set(
          previous.rows
            .filter((r) => r.status !== 'expired' && r.status !== 'declined')
            .map((r) => r.userId),
        );
        const newlyConfirmed = rows.filter(
          (r) => r.status === 'confirmed' && !wasActive.has(r.userId),
        );
        if (newlyConfirmed.length > 0 && waitingTickets(previous).size > 0) {
          fail(`${eventId}: ${newlyConfirmed[0]?.userId} confirmed while people waited`);
        }
      }
      if (settled) {
        const domain = await services().events.getEvent(eventId);
        const pass = seatsToPass(domain, clock());
        if (pass.count > 0) {
          fail(
            `${eventId}: ${pass.count} seat(s) free while ${domain.waitlistCount} wait and no ${pass.kind} is out (${domain.offeredCount} offered, batch ${domain.offerBatch}, open ${offersOpen(domain, clock())})`,
          );
        }
      }
    }
  };

  /** Every offer id seen on a row: the offers made. */
  const offerIds = new Set<string>();

  const snapshot = async () =>
    new Map(
      await Promise.all(events.map(async (e) => [e.eventId, await read(e.eventId)] as const)),
    );

  const offeredRows = async () => {
    const all: { eventId: string; row: Row }[] = [];
    for (const { eventId } of events) {
      for (const row of (await read(eventId)).rows) {
        if (row.status === 'offered') all.push({ eventId, row });
      }
    }
    return all;
  };

  const expectStatus = async (res: Response, allowed: readonly number[], what: string) => {
    if (!allowed.includes(res.status)) {
      fail(`${what}: ${res.status} ${await res.text()} (expected ${allowed.join(' or ')})`);
    }
    return res.status;
  };

  /** The user the step in progress acts for (known even when a kill cuts the step short). */
  let target: string | undefined;
  /** Whether the clock moved during the step. */
  let timeMoved = false;

  /** One step of the given kind; returns the user it acted for, if any. */
  const step = async (kind: string): Promise<string | undefined> => {
    const event = rng.pick(events);
    const userId = rng.pick(users);
    target = ['register', 'unregister'].includes(kind) ? userId : undefined;
    const startedAt = now;
    try {
      return await act(kind, event, userId);
    } finally {
      timeMoved ||= now !== startedAt;
    }
  };

  const act = async (
    kind: string,
    event: (typeof events)[number],
    userId: string,
  ): Promise<string | undefined> => {
    const { app } = proc;
    const eventPath = `/events/${event.eventId}`;
    switch (kind) {
      case 'register': {
        const stored = await read(event.eventId);
        const active = stored.rows.some(
          (r) => r.userId === userId && r.status !== 'expired' && r.status !== 'declined',
        );
        const res = await app.call('/registrations', {
          method: 'POST',
          json: { userId, eventId: event.eventId },
        });
        await expectStatus(res, active ? [409] : [201], `register ${userId} for ${event.eventId}`);
        return userId;
      }
      case 'unregister': {
        const stored = await read(event.eventId);
        const row = stored.rows.find((r) => r.userId === userId);
        const active = row && row.status !== 'expired' && row.status !== 'declined';
        const res = await app.call(`${eventPath}/registrations/${userId}`, { method: 'DELETE' });
        await expectStatus(res, active ? [200] : [404], `unregister ${userId}`);
        return userId;
      }
      case 'accept':
      case 'decline': {
        const offers = await offeredRows();
        if (offers.length === 0) return undefined;
        const { eventId, row } = rng.pick(offers);
        target = row.userId;
        const deadline = Date.parse(row.offerExpiresAt as string);
        // Now, the last millisecond before the deadline, or the deadline itself.
        const when = rng.pick(['now', 'now', 'now', 'last-ms', 'deadline'] as const);
        if (when === 'last-ms') now = Math.max(now, deadline - 1);
        if (when === 'deadline') now = Math.max(now, deadline);
        const token = await tokenOf(eventId, row.userId);
        const res = await app.call(`/offers/${token}/${kind}`, { method: 'POST' });
        const expected = now < deadline ? 200 : 410;
        await expectStatus(
          res,
          [expected],
          `${kind} ${row.userId} at deadline ${now - deadline} ms`,
        );
        if (kind === 'accept' && expected === 200) report.accepted++;
        return row.userId;
      }
      case 'lapse': {
        // Time passes to the next deadline; the timers due fire (those of a dead process are lost).
        const offers = await offeredRows();
        if (offers.length === 0) return undefined;
        const next = Math.min(...offers.map((o) => Date.parse(o.row.offerExpiresAt as string)));
        now = Math.max(now, next + rng.int(0, 2000));
        const due = proc.timers.filter((t) => t.at <= now);
        proc.timers.splice(0, proc.timers.length, ...proc.timers.filter((t) => t.at > now));
        for (const timer of due) {
          const outcome = await services().offers.lapse(timer.body);
          if (outcome === 'lapsed') report.lapsed++;
        }
        // The sweep, now and then, as its schedule would.
        if (rng.next() < 0.3)
          report.lapsed += (await services().offers.sweep({ rearm: false })).lapsed;
        return undefined;
      }
      case 'capacity': {
        const stored = await read(event.eventId);
        const taken = Number(stored.event.registeredCount);
        const capacity = rng.int(1, 6);
        const res = await app.call(eventPath, { method: 'PUT', json: { capacity } });
        await expectStatus(
          res,
          capacity < taken ? [409] : [200],
          `capacity ${capacity} (taken ${taken})`,
        );
        return undefined;
      }
      case 'settings': {
        const json =
          rng.next() < 0.5
            ? { offerBatch: rng.int(1, 3) }
            : { promotion: rng.pick(['offer', 'offer', 'instant'] as const) };
        await expectStatus(await app.call(eventPath, { method: 'PUT', json }), [200], 'settings');
        return undefined;
      }
      case 'tick':
        now += rng.int(1, 30_000);
        return undefined;
      default:
        return fail(`unknown step ${kind}`);
    }
  };

  /** The registration's current offer token, as the organiser reads it. */
  const tokenOf = async (eventId: string, userId: string) => {
    const list = await proc.app.call(`/events/${eventId}/registrations?limit=100`);
    const found = ((await list.json()) as { userId: string; offerToken?: string }[]).find(
      (r) => r.userId === userId,
    );
    return found?.offerToken ?? fail(`${userId} has no token`);
  };

  const kinds: [string, number][] = [
    ['register', 28],
    ['unregister', 16],
    ['accept', 12],
    ['decline', 6],
    ['lapse', 12],
    ['capacity', 8],
    ['settings', 3],
    ['tick', 5],
    ['kill', 4],
  ];
  const total = kinds.reduce((sum, [, weight]) => sum + weight, 0);
  const choose = () => {
    let roll = rng.next() * total;
    for (const [kind, weight] of kinds) {
      roll -= weight;
      if (roll < 0) return kind;
    }
    return 'tick';
  };

  /**
   * When time moved, what the seat sweep's schedule would have done by then: an event whose
   * offers closed meanwhile has its held-back seats promoted (nothing else acts on a clock).
   */
  const settle = async () => {
    if (!timeMoved) return;
    timeMoved = false;
    await services().offers.fillStrandedSeats(services().allEvents());
  };

  await check(true, new Map(), undefined);
  const minOffers = options.minOffers ?? 0;
  let i = 0;
  for (; i < options.steps || (offerIds.size < minOffers && i < 4 * options.steps); i++) {
    if (i % 250 === 0) options.progress?.(i);
    const kind = choose();
    counts[kind] = (counts[kind] ?? 0) + 1;
    const before = await snapshot();
    if (kind === 'kill') {
      // A random step, cut short at a random call (before it, or right after it committed).
      const victim = rng.pick(['register', 'unregister', 'accept', 'decline', 'lapse', 'capacity']);
      proc.kill.arm(rng.int(0, 6), rng.next() < 0.5);
      log.push(`${i}: kill during ${victim}`);
      let actedOn: string | undefined;
      timeMoved = false;
      target = undefined;
      try {
        actedOn = await step(victim);
      } catch (error) {
        if (!proc.kill.dead && !(error instanceof ProcessKilled)) throw error;
      }
      if (proc.kill.dead) {
        report.kills++;
        // Whatever the dead process committed must already keep the rules, settled or not.
        proc = await start();
        await check(false, before, actedOn ?? target);
        await startupTasks();
        await check(true, new Map(), undefined);
        continue;
      }
      proc.kill.disarm();
      await settle();
      await check(true, before, actedOn);
      continue;
    }
    log.push(`${i}: ${kind} @${new Date(now).toISOString()}`);
    timeMoved = false;
    const actedOn = await step(kind);
    await settle();
    await check(true, before, actedOn);
  }
  return { steps: i, seed: options.seed, counts, ...report, offersMade: offerIds.size };
}
