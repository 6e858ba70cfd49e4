import { name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item, TransactItem } from '../../platform/dynamo/table.js';
import type { Event, EventChanges } from './events.model.js';
import { QUEUE_COUNTERS, type QueueConfig, type QueueEntry } from './events.queue.model.js';
import type { QueueRepository } from './events.queue.repository.js';

/*
 * Key design of the waiting room (docs/decisions/sharded-capacity.md, *Items*):
 *   queue config      PK=QUEUE#<eventId>       SK=CONFIG   the event's admission settings, anchor
 *                                                          and createdAt (written with the event)
 *   position counter  PK=QUEUE#<eventId>#P<k>  SK=COUNTER  next (k = 0–7)
 *   queue entry       PK=USER#<userId>         SK=QUEUE#<eventId>  position, joinedAt,
 *                                                          eventCreatedAt, purgeAt (TTL)
 * No index keys.
 */

export const queueKeys = {
  config: (eventId: string) => ({ PK: `QUEUE#${eventId}`, SK: 'CONFIG' }),
  counter: (eventId: string, k: number) => ({ PK: `QUEUE#${eventId}#P${k}`, SK: 'COUNTER' }),
  entry: (eventId: string, userId: string) => ({ PK: `USER#${userId}`, SK: `QUEUE#${eventId}` }),
} as const;

/** The event's queue config, put in the transaction that creates or changes its admission. */
export function queueConfigPut(table: DynamoTable, event: Event): TransactItem[] {
  const { admission } = event;
  if (!admission) return [];
  return [
    table.put({
      ...queueKeys.config(event.eventId),
      type: 'queue',
      eventId: event.eventId,
      enabled: admission.enabled,
      ratePerSecond: admission.ratePerSecond,
      tokenSeconds: admission.tokenSeconds,
      anchorAt: admission.anchorAt,
      anchorAdmitted: admission.anchorAdmitted,
      eventCreatedAt: event.createdAt,
    }),
  ];
}

/** The config again when a change of `current` sets its admission (nothing otherwise). */
export function queueConfigChange(
  table: DynamoTable,
  current: Event,
  changes: EventChanges,
): TransactItem[] {
  return changes.admission
    ? queueConfigPut(table, { ...current, admission: changes.admission })
    : [];
}

/** Every item of an event's queue but the users' places (which their TTL and incarnation void). */
export function queueItemKeys(eventId: string) {
  return [
    queueKeys.config(eventId),
    ...Array.from({ length: QUEUE_COUNTERS }, (_, k) => queueKeys.counter(eventId, k)),
  ];
}

const toConfig = (item: Item): QueueConfig => ({
  eventId: String(item.eventId),
  enabled: Boolean(item.enabled),
  ratePerSecond: Number(item.ratePerSecond),
  tokenSeconds: Number(item.tokenSeconds),
  anchorAt: Number(item.anchorAt),
  anchorAdmitted: Number(item.anchorAdmitted),
  eventCreatedAt: String(item.eventCreatedAt),
});

const toEntry = (item: Item, userId: string): QueueEntry => ({
  eventId: String(item.eventId),
  userId,
  position: Number(item.position),
  joinedAt: String(item.joinedAt),
  eventCreatedAt: String(item.eventCreatedAt),
});

export class DynamoQueueRepository implements QueueRepository {
  constructor(private readonly table: DynamoTable) {}

  async config(eventId: string): Promise<QueueConfig | undefined> {
    // Eventually consistent: the settings are cached a few seconds anyway.
    const item = await this.table.get(queueKeys.config(eventId), { consistent: false });
    return item ? toConfig(item) : undefined;
  }

  async entry(eventId: string, userId: string): Promise<QueueEntry | undefined> {
    const item = await this.table.get(queueKeys.entry(eventId, userId));
    return item ? toEntry(item, userId) : undefined;
  }

  async counters(eventId: string): Promise<number[]> {
    const items = await this.table.batchGet(
      Array.from({ length: QUEUE_COUNTERS }, (_, k) => queueKeys.counter(eventId, k)),
    );
    const taken = new Map(items.map((item) => [String(item.PK), Number(item.next ?? 0)]));
    return Array.from(
      { length: QUEUE_COUNTERS },
      (_, k) => taken.get(queueKeys.counter(eventId, k).PK) ?? 0,
    );
  }

  async takeNumber(eventId: string, counter: number): Promise<number> {
    const written = await this.table.update(queueKeys.counter(eventId, counter), {
      update: x`ADD ${name('next')} ${1}`,
    });
    if (!written.ok) throw new Error('a position counter refused an unconditional update');
    return Number(written.item.next);
  }

  async putEntry(entry: QueueEntry, purgeAt: number): Promise<QueueEntry> {
    // A place of an earlier event of the same id is replaced; one of this event's stands.
    const written = await this.table.update(queueKeys.entry(entry.eventId, entry.userId), {
      update: x`SET eventId = ${entry.eventId}, ${name('position')} = ${entry.position}, joinedAt = ${entry.joinedAt}, eventCreatedAt = ${entry.eventCreatedAt}, purgeAt = ${purgeAt}`,
      condition: x`attribute_not_exists(PK) OR eventCreatedAt <> ${entry.eventCreatedAt}`,
    });
    if (written.ok) return entry;
    return written.current ? toEntry(written.current, entry.userId) : entry;
  }
}
