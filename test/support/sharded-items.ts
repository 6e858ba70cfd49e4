import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TestApp } from './app.js';

/*
 * A sharded event's items as they are stored, read straight from the events table (strongly
 * consistent), for tests that check counters against rows — and the few writes another process
 * would make behind the app's back (seats moved or taken on a shard counter). The keys are the
 * design's (docs/decisions/sharded-capacity.md), written out here on purpose: a test that read them
 * through the adapter's own key helpers could not catch the adapter writing the wrong key.
 */

export type Item = Record<string, unknown>;

/** A shard's partition key: `EVENT#<id>#S<ss>`. */
export const shardPk = (eventId: string, shard: number) =>
  `EVENT#${eventId}#S${String(shard).padStart(2, '0')}`;

/** Every partition a sharded event of `shards` shards writes under its id. */
export const eventPartitions = (eventId: string, shards: number) => [
  `EVENT#${eventId}`,
  `EVENT#${eventId}#W`,
  ...Array.from({ length: shards }, (_, s) => shardPk(eventId, s)),
];

export function shardedItems(app: TestApp) {
  const TableName = app.config.tables.events;
  const get = async (PK: string, SK: string) =>
    (
      await app.dynamo.doc.send(
        new GetCommand({ TableName, Key: { PK, SK }, ConsistentRead: true }),
      )
    ).Item;
  /** A partition's items, or those whose sort key starts with `prefix`. */
  const partition = async (PK: string, prefix = '') =>
    (
      await app.dynamo.doc.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: prefix ? 'PK = :pk AND begins_with(SK, :prefix)' : 'PK = :pk',
          ExpressionAttributeValues: { ':pk': PK, ...(prefix ? { ':prefix': prefix } : {}) },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  /** A shard counter's change, as another process's commit would make it. */
  const changeShard = (eventId: string, shard: number, update: string, values: Item) =>
    app.dynamo.doc.send(
      new UpdateCommand({
        TableName,
        Key: { PK: shardPk(eventId, shard), SK: 'SHARD' },
        UpdateExpression: update,
        ConditionExpression: 'freeSeats >= :least',
        ExpressionAttributeValues: values,
      }),
    );
  const shardRows = (eventId: string, shard: number) => partition(shardPk(eventId, shard), 'REG#');
  return {
    get,
    partition,
    event: (eventId: string) => get(`EVENT#${eventId}`, 'EVENT'),
    shard: (eventId: string, shard: number) => get(shardPk(eventId, shard), 'SHARD'),
    /** Every shard counter, in shard order (`{}` for one missing). */
    shards: async (eventId: string, n: number) => {
      const items: Item[] = [];
      for (let s = 0; s < n; s++) items.push((await get(shardPk(eventId, s), 'SHARD')) ?? {});
      return items;
    },
    waitlist: (eventId: string) => get(`EVENT#${eventId}#W`, 'WAITLIST'),
    guard: (userId: string, eventId: string) => get(`USER#${userId}`, `REG#${eventId}`),
    /** One shard's registration rows. */
    shardRows,
    /** Every shard's registration rows, by shard. */
    rows: async (eventId: string, n: number) => {
      const rows: Item[][] = [];
      for (let s = 0; s < n; s++) rows.push(await shardRows(eventId, s));
      return rows;
    },
    /** Free seats moved between shards, as another process's rebalance moves them. */
    moveSeats: async (eventId: string, from: number, to: number, seats: number) => {
      const move = (shard: number, by: number) =>
        changeShard(eventId, shard, 'SET slice = slice + :by, freeSeats = freeSeats + :by', {
          ':by': by,
          ':least': Math.max(0, -by),
        });
      await move(from, -seats);
      await move(to, seats);
    },
    /** Seats taken on a shard, as registrations would take them (no rows written). */
    takeSeats: (eventId: string, shard: number, seats: number) =>
      changeShard(
        eventId,
        shard,
        'SET registeredCount = registeredCount + :least, freeSeats = freeSeats - :least',
        { ':least': seats },
      ),
  };
}
