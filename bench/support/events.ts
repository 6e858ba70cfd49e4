import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { eventsKeys } from '../../src/modules/events/events.dynamo.js';
import { eventsModule, eventsTable } from '../../src/modules/events/events.module.js';
import type { Sample } from './measure.js';
import { httpLoad, summarize } from './measure.js';
import {
  type Committed,
  rawRegister,
  readCommitted,
  type Seeded,
  seedEvent,
} from './registrations.js';
import type { Row } from './report.js';
import { type BenchSection, type BenchTools, rpsOf } from './sections.js';
import { BENCH_API_KEY, type BenchStack } from './stack.js';

const authHeaders = { 'x-api-key': BENCH_API_KEY };

/** The events module's section: the registration burst, then GET /events/{id} on its event. */
export async function eventsSection(stack: BenchStack, tools: BenchTools): Promise<BenchSection> {
  const { settings } = tools;
  const burst = await tools.timed('registration burst', () => registrations(stack, tools));
  const get = await tools.timed('get event', () => getEvent(stack, tools, burst.appEventId));
  const rows = [...burst.rows, ...get];
  const rps = rpsOf(rows);
  const waitlisted = settings.burst - settings.capacity;
  return {
    rows,
    committed: burst.committed,
    ratios: {
      'register burst: app / service called directly':
        rps('register app') / rps('register service'),
      'register burst: app / raw TransactWriteItems': rps('register app') / rps('register raw txn'),
      'register burst: service / raw TransactWriteItems':
        rps('register service') / rps('register raw txn'),
      'GET /events/{id}: app / direct GetItem': rps('get event app') / rps('get event direct'),
    },
    // Every round's outcomes add up.
    expected: {
      'register app': { 201: settings.burst * settings.burstRounds },
      'register service': {
        confirmed: settings.capacity * settings.burstRounds,
        waitlisted: waitlisted * settings.burstRounds,
      },
      'register raw txn': {
        confirmed: settings.capacity * settings.burstRounds,
        waitlisted: waitlisted * settings.burstRounds,
      },
    },
    problems: Object.entries(burst.committed)
      .filter(([, c]) => !sameCounts(c, settings.capacity, settings.burst))
      .map(([name, c]) => `${name}: committed ${JSON.stringify(c)}`),
  };
}

/** 3. N registrations at once for one event: through the app, the repository, raw transactions. */
async function registrations(
  stack: BenchStack,
  { settings, log, allAtOnce }: BenchTools,
): Promise<{
  rows: Row[];
  committed: Record<string, Committed>;
  appEventId: string;
}> {
  const table = stack.container.table(eventsTable).name;
  const services = stack.container.servicesOf(eventsModule);
  const { registrations } = services;
  const { burst, capacity, warmupBurst, warmupCapacity } = settings;
  log(`registration burst: ${burst} at once, capacity ${capacity} + waitlist, three ways`);

  const runs: Record<string, (seeded: Seeded) => Promise<Sample>> = {
    'register app': (seeded) =>
      httpLoad({
        url: `${stack.appUrl}/events/${seeded.eventId}/registrations`,
        method: 'POST',
        headers: { ...authHeaders, 'content-type': 'application/json' },
        connections: seeded.userIds.length,
        amount: seeded.userIds.length,
        bodies: seeded.userIds.map((userId) => JSON.stringify({ userId })),
        watchdogSeconds: settings.burstWatchdogSeconds,
        timeoutSeconds: settings.burstWatchdogSeconds,
      }),
    // The service and its repository called directly: the same decisions and commits as
    // the app, without HTTP.
    'register service': (seeded) =>
      allAtOnce(seeded.userIds.length, async (i) => {
        const placed = await registrations.register(seeded.eventId, seeded.userIds[i] as string);
        return placed.registration.status;
      }),
    'register raw txn': (seeded) =>
      allAtOnce(seeded.userIds.length, (i) =>
        rawRegister(stack.direct.doc, table, seeded.eventId, seeded.userIds[i] as string),
      ),
  };

  const entries = Object.entries(runs);
  for (const [, run] of entries) {
    await run(await seedEvent(services, 'warmup', warmupCapacity, warmupBurst));
  }
  // Interleaved rounds (A B C, B C A, C A B), each on a fresh event, added up: whichever burst
  // comes first after a warm-up, or meets a busy moment, is not the only one to pay for it.
  const samples = new Map<string, Sample[]>(entries.map(([name]) => [name, []]));
  const committed: Record<string, Committed> = {};
  let appEventId = '';
  for (let round = 0; round < settings.burstRounds; round++) {
    for (let k = 0; k < entries.length; k++) {
      const [name, run] = entries[(round + k) % entries.length] as (typeof entries)[number];
      const seeded = await seedEvent(services, name.replaceAll(' ', '-'), capacity, burst);
      samples.get(name)?.push(await run(seeded));
      const counts = await readCommitted(stack.direct.doc, table, seeded.eventId);
      // The worst of the rounds is what the report shows (and what the checks judge).
      const previous = committed[name];
      if (!previous || !sameCounts(counts, capacity, burst)) committed[name] = counts;
      if (name === 'register app') appEventId = seeded.eventId;
    }
  }
  const rows = entries.map(([name]) => ({ name, m: summarize(samples.get(name) ?? []) }));
  return { rows, committed, appEventId };
}

/** Whether a burst committed exactly `capacity` confirmed and the rest waitlisted. */
function sameCounts(c: Committed, capacity: number, burst: number): boolean {
  const waitlisted = burst - capacity;
  return (
    c.registeredCount === capacity &&
    c.confirmedRows === capacity &&
    c.waitlistCount === waitlisted &&
    c.waitlistedRows === waitlisted
  );
}

/** 4. GET /events/{id} through the app vs the consistent GetItem the repository sends. */
function getEvent(stack: BenchStack, tools: BenchTools, eventId: string): Promise<Row[]> {
  const { settings, log, compare, steadyHttp, steadyDirect } = tools;
  log(`GET /events/{id} vs GetItem (ConsistentRead) at concurrency ${settings.concurrency}`);
  const get = new GetCommand({
    TableName: stack.container.table(eventsTable).name,
    Key: eventsKeys.event(eventId),
    ConsistentRead: true,
  });
  return compare({
    'get event app': steadyHttp(`${stack.appUrl}/events/${eventId}`, authHeaders),
    'get event direct': steadyDirect(async () => {
      const result = await stack.direct.doc.send(get);
      return result.Item ? undefined : 'missing';
    }),
  });
}
