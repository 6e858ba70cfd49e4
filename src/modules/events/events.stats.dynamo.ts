import { x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item } from '../../platform/dynamo/table.js';
import { eventsKeys } from './events.dynamo.js';
import { type EventShards, registrationPartitions } from './events.shards.readers.dynamo.js';
import type { RegistrationTimes } from './events.stats.model.js';
import type { RegistrationTimeline } from './events.stats.repository.js';

/** The fields the timeline reads: a page holds up to 1 MB of rows, whatever they carry. */
const TIME_FIELDS = [
  'status',
  'registeredAt',
  'promotedAt',
  'offeredAt',
  'offerExpiresAt',
  'declinedAt',
] as const;

/**
 * An event's registration rows through its registrations index (lsi1: those rows only), a sharded
 * event's shard after shard (the tally ignores order).
 */
export class DynamoRegistrationTimeline implements RegistrationTimeline {
  constructor(private readonly table: DynamoTable) {}

  async *registrationTimes(event: EventShards): AsyncGenerator<RegistrationTimes[]> {
    for (const partition of registrationPartitions(event)) {
      for await (const items of this.table.queryPages({
        index: eventsKeys.registrationsIndex,
        key: x`PK = ${partition}`,
        attributes: TIME_FIELDS,
      })) {
        yield items.map(toTimes);
      }
    }
  }
}

function toTimes(item: Item): RegistrationTimes {
  return {
    status: item.status,
    registeredAt: item.registeredAt,
    ...(item.promotedAt ? { promotedAt: item.promotedAt } : {}),
    ...(item.offeredAt ? { offeredAt: item.offeredAt } : {}),
    ...(item.offerExpiresAt ? { offerExpiresAt: item.offerExpiresAt } : {}),
    ...(item.declinedAt ? { declinedAt: item.declinedAt } : {}),
  };
}
