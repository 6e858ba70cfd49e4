import { S, type TableDefinition } from '../../platform/dynamo/tables.js';
import type { QueueDefinition } from '../../platform/queue/queue.js';

/**
 * The events table (declared by events.module.ts, used by its code; the CDK stack, the local runtime and the tests
 * build it from this object).
 * - gsi1  events by status           GSI1PK=STATUS#<status> | DELETING   GSI1SK=<createdAt>#<eventId>
 *         offers by deadline         GSI1PK=OFFERS#<0-7>    GSI1SK=<offerExpiresAt>#<eventId>#<userId>
 * - gsi3  an event's tickets         GSI3PK=TICKETS#<eventId>  GSI3SK=<confirmedAt>#<registrationId>
 *         (confirmed registration rows, and revocations <revokedAt>#<registrationId>: what a door
 *         device syncs, in the order it changed)
 * - gsi2  collections                GSI2PK=EVENTS | USERS | USER#<userId>#REGS, GSI2SK=<createdAt>#<id>
 * - lsi1  an event's registrations   LSI1SK=C#<registrationId> | W#<ticket>
 *         (an LSI, not a GSI, because promotion needs a strongly consistent read of the head
 *         of the waitlist)
 */
export const eventsTable = {
  id: 'events',
  partitionKey: S('PK'),
  sortKey: S('SK'),
  globalIndexes: [
    { indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') },
    { indexName: 'gsi2', partitionKey: S('GSI2PK'), sortKey: S('GSI2SK') },
    { indexName: 'gsi3', partitionKey: S('GSI3PK'), sortKey: S('GSI3SK') },
  ],
  localIndexes: [{ indexName: 'lsi1', sortKey: S('LSI1SK') }],
  /** Offer token lookups outlive their offer by a while (a late click answers precisely), then go. */
  timeToLiveAttribute: 'purgeAt',
} as const satisfies TableDefinition;

/** Offer deadlines: each offer's timer delivers here when it is due (`expire-offers`). */
export const offerExpiriesQueue: QueueDefinition = {
  id: 'offer-expiries',
  maxReceiveCount: 5,
  consumerTimeoutSeconds: 30,
  batchSize: 10,
  timerTarget: true,
};
