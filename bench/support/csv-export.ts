import { BatchWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { v7 as uuidv7 } from 'uuid';
import { eventsKeys, eventsTable } from '../../src/modules/events/events.dynamo.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { sendInBatches } from '../../src/platform/retry.js';
import { BENCH_API_KEY, startStack } from './stack.js';

export interface CsvExportFigures {
  readonly rows: number;
  readonly bytes: number;
  readonly seedSeconds: number;
  readonly seconds: number;
  readonly rssBeforeMb: number;
  readonly rssPeakMb: number;
  /** The highest RSS sampled while the file streamed, less the RSS just before the request. */
  readonly rssGrowthMb: number;
}

const MB = 1024 * 1024;
const SAMPLE_EVERY_MS = 20;
const SEED_LANES = 16;
const WARMUP_ROWS = 5000;

/**
 * One event with `registrations` registrations (`confirmed` of them confirmed, the rest
 * waitlisted) and their users, written straight into an in-memory DynamoDB Local with
 * BatchWriteItem, then its CSV export streamed over HTTP from the real app (the bench's stack)
 * while the process's RSS is sampled. The app and the client share the process, so the growth
 * counts both: an export that held the file would show it several times over.
 */
export async function csvExportBench(options: {
  readonly registrations: number;
  readonly confirmed: number;
  readonly log: (line: string) => void;
}): Promise<CsvExportFigures> {
  const { registrations, confirmed, log } = options;
  const stack = await startStack();
  try {
    const seedStarted = performance.now();
    const eventId = await seed(stack, registrations, confirmed);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    log(`  seeded ${registrations} registrations and their users in ${seedSeconds.toFixed(1)} s`);
    // A server that has answered before: code compiled, the heap at its working size. Only
    // then is growth what the export itself holds.
    const warmup = await seed(stack, WARMUP_ROWS, WARMUP_ROWS / 2);
    await exportOf(stack, warmup);

    const rssBefore = process.memoryUsage.rss();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }, SAMPLE_EVERY_MS);
    const started = performance.now();
    let exported: { rows: number; bytes: number };
    try {
      exported = await exportOf(stack, eventId);
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    return {
      ...exported,
      seedSeconds,
      seconds,
      rssBeforeMb: rssBefore / MB,
      rssPeakMb: rssPeak / MB,
      rssGrowthMb: (rssPeak - rssBefore) / MB,
    };
  } finally {
    await stack.stop();
  }
}

type Stack = Awaited<ReturnType<typeof startStack>>;

/** The event's CSV export read to its end over HTTP, counting its rows as they arrive. */
async function exportOf(stack: Stack, eventId: string): Promise<{ rows: number; bytes: number }> {
  const res = await fetch(`${stack.appUrl}/events/${eventId}/registrations.csv`, {
    headers: { 'x-api-key': BENCH_API_KEY },
  });
  if (res.status !== 200 || !res.body) throw new Error(`export answered ${res.status}`);
  let bytes = 0;
  let lineEnds = 0;
  // Names hold no line breaks (the text rule), so each CRLF ends one record.
  let previous = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (const byte of chunk) {
      if (byte === 0x0a && previous === 0x0d) lineEnds++;
      previous = byte;
    }
  }
  return { rows: lineEnds - 1, bytes };
}

/**
 * The event through its service; users and registrations in the shapes the adapters write
 * (events.users.dynamo.ts, events.registrations.dynamo.ts), then the event's counters and
 * waitlist bookkeeping set to match them.
 */
async function seed(stack: Stack, registrations: number, confirmed: number): Promise<string> {
  const { events } = stack.container.servicesOf(eventsModule);
  const { eventId } = await events.createEvent({
    eventId: `csv-${uuidv7()}`,
    title: 'Benchmark CSV export',
    description: 'Written by npm run bench -- --only=csv',
    date: '2030-01-01',
    location: 'localhost',
    capacity: confirmed,
    organizer: 'bench',
    status: 'active',
    hasWaitlist: true,
  });
  const table = stack.config.tables[eventsTable.id] as string;
  const doc = stack.direct.doc;
  const writes = async (items: readonly Record<string, unknown>[]) => {
    const refused = await sendInBatches(
      items.map((Item) => ({ PutRequest: { Item } })),
      {
        size: 25,
        attempts: 8,
        baseMs: 25,
        capMs: 1000,
        send: async (chunk) => {
          const result = await doc.send(
            new BatchWriteCommand({ RequestItems: { [table]: chunk } }),
          );
          return (result.UnprocessedItems?.[table] ?? []) as typeof chunk;
        },
      },
    );
    if (refused.length > 0) throw new Error(`seeding: ${refused.length} writes refused`);
  };
  const lane = async (lane: number) => {
    const items: Record<string, unknown>[] = [];
    for (let i = lane; i < registrations; i += SEED_LANES) {
      items.push(...userAndRegistration(eventId, i, confirmed));
      if (items.length >= 500) await writes(items.splice(0));
    }
    await writes(items);
  };
  await Promise.all(Array.from({ length: SEED_LANES }, (_, i) => lane(i)));
  const waiting = registrations - confirmed;
  await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: eventsKeys.event(eventId),
      UpdateExpression:
        'SET registeredCount = :confirmed, waitlistCount = :waiting, waitlistIssued = :waiting, waitlistFrontier = :zero',
      ExpressionAttributeValues: { ':confirmed': confirmed, ':waiting': waiting, ':zero': 0 },
    }),
  );
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
