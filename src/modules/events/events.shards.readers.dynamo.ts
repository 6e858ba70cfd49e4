import { x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item, MergeRule, QuerySpec } from '../../platform/dynamo/table.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { eventsKeys } from './events.dynamo.js';
import type { Event } from './events.model.js';
import { shardKeys, shardsOf } from './events.shards.dynamo.js';
import { mergeAscending, shardOf } from './events.shards.rules.js';

/*
 * The readers of a whole event where a sharded one keeps its rows in N partitions
 * `EVENT#<id>#S<ss>` (docs/decisions/sharded-capacity.md, *Readers*). Each answers for an
 * unsharded event with the one key it read before sharding, so those read exactly as they did.
 *
 * The list and the export merge the shards' lsi1 queries ascending by `LSI1SK`: `C#<UUIDv7>` is
 * join order across shards, `O#`/`W#` tickets are global, and every value is unique.
 */

/** What a reader needs to know of an event: where its rows are. */
export type EventShards = Pick<Event, 'eventId' | 'shards'>;

const SORT_KEY = 'LSI1SK';
const sortKeyOf = (item: Item) => String(item[SORT_KEY]);

/** The partitions holding an event's registration rows (and its revocations). */
export function registrationPartitions(event: EventShards): string[] {
  const shards = shardsOf(event);
  if (shards === 1) return [eventsKeys.event(event.eventId).PK];
  return Array.from({ length: shards }, (_, s) => shardKeys.counter(event.eventId, s).PK);
}

/**
 * The partition of the row a registration id names: a sharded event's shard is in the id
 * (`shardOf`), so a ticket, which carries only the id, finds its row with no other read.
 */
export function rowPartition(event: EventShards, registrationId: string): string {
  return shardsOf(event) === 1
    ? eventsKeys.event(event.eventId).PK
    : shardKeys.counter(event.eventId, shardOf(registrationId)).PK;
}

/**
 * The ticket index (gsi3) keys a door device's manifest reads: a sharded event's shards' (rows
 * and revocations), then the event's own, where admissions are indexed for every event — a scan
 * writes the event's partition anyway (its nonce, admission and log entry), so the admission's
 * index entry beside them spreads nothing hot.
 */
export function ticketIndexKeys(event: EventShards): string[] {
  const own = `TICKETS#${event.eventId}`;
  const shards = shardsOf(event);
  if (shards === 1) return [own];
  return [...Array.from({ length: shards }, (_, s) => ticketPartition(event.eventId, s)), own];
}

/** A shard's ticket index key, as its rows and revocations are written. */
const ticketPartition = (eventId: string, shard: number) =>
  shardKeys.ticketKeys(eventId, shard, '', '').GSI3PK;

/** The registrations query of one partition (lsi1), past `after` when given. */
const rowsOf = (
  partition: string,
  after: string | undefined,
  attributes?: readonly string[],
): QuerySpec => ({
  index: eventsKeys.registrationsIndex,
  key: x`PK = ${partition}${after === undefined ? x`` : x` AND LSI1SK > ${after}`}`,
  consistent: true,
  ...(attributes ? { attributes: [...new Set([...attributes, SORT_KEY])] } : {}),
});

/** The shards' lsi1 reads merged ascending, each shard's position kept in the cursor. */
const ascending: MergeRule = (reads, limit) => {
  const merged = mergeAscending(reads, sortKeyOf, limit);
  const positions: Record<string, string> = {};
  for (const [i, { partition }] of reads.entries()) {
    const position = merged.cursor?.[i];
    if (position !== undefined) positions[partition] = position;
  }
  return { items: merged.items, positions };
};

/**
 * A page of a sharded event's registrations in the unsharded list's order: one lsi1 query per
 * shard not yet exhausted, up to `limit` items each (a page costs up to N × limit items read).
 */
export function shardedRegistrationsPage<T>(
  table: DynamoTable,
  event: EventShards,
  page: PageRequest,
  map: (item: Item) => T,
): Promise<Page<T>> {
  const partitions = Object.fromEntries(
    registrationPartitions(event).map((partition) => [
      // The shard's own suffix (`S00`…): never an integer-like key, so kept in shard order.
      partition.slice(partition.lastIndexOf('#') + 1),
      (after: string | undefined) => rowsOf(partition, after),
    ]),
  );
  // Its own scope: an unsharded list's cursor (a DynamoDB key) is refused here, and this one there.
  return table.queryMerged(
    `event-registrations:${event.eventId}:shards`,
    partitions,
    page,
    ascending,
    map,
  );
}

interface ShardStream {
  readonly pages: AsyncIterator<Item[]>;
  /** Read from the shard and not merged yet. */
  buffered: readonly Item[];
  done: boolean;
}

/**
 * Every registration row of a sharded event in the list's order, `pageSize` at a time (the last
 * page may be shorter): the shards' lsi1 queries merged as they are read, each row read once, a
 * shard's next page read only when its rows read so far are all merged.
 */
export async function* shardedRegistrationRows(
  table: DynamoTable,
  event: EventShards,
  pageSize: number,
  attributes?: readonly string[],
): AsyncGenerator<Item[]> {
  const streams: ShardStream[] = registrationPartitions(event).map((partition) => ({
    pages: table
      .queryPages(rowsOf(partition, undefined, attributes), pageSize)
      [Symbol.asyncIterator](),
    buffered: [],
    done: false,
  }));
  const refill = async (stream: ShardStream) => {
    // A query can answer an empty page before its last (DynamoDB stops at Limit items).
    while (stream.buffered.length === 0 && !stream.done) {
      const next = await stream.pages.next();
      if (next.done) stream.done = true;
      else stream.buffered = next.value;
    }
  };
  for (;;) {
    const page: Item[] = [];
    while (page.length < pageSize) {
      // What a shard holds past its buffer may sort before every other shard's next row: the
      // merge stops where a buffer runs out, and that shard reads on before it goes further.
      await Promise.all(streams.map(refill));
      const merged = mergeAscending(
        streams.map(({ buffered, done }) => ({ items: buffered, more: !done })),
        sortKeyOf,
        pageSize - page.length,
      );
      if (merged.items.length === 0) break; // every shard exhausted
      page.push(...merged.items);
      for (const [i, stream] of streams.entries()) {
        stream.buffered = stream.buffered.slice(merged.consumed[i] ?? 0);
      }
    }
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
  }
}

/** One shard's waiting rows (lsi1 `W#`), lowest ticket first, strongly consistent. */
const waitingIn = (partition: string, attributes?: readonly string[]): QuerySpec => ({
  index: eventsKeys.registrationsIndex,
  key: x`PK = ${partition} AND begins_with(LSI1SK, ${'W#'})`,
  consistent: true,
  ...(attributes ? { attributes: [...new Set([...attributes, SORT_KEY])] } : {}),
});

/**
 * The first `count` waiting rows of a sharded event over all its shards, lowest ticket first:
 * each shard's first `count` (one query each, at once), merged by `W#<ticket>` — tickets come
 * from one sequence, so the merge is the one waitlist order.
 */
export async function shardedWaitlistHeads(
  table: DynamoTable,
  event: EventShards,
  count: number,
): Promise<Item[]> {
  const pages = await Promise.all(
    registrationPartitions(event).map(async (partition) => {
      for await (const items of table.queryPages(waitingIn(partition), count)) {
        // Only a shard read whole can be passed over: the first `count` of each are enough.
        return { items, more: false };
      }
      return { items: [], more: false };
    }),
  );
  return [...mergeAscending(pages, sortKeyOf, count).items];
}

/** The tickets of everyone waiting on a sharded event, every shard read whole. */
export async function shardedWaitingTickets(
  table: DynamoTable,
  event: EventShards,
): Promise<number[]> {
  const tickets: number[] = [];
  for (const partition of registrationPartitions(event)) {
    for await (const items of table.queryPages(waitingIn(partition, ['ticket']))) {
      tickets.push(...items.map((item) => Number(item.ticket ?? 0)));
    }
  }
  return tickets;
}
