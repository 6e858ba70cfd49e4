import { type Fragment, join, name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item, TransactItem } from '../../platform/dynamo/table.js';
import type { Event, EventChanges, Waitlist } from './events.model.js';
import {
  initialSlices,
  type ShardCounter,
  type ShardedView,
  summedEvent,
  type TicketBlock,
} from './events.shards.rules.js';
import { decodeRuns } from './events.waitlist.rules.js';

/*
 * A sharded event's own items (docs/decisions/sharded-capacity.md), beside its event item:
 *   shard counter  PK=EVENT#<eventId>#S<00-31>  SK=SHARD     slice, freeSeats, the counters, the
 *                  mirrors of the event's settings that registrations' conditions read, soldOut
 *   registration   PK=EVENT#<eventId>#S<00-31>  SK=REG#<userId>  as an unsharded row, + shard;
 *                  GSI3PK=TICKETS#<eventId>#<00-31> while confirmed
 *   revocation     PK=EVENT#<eventId>#S<00-31>  SK=REVOKED#<registrationId>  (gsi3 as its row)
 *   guard          PK=USER#<userId>             SK=REG#<eventId>  shard, registrationId,
 *                  requestKey, eventCreatedAt: one registration per user across the shards
 *   waitlist       PK=EVENT#<eventId>#W         SK=WAITLIST  today's bookkeeping names, offeredCount
 * Ids are [A-Za-z0-9._:-], so `EVENT#<id>#…` is never another event's `EVENT#<id>`. Counters,
 * guards and the waitlist item carry no index key: a registration's writes touch no index shared
 * by every event, and its row's ticket index key is its shard's.
 */

const shardPartition = (eventId: string, shard: number) =>
  `EVENT#${eventId}#S${String(shard).padStart(2, '0')}`;

export const shardKeys = {
  counter: (eventId: string, shard: number) => ({
    PK: shardPartition(eventId, shard),
    SK: 'SHARD',
  }),
  waitlist: (eventId: string) => ({ PK: `EVENT#${eventId}#W`, SK: 'WAITLIST' }),
  /** The shard's ticket block: the range of waitlist tickets its joins take from. */
  block: (eventId: string, shard: number) => ({ PK: shardPartition(eventId, shard), SK: 'BLOCK' }),
  registration: (eventId: string, shard: number, userId: string) => ({
    PK: shardPartition(eventId, shard),
    SK: `REG#${userId}`,
  }),
  revoked: (eventId: string, shard: number, registrationId: string) => ({
    PK: shardPartition(eventId, shard),
    SK: `REVOKED#${registrationId}`,
  }),
  guard: (userId: string, eventId: string) => ({ PK: `USER#${userId}`, SK: `REG#${eventId}` }),
  /** A confirmed row's (or its revocation's) place in its shard's ticket index (gsi3). */
  ticketKeys: (eventId: string, shard: number, registrationId: string, at: string) => ({
    GSI3PK: `TICKETS#${eventId}#${String(shard).padStart(2, '0')}`,
    GSI3SK: `${at}#${registrationId}`,
  }),
} as const;

/** A block item as stored; undefined when absent (no join on the shard yet). */
export function toTicketBlock(item: Item | undefined): TicketBlock | undefined {
  if (!item || item.blockNext === undefined) return undefined;
  return {
    next: Number(item.blockNext),
    end: Number(item.blockEnd),
    at: Number(item.blockAt),
    size: Number(item.blockSize ?? 1),
  };
}

/** The user a registration row's sort key (`REG#<userId>`) names. */
export const userOfRow = (sortKey: string): string => sortKey.slice('REG#'.length);

/** Shards of an event item: 1 for an item without the attribute (every item before sharding). */
export const shardsOf = (item: Pick<Event, 'shards'> | Item): number => Number(item.shards ?? 1);

/** The partitions a sharded event owns besides `EVENT#<id>`: its shards', then its waitlist's. */
export function shardPartitions(eventId: string, shards: number): string[] {
  return [
    ...Array.from({ length: shards }, (_, i) => shardKeys.counter(eventId, i).PK),
    shardKeys.waitlist(eventId).PK,
  ];
}

/** The event's settings that a registration's conditions read, as each shard mirrors them. */
function mirrors(event: Pick<Event, 'status' | 'hasWaitlist' | 'promotion'>) {
  return { status: event.status, hasWaitlist: event.hasWaitlist, promotion: event.promotion };
}

/** The counters and the waitlist item of a new sharded event: every seat free, nobody waiting. */
export function newShardItems(event: Event, shards: number): Item[] {
  const counters = initialSlices(event.capacity, shards).map((slice, shard) => ({
    ...shardKeys.counter(event.eventId, shard),
    type: 'shard',
    eventId: event.eventId,
    shard,
    slice,
    freeSeats: slice,
    registeredCount: 0,
    offeredCount: 0,
    waitlistCount: 0,
    soldOut: false,
    ...mirrors(event),
    settingsVersion: event.version,
    updatedAt: event.updatedAt,
  }));
  const waitlist = {
    ...shardKeys.waitlist(event.eventId),
    type: 'waitlist',
    eventId: event.eventId,
    waitlistIssued: event.waitlist.issued,
    waitlistFrontier: event.waitlist.frontier,
    offeredCount: 0,
  };
  return [...counters, waitlist];
}

/** Every counter and the waitlist item of each sharded event on a page, in one batch read. */
export function shardReadKeys(items: readonly Item[]) {
  return items
    .filter((item) => shardsOf(item) > 1)
    .flatMap((item) => {
      const eventId = String(item.eventId);
      return [
        ...Array.from({ length: shardsOf(item) }, (_, i) => shardKeys.counter(eventId, i)),
        shardKeys.waitlist(eventId),
      ];
    });
}

/**
 * The sharded event `settings` (the event item, mapped) summed from the items a batch read found
 * (`found`: by PK). A counter missing is left out of the sums: an event's counters are put with
 * its item and removed after it is marked, so a live event has them all.
 */
export function shardedView(settings: Event, found: ReadonlyMap<string, Item>): ShardedView {
  const shards: ShardCounter[] = [];
  for (let i = 0; i < shardsOf(settings); i++) {
    const item = found.get(shardKeys.counter(settings.eventId, i).PK);
    if (item) shards.push(toShardCounter(item));
  }
  const waitlistItem = found.get(shardKeys.waitlist(settings.eventId).PK);
  return summedEvent(settings, shards, waitlistItem ? toWaitlist(waitlistItem) : settings.waitlist);
}

/** A shard counter as stored; undefined when absent or marked with its event's deletion. */
export function liveShardCounter(item: Item | undefined): ShardCounter | undefined {
  return item && !item.deleting ? toShardCounter(item) : undefined;
}

function toShardCounter(item: Item): ShardCounter {
  return {
    shard: Number(item.shard),
    slice: Number(item.slice),
    registeredCount: Number(item.registeredCount),
    freeSeats: Number(item.freeSeats),
    offeredCount: Number(item.offeredCount ?? 0),
    waitlistCount: Number(item.waitlistCount ?? 0),
    soldOut: item.soldOut === true,
    updatedAt: String(item.updatedAt),
  };
}

/**
 * The waitlist bookkeeping as an item stores it, under the same names on the event item and on a
 * sharded event's waitlist item.
 */
export function toWaitlist(item: Item): Waitlist {
  const holes = item.waitlistHoles as Set<number> | undefined;
  return {
    issued: Number(item.waitlistIssued ?? 0),
    frontier: Number(item.waitlistFrontier ?? 0),
    holes: holes ? [...holes].map(Number) : [],
    runs: decodeRuns(item.waitlistHoleRuns),
  };
}

/**
 * Each shard's part of a change of its event (in the view's order): the mirrors and the settings
 * version, and its slice and free seats moved by `deltas[i]`. A shard that loses seats keeps the
 * condition that it still has them free (rule 1: seats taken are never cut); `live` as the event's.
 */
export function shardChangeItems(
  table: DynamoTable,
  view: ShardedView,
  next: Pick<Event, 'status' | 'hasWaitlist' | 'promotion' | 'version'>,
  deltas: readonly number[],
  now: string,
  live: Fragment,
): TransactItem[] {
  return view.shards.map((shard, i) => {
    const delta = deltas[i] ?? 0;
    const settings = Object.entries(mirrors(next)).map(
      ([field, value]) => x`${name(field)} = ${value}`,
    );
    return table.updateItem(shardKeys.counter(view.event.eventId, shard.shard), {
      update: join(
        [
          x`SET ${join(settings, ', ')}, settingsVersion = ${next.version}, updatedAt = ${now}`,
          ...(delta === 0 ? [] : [x`, slice = slice + ${delta}, freeSeats = freeSeats + ${delta}`]),
        ],
        '',
      ),
      condition: delta < 0 ? x`${live} AND freeSeats >= ${-delta}` : live,
    });
  });
}

/** The settings a change writes (for the mirrors): the event's, with the change applied. */
export function changedSettings(current: Event, changes: EventChanges) {
  return {
    status: changes.status ?? current.status,
    hasWaitlist: changes.hasWaitlist ?? current.hasWaitlist,
    promotion: changes.promotion ?? current.promotion,
    version: current.version + 1,
  };
}
