import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { eventsKeys, eventsTable } from '../../src/modules/events/events.dynamo.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { type BenchStack, putItems } from './stack.js';

/** Batches written side by side while seeding. */
const SEED_LANES = 16;

export interface SeededEvent {
  /** The event's id (made unique by the caller). */
  readonly eventId: string;
  readonly title: string;
  readonly description: string;
  readonly capacity: number;
  /** How many rows to write: row `i` is `itemsOf(i)` (a user and its registration, say). */
  readonly rows: number;
  readonly itemsOf: (i: number) => readonly Record<string, unknown>[];
  /** The event item's counters and bookkeeping once the rows are in, set to match them. */
  readonly counters: Readonly<Record<string, number>>;
}

/**
 * An event made through its service, then rows written straight to the events table in the
 * shapes the adapters write (faster than the API could), SEED_LANES batches at a time, and the
 * event's counters set to match: how the benches that need thousands of registrations seed them.
 */
export async function seedEventRows(stack: BenchStack, seeded: SeededEvent): Promise<void> {
  const { events } = stack.container.servicesOf(eventsModule);
  await events.createEvent({
    eventId: seeded.eventId,
    title: seeded.title,
    description: seeded.description,
    date: '2030-01-01',
    location: 'localhost',
    capacity: seeded.capacity,
    organizer: 'bench',
    status: 'active',
    hasWaitlist: true,
  });
  const table = stack.config.tables[eventsTable.id] as string;
  const doc = stack.direct.doc;
  const lane = async (lane: number) => {
    const items: Record<string, unknown>[] = [];
    for (let i = lane; i < seeded.rows; i += SEED_LANES) {
      items.push(...seeded.itemsOf(i));
      if (items.length >= 500) await putItems(doc, table, items.splice(0));
    }
    await putItems(doc, table, items);
  };
  await Promise.all(Array.from({ length: SEED_LANES }, (_, i) => lane(i)));
  const names = Object.keys(seeded.counters);
  await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: eventsKeys.event(seeded.eventId),
      UpdateExpression: `SET ${names.map((_, i) => `#n${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((n, i) => [`#n${i}`, n])),
      ExpressionAttributeValues: Object.fromEntries(
        names.map((n, i) => [`:v${i}`, seeded.counters[n]]),
      ),
    }),
  );
}
