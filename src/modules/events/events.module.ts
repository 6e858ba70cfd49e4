import { z } from 'zod';
import { defineModule, isStartupRun } from '../../platform/module.js';
import type { DomainEventType } from '../../platform/outbox/outbox.js';
import { scheduleSetting } from '../../platform/schedule.js';
import { calendarRoutes } from './events.calendar.routes.js';
import { CalendarService } from './events.calendar.service.js';
import { DynamoEventRepository, eventsTable } from './events.dynamo.js';
import { DynamoRegistrationRepository } from './events.registrations.dynamo.js';
import { registrationRoutes } from './events.registrations.routes.js';
import { RegistrationsService } from './events.registrations.service.js';
import { eventRoutes, eventsEventSchemas } from './events.routes.js';
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

/**
 * What the module announces, each with the resource as the API answers it (`aggregate.sequence`
 * is the resource's version after the change). Registrations removed with their event are not
 * announced one by one: `event.deleted` says they went.
 */
const domainEvents: DomainEventType[] = [
  {
    type: 'event.created',
    description: 'An event was created (the event as `GET /events/{eventId}` answers it).',
  },
  {
    type: 'event.updated',
    description:
      'Fields of an event changed, its capacity included (the event right after the change, counters included).',
  },
  {
    type: 'event.cancelled',
    description: "An event's status became `cancelled` (the event right after the change).",
  },
  {
    type: 'event.deleted',
    description:
      'An event was deleted, and its registrations with it (the event as it was when deleted).',
  },
  {
    type: 'registration.confirmed',
    description: 'A registration took a seat (as the registration answer shows it).',
  },
  {
    type: 'registration.waitlisted',
    description: 'A registration joined the waitlist (with the `waitlistPosition` it was told).',
  },
  {
    type: 'registration.promoted',
    description:
      'A waitlisted registration got a seat: one freed by a cancellation, or added by a capacity change (now `confirmed`, with `promotedAt`).',
  },
  {
    type: 'registration.cancelled',
    description:
      'A registration was cancelled, confirmed or waitlisted (as it was, with its status then).',
  },
];

/** Events, users and registrations with capacity, FIFO waitlist and promotion */
export const eventsModule = defineModule({
  name: 'events',
  tables: [eventsTable],
  settings,
  domainEventSchemas: eventsEventSchemas,
  domainEvents,
  services: (context) => {
    const table = context.table(eventsTable);
    const { newId, clock, metrics, outbox } = context;
    const events = new DynamoEventRepository(table, outbox);
    const users = new DynamoUserRepository(table);
    const registrations = new RegistrationsService({
      repository: new DynamoRegistrationRepository(table, outbox),
      events,
      users,
      newId,
      clock,
      metrics,
      outbox,
    });
    return {
      events: new EventsService({
        repository: events,
        waitlist: registrations,
        newId,
        clock,
        outbox,
      }),
      registrations,
      users: new UsersService({ repository: users, newId, clock }),
      calendar: new CalendarService({
        repository: events,
        feedKey: context.secrets.key('calendar-feed'),
        clock,
      }),
    };
  },
  routes: ({ events, registrations, users, calendar }) => [
    // First: its `/events/{eventId}.ics` must be matched before `/events/{eventId}`.
    calendarRoutes(calendar),
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
