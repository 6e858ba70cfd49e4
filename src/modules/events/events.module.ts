import { z } from 'zod';
import { defineModule, isStartupRun } from '../../platform/module.js';
import { scheduleSetting } from '../../platform/schedule.js';
import { DynamoEventRepository, eventsTable } from './events.dynamo.js';
import { DynamoRegistrationRepository } from './events.registrations.dynamo.js';
import { registrationRoutes } from './events.registrations.routes.js';
import { RegistrationsService } from './events.registrations.service.js';
import { eventRoutes } from './events.routes.js';
import { EventsService } from './events.service.js';
import { DynamoUserRepository } from './events.users.dynamo.js';
import { userRoutes } from './events.users.routes.js';
import { UsersService } from './events.users.service.js';

export { eventsTable };

const settings = z.object({
  /** How often to finish event deletions a crash or a timeout interrupted (`off` to stop). */
  deletionSweep: scheduleSetting('rate(1 hour)'),
  /** How often to give back waitlist tickets interrupted joins never used (`off` to stop). */
  ticketSweep: scheduleSetting('rate(1 hour)'),
});

/** Events, users and registrations with capacity, FIFO waitlist and promotion */
export const eventsModule = defineModule({
  name: 'events',
  tables: [eventsTable],
  settings,
  services: (context) => {
    const table = context.table(eventsTable);
    const events = new DynamoEventRepository(table);
    const users = new DynamoUserRepository(table);
    const { newId, clock, metrics } = context;
    const registrations = new RegistrationsService({
      repository: new DynamoRegistrationRepository(table),
      events,
      users,
      newId,
      clock,
      metrics,
    });
    return {
      events: new EventsService({ repository: events, waitlist: registrations, newId, clock }),
      registrations,
      users: new UsersService({ repository: users, newId, clock }),
    };
  },
  routes: ({ events, registrations, users }) => [
    eventRoutes(events),
    userRoutes(users, registrations),
    registrationRoutes(registrations),
  ],
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
      run: ({ registrations }, input) =>
        registrations.releaseUnusedTickets({
          all: isStartupRun(input),
        }),
    },
  ],
});
