import type { ModuleAccess } from '../../../infra/access.js';
import type { ModuleInfra } from '../../../infra/module-infra.js';
import { outboxTable } from '../../platform/outbox/outbox.js';
import { eventsKeys } from './events.dynamo.js';
import { eventsTable } from './events.module.js';

/**
 * What each events function does on its table (the stack grants exactly this):
 * - the API: events, users and registrations — reads, conditional writes, the registration
 *   transactions (update, put, user check; a sharded event's shard counter, row and the user's
 *   guard), deletions (registrations in batches), the four
 *   indexes (by status, collections, the waitlist order — also read for an event's stats —,
 *   tickets); an event's waiting room (its queue config, put in the event's create or change
 *   transaction; the position counters' updates; the users' places); and the domain event each
 *   change announces, put in the change's own transaction into the platform's outbox;
 * - the deletion sweep: finds events marked deleting (by-status index), removes their
 *   registrations (a query on each of the event's partitions, batch deletes: a sharded row's
 *   guard, in its user's partition, before the row), its queue's config and counters (batch
 *   deletes), then the event — nothing
 *   to announce: the DELETE that marked the event announced it;
 * - the ticket sweep: lists events (collections index; a sharded event summed from its counters
 *   and waitlist item in a batch read), reads each one's waitlist (waitlist order index; a
 *   sharded event's blocks in a batch read and its waitlist item) and records tickets nobody
 *   holds, then folds them (conditional updates of the event; a sharded event's in a transaction
 *   that checks every block as read).
 * - the ticket index's backfill (a migration): lists events (collections index), finds their
 *   confirmed registrations not in the ticket index (waitlist order index) and indexes them;
 * - the offer functions (the timer's consumer, the offer sweep, the seat sweep): read an offer's
 *   registration and event, end it and offer its seat to the next (the registration, the token
 *   lookup and the event in one transaction, and its domain events), fold the waitlist; the
 *   offer sweep finds due offers in the expiry index (by-status index, OFFERS#n keys), the seat
 *   sweep lists events (collections index); on a sharded event, reads it summed (a batch read),
 *   promotes or offers across its shards, lapses offers read from every shard's partition (the
 *   user's guard marked ended in the same transaction) and clears its sold-out latch (a
 *   transaction on every counter, under a lease on the waitlist item).
 */
export const access: ModuleAccess = {
  api: [
    {
      table: eventsTable,
      actions: [
        'GetItem',
        'BatchGetItem',
        'Query',
        'PutItem',
        'UpdateItem',
        'DeleteItem',
        'BatchWriteItem',
        'ConditionCheckItem',
      ],
      indexes: [
        eventsKeys.byStatusIndex,
        eventsKeys.collectionsIndex,
        eventsKeys.registrationsIndex,
        eventsKeys.ticketsIndex,
      ],
    },
    { table: outboxTable, actions: ['PutItem'] },
  ],
  'backfill-ticket-index': [
    {
      table: eventsTable,
      actions: ['Query', 'UpdateItem'],
      indexes: [eventsKeys.collectionsIndex, eventsKeys.registrationsIndex],
    },
  ],
  'finish-deletions': [
    {
      table: eventsTable,
      // GetItem: the marked event's shard count (a sharded event's partitions go first).
      actions: ['GetItem', 'Query', 'BatchWriteItem', 'DeleteItem'],
      indexes: [eventsKeys.byStatusIndex],
    },
  ],
  'expire-offers': offerWork([]),
  'sweep-offers': offerWork([eventsKeys.byStatusIndex]),
  'fill-free-seats': offerWork([eventsKeys.collectionsIndex]),
  'release-unused-tickets': [
    {
      table: eventsTable,
      actions: ['GetItem', 'BatchGetItem', 'Query', 'UpdateItem', 'ConditionCheckItem'],
      indexes: [eventsKeys.collectionsIndex, eventsKeys.registrationsIndex],
    },
  ],
};

/**
 * What passing a seat on takes (a lapse, then the offer or promotion of the next), plus the index
 * the function finds its work in.
 */
function offerWork(finding: readonly string[]): ModuleAccess[string] {
  return [
    {
      table: eventsTable,
      actions: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'ConditionCheckItem'],
      indexes: [eventsKeys.registrationsIndex, ...finding],
    },
    { table: outboxTable, actions: ['PutItem'] },
  ];
}

/** The events module needs nothing on AWS beyond its table, task Lambda and schedule. */
export const infra: ModuleInfra = () => {};
