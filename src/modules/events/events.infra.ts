import type { ModuleAccess } from '../../../infra/access.js';
import type { ModuleInfra } from '../../../infra/module-infra.js';
import { outboxTable } from '../../platform/outbox/outbox.js';
import { eventsKeys } from './events.dynamo.js';
import { eventsTable } from './events.module.js';

/**
 * What each events function does on its table (the stack grants exactly this):
 * - the API: events, users and registrations — reads, conditional writes, the registration
 *   transactions (update, put, user check), deletions (registrations in batches), the three
 *   indexes (by status, collections, the waitlist order); and the domain event each change
 *   announces, put in the change's own transaction into the platform's outbox;
 * - the deletion sweep: finds events marked deleting (by-status index), removes their
 *   registrations (a query on the event's partition, batch deletes), then the event — nothing
 *   to announce: the DELETE that marked the event announced it;
 * - the ticket sweep: lists events (collections index), reads each one's waitlist (waitlist
 *   order index) and records tickets nobody holds, then folds them (conditional updates of the
 *   event).
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
      ],
    },
    { table: outboxTable, actions: ['PutItem'] },
  ],
  'finish-deletions': [
    {
      table: eventsTable,
      actions: ['Query', 'BatchWriteItem', 'DeleteItem'],
      indexes: [eventsKeys.byStatusIndex],
    },
  ],
  'release-unused-tickets': [
    {
      table: eventsTable,
      actions: ['Query', 'UpdateItem'],
      indexes: [eventsKeys.collectionsIndex, eventsKeys.registrationsIndex],
    },
  ],
};

/** The events module needs nothing on AWS beyond its table, task Lambda and schedule. */
export const infra: ModuleInfra = () => {};
