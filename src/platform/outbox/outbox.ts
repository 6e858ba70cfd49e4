/**
 * Domain events and their outbox, a platform capability every module uses.
 *
 * A module that changes state worth announcing builds a `DomainEvent` (`outbox.event(...)`) and
 * commits it with the change: `outbox.put(event)` is one more item of the change's own
 * TransactWriteItems, into the platform's `domain-events` table. So an event exists exactly when
 * its change was committed — nothing is announced that did not happen, nothing that happened is
 * lost. After the commit the module calls `outbox.announce(events)`: a wake-up on the
 * `domain-events` queue for whoever consumes it (the webhooks module's dispatcher); when that
 * send fails or the process dies first, the consumer's sweep finds the event still marked
 * pending (a sparse index) and hands it on anyway.
 *
 * The table is also the event log: every event stays (until `expiresAt`, DynamoDB TTL) readable
 * by id and by time (one partition per UTC day), which is what replaying a window reads.
 *
 *   event   PK=<eventId>   GSI1PK=PENDING#<s> (until handed on)    GSI1SK=<occurredAt>#<eventId>
 *                           GSI2PK=DAY#<yyyy-mm-dd>#<s>             GSI2SK=<occurredAt>#<eventId>
 *
 * Both index keys are spread over SHARDS partitions (`<s>`, from the event id), because every
 * event of every module writes them: one index partition takes about 1,000 writes a second on
 * DynamoDB, and a popular on-sale alone can commit close to that.
 */
import * as z from 'zod/mini';
import type { $ZodType } from 'zod/v4/core';
import { x } from '../dynamo/expressions.js';
import type { DynamoTable, Item, TransactItem } from '../dynamo/table.js';
import { S, type TableDefinition } from '../dynamo/tables.js';
import type { Logger } from '../logger.js';
import type { Queue, QueueDefinition } from '../queue/queue.js';

/** One announced change, as stored and as delivered (the webhook payload). */
export interface DomainEvent<Data = unknown> {
  /** Time-ordered unique id (UUIDv7): the webhook-id of every delivery of this event. */
  readonly id: string;
  /** `<resource>.<change>`, e.g. `registration.promoted`; declared in a module's catalogue. */
  readonly type: string;
  /** When the change was committed (the module's clock), ISO 8601. */
  readonly occurredAt: string;
  /**
   * The resource that changed: its kind, its id, and its version after this change (1 for the
   * change that created it, one more for each change after), so a receiver can order what
   * arrives out of order and ignore what is older than what it holds.
   */
  readonly aggregate: { readonly type: string; readonly id: string; readonly sequence: number };
  /** The resource as the API returns it, right after the change. */
  readonly data: Data;
}

/** An entry of a module's event catalogue (`ModuleDefinition.domainEvents`). */
export interface DomainEventType {
  readonly type: string;
  readonly description: string;
}

/** The schema of each type's `data` (the API's own schema of the resource), by type. */
export type DomainEventPayloads = Readonly<Record<string, $ZodType>>;

/** An event of `type` as a subscriber receives it (the OpenAPI document's `webhooks`). */
export const domainEventSchema = (type: string, data: $ZodType = z.unknown()) =>
  z.object({
    id: z
      .string()
      .check(z.meta({ description: 'Unique, time-ordered; also the `webhook-id` header.' })),
    type: z.literal(type),
    occurredAt: z
      .string()
      .check(z.meta({ description: 'When the change was committed (ISO 8601).' })),
    aggregate: z.object({
      type: z.string(),
      id: z.string(),
      sequence: z.int().check(
        z.meta({
          description:
            "The resource's version after this change (1 when created): order by it, drop what is older than what you hold.",
        }),
      ),
    }),
    data,
  });

export const outboxTable = {
  id: 'domain-events',
  partitionKey: S('PK'),
  globalIndexes: [
    { indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') },
    { indexName: 'gsi2', partitionKey: S('GSI2PK'), sortKey: S('GSI2SK') },
  ],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDefinition;

/** Wake-ups for the consumer of domain events: `{ "eventIds": [...] }` per message. */
export const outboxQueue = {
  id: 'domain-events',
  maxReceiveCount: 5,
  consumerTimeoutSeconds: 60,
  batchSize: 10,
  maxConcurrency: 5,
} as const satisfies QueueDefinition;

const PENDING = 'PENDING';
/** Index partitions per key (see the key design above). */
const SHARDS = 8;
const shardOf = (id: string): number => Number.parseInt(id.slice(-2), 16) % SHARDS || 0;
const shards = Array.from({ length: SHARDS }, (_, s) => s);
const DAY_MS = 86_400_000;

export interface OutboxOptions {
  readonly table: DynamoTable;
  /** The wake-up queue; absent where nothing may be sent (offline, some tests). */
  readonly queue: () => Queue | undefined;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly logger: Logger;
  /** How long events stay readable (and replayable). @default 30 */
  readonly retentionDays?: number;
  /** Every event type the modules declare. */
  readonly catalogue: readonly DomainEventType[];
}

/**
 * The writing side (modules: `event`, `put`, `announce`) and the reading side (the consumer:
 * `get`, `pending`, `handedOn`, `window`) of the outbox.
 */
export class Outbox {
  private readonly retentionMs: number;

  constructor(private readonly options: OutboxOptions) {
    this.retentionMs = (options.retentionDays ?? 30) * DAY_MS;
  }

  get catalogue(): readonly DomainEventType[] {
    return this.options.catalogue;
  }

  /** A new event of `type` about `aggregate`, stamped with a fresh id and the clock's time. */
  event<Data>(
    type: string,
    aggregate: DomainEvent['aggregate'],
    data: Data,
    occurredAt: string = this.options.clock().toISOString(),
  ): DomainEvent<Data> {
    return { id: this.options.newId(), type, occurredAt, aggregate, data };
  }

  /** The transaction item that commits `event` with its change. */
  put(event: DomainEvent): TransactItem {
    return this.options.table.put(itemOf(event, this.expiresAt(event)));
  }

  /**
   * Wakes the consumer for committed events (call after the commit). Never throws: a send that
   * fails leaves the events pending, and the consumer's sweep takes them.
   */
  async announce(events: readonly DomainEvent[]): Promise<void> {
    if (events.length === 0) return;
    const queue = this.options.queue();
    if (!queue) return;
    try {
      await queue.send(JSON.stringify({ eventIds: events.map((event) => event.id) }));
    } catch (error) {
      this.options.logger.warn('domain events left for the sweep', {
        eventIds: events.map((event) => event.id),
        error: (error as Error).message,
      });
    }
  }

  async get(id: string): Promise<DomainEvent | undefined> {
    const item = await this.options.table.get({ PK: id });
    return item ? eventOf(item) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<DomainEvent[]> {
    const items = await this.options.table.batchGet(ids.map((id) => ({ PK: id })));
    return items.map(eventOf);
  }

  /**
   * Events not yet handed on whose place in the pending index is before `before`, oldest first,
   * at most `limit`. An event's place is when it occurred, until `revisitLater` moves it.
   */
  async pending(before: string, limit: number): Promise<DomainEvent[]> {
    const pages = await Promise.all(
      shards.map(async (shard) => {
        for await (const items of this.options.table.queryPages(
          { index: 'gsi1', key: x`GSI1PK = ${`${PENDING}#${shard}`} AND GSI1SK < ${before}` },
          limit,
        )) {
          return items;
        }
        return [];
      }),
    );
    return pages
      .flat()
      .sort((a, b) => String(a.GSI1SK).localeCompare(String(b.GSI1SK)))
      .slice(0, limit)
      .map(eventOf);
  }

  /**
   * Moves pending events' place in the pending index to `at` (those still pending), so that a
   * sweep that has just woken their consumer again does not do it at every run while a backlog
   * lasts.
   */
  async revisitLater(events: readonly DomainEvent[], at: string): Promise<void> {
    await Promise.all(
      events.map((event) =>
        this.options.table.update(
          { PK: event.id },
          {
            update: x`SET GSI1SK = ${`${at}#${event.id}`}`,
            condition: x`attribute_exists(GSI1PK)`,
          },
        ),
      ),
    );
  }

  /** Marks an event handed on (off the pending index); harmless when already done. */
  async handedOn(id: string): Promise<void> {
    await this.options.table.update(
      { PK: id },
      {
        update: x`REMOVE GSI1PK, GSI1SK`,
        condition: x`attribute_exists(PK)`,
      },
    );
  }

  /**
   * Events that occurred in [from, to), oldest first, in pages of at most `pageSize`: per UTC day
   * of the window, the day's index shards are read page by page and merged by time.
   */
  async *window(from: Date, to: Date, pageSize = 100): AsyncGenerator<DomainEvent[]> {
    const start = from.toISOString();
    const end = to.toISOString();
    for (let day = startOfDay(from); day < to.getTime(); day += DAY_MS) {
      const heads = shards.map((shard) =>
        bufferedItems(
          this.options.table.queryPages(
            {
              index: 'gsi2',
              key: x`GSI2PK = ${`${dayKey(day)}#${shard}`} AND GSI2SK BETWEEN ${start} AND ${end}`,
            },
            pageSize,
          ),
        ),
      );
      let page: DomainEvent[] = [];
      for (;;) {
        let oldest: (typeof heads)[number] | undefined;
        let oldestItem: Item | undefined;
        for (const head of heads) {
          const item = await head.peek();
          if (item && (!oldestItem || String(item.GSI2SK) < String(oldestItem.GSI2SK))) {
            oldest = head;
            oldestItem = item;
          }
        }
        if (!oldest || !oldestItem) break;
        oldest.take();
        const event = eventOf(oldestItem);
        if (event.occurredAt < end) page.push(event);
        if (page.length >= pageSize) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    }
  }

  /** When `event` leaves the log (epoch seconds): what kept about it should expire with it. */
  expiresAt(event: Pick<DomainEvent, 'occurredAt'>): number {
    return Math.floor((Date.parse(event.occurredAt) + this.retentionMs) / 1000);
  }
}

/** One query's items, one at a time, fetching its next page when the last one is taken. */
function bufferedItems(pages: AsyncGenerator<Item[]>) {
  let buffer: Item[] = [];
  let done = false;
  return {
    async peek(): Promise<Item | undefined> {
      while (buffer.length === 0 && !done) {
        const next = await pages.next();
        if (next.done) done = true;
        else buffer = next.value;
      }
      return buffer[0];
    },
    take(): void {
      buffer.shift();
    },
  };
}

function itemOf(event: DomainEvent, expiresAt: number): Item {
  const sort = `${event.occurredAt}#${event.id}`;
  return {
    PK: event.id,
    event: JSON.stringify(event),
    type: event.type,
    occurredAt: event.occurredAt,
    GSI1PK: `${PENDING}#${shardOf(event.id)}`,
    GSI1SK: sort,
    GSI2PK: `${dayKey(Date.parse(event.occurredAt))}#${shardOf(event.id)}`,
    GSI2SK: sort,
    expiresAt,
  };
}

function eventOf(item: Item): DomainEvent {
  return JSON.parse(item.event as string) as DomainEvent;
}

const startOfDay = (date: Date): number => Math.floor(date.getTime() / DAY_MS) * DAY_MS;
const dayKey = (ms: number): string => `DAY#${new Date(ms).toISOString().slice(0, 10)}`;
