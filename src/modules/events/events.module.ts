import { z } from 'zod';
import { defineModule, isStartupRun } from '../../platform/module.js';
import { scheduleSetting } from '../../platform/schedule.js';
import { DynamoEventRepository, eventsTable } from './events.dynamo.js';
import { eventRoutes, registrationRoutes, userRoutes } from './events.routes.js';
import { EventsService } from './events.service.js';

export { eventsTable };

const settings = z.object({
  /** How often to finish event deletions a crash or a timeout interrupted (`off` to stop). */
  deletionSweep: scheduleSetting('rate(1 hour)'),
  /** How often to give back waitlist tickets interrupted joins never used (`off` to stop). */
  ticketSweep: scheduleSetting('rate(1 hour)'),
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
      metrics: context.metrics,
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
    {
      name: 'release-unused-tickets',
      description:
        'Gives back waitlist tickets that joins interrupted by a crash took and never used.',
      // At local start-up nothing is in flight yet; run any other way (on its schedule, here or
      // on AWS), it leaves alone events that issued a ticket in the last five minutes.
      startup: true,
      schedule: (s) => s.ticketSweep,
      run: ({ events }, input) =>
        events.releaseUnusedTickets({
          all: isStartupRun(input),
        }),
    },
  ],
});
