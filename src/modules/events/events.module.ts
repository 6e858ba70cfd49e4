import { z } from 'zod';
import { S, type TableDefinition } from '../../platform/dynamo/tables.js';
import { defineModule } from '../../platform/module.js';
import { DynamoEventRepository } from './events.dynamo.js';
import { eventRoutes, registrationRoutes, userRoutes } from './events.routes.js';
import { EventsService } from './events.service.js';

/**
 * events: single-table design for events, users and registrations (keys in events.dynamo.ts).
 * - gsi1  events by status           GSI1PK=STATUS#<status> | DELETING   GSI1SK=<createdAt>#<eventId>
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
  ],
  localIndexes: [{ indexName: 'lsi1', sortKey: S('LSI1SK') }],
} as const satisfies TableDefinition;

const settings = z.object({
  /** How often to finish event deletions a crash or a timeout interrupted (off: empty). */
  deletionSweep: z
    .string()
    .regex(/^rate\(\d+ (second|minute|hour|day)s?\)$/, 'must be an EventBridge rate expression')
    .optional()
    .default('rate(1 hour)'),
});

/** Events, users and registrations with capacity, FIFO waitlist and promotion (seeds 003, 004). */
export const eventsModule = defineModule({
  name: 'events',
  tables: [eventsTable],
  settings,
  services: (context) => ({
    events: new EventsService({
      repository: new DynamoEventRepository(context.table(eventsTable)),
      newId: context.newId,
      clock: context.clock,
    }),
  }),
  routes: ({ events }) => [eventRoutes(events), userRoutes(events), registrationRoutes(events)],
  tags: [
    {
      name: 'events',
      description: 'Events, users and registrations with capacity, FIFO waitlist and promotion',
    },
  ],
  tasks: [
    {
      name: 'finish-deletions',
      description: 'Completes event deletions that a crash or a timeout interrupted.',
      startup: true,
      schedule: (s) => s.deletionSweep,
      run: ({ events }) => events.finishDeletions(),
    },
  ],
});
