import type { ModuleContext } from '../../platform/module.js';
import { gatedSecrets } from '../../platform/secrets.js';
import { signingKeys } from '../../platform/signing.js';
import { timersOf } from '../../platform/timers/timers.js';
import { DynamoFeedLinkRepository } from './events.calendar.dynamo.js';
import { calendarRoutes } from './events.calendar.routes.js';
import { CalendarService } from './events.calendar.service.js';
import { DynamoCheckinRepository } from './events.checkins.dynamo.js';
import { checkinEventSchemas, checkinRoutes } from './events.checkins.routes.js';
import { CheckinsService } from './events.checkins.service.js';
import { DynamoEventRepository } from './events.dynamo.js';
import { DynamoOfferRepository } from './events.offers.dynamo.js';
import { offerRoutes } from './events.offers.routes.js';
import { offerToken } from './events.offers.rules.js';
import { OffersService } from './events.offers.service.js';
import { DynamoQueueRepository } from './events.queue.dynamo.js';
import { queueRoutes } from './events.queue.routes.js';
import { QueueService } from './events.queue.service.js';
import { DynamoRegistrationRepository } from './events.registrations.dynamo.js';
import { registrationRoutes } from './events.registrations.routes.js';
import { RegistrationsService } from './events.registrations.service.js';
import { eventsTable, offerExpiriesQueue } from './events.resources.js';
import { eventRoutes, eventsEventSchemas } from './events.routes.js';
import { EventsService } from './events.service.js';
import { DynamoRegistrationTimeline } from './events.stats.dynamo.js';
import { eventStatsRoutes } from './events.stats.routes.js';
import { EventStatsService } from './events.stats.service.js';
import { DynamoUserRepository } from './events.users.dynamo.js';
import { userRoutes } from './events.users.routes.js';
import { UsersService } from './events.users.service.js';

/**
 * The events module's code, behind its definition's `load` (events.module.ts): the API Lambda
 * loads it on the first request to one of the module's routes.
 */

/** The settings the services read (events.module.ts parses them). */
interface Settings {
  readonly sharding: boolean;
  readonly ticketBlockMs: number;
  readonly ticketKeyVersion: number;
  readonly ticketKeysRetiredBelow: number;
}

export function services(context: ModuleContext<Settings>) {
  const table = context.table(eventsTable);
  const { newId, clock, metrics, outbox } = context;
  // An offer's token is signed while its registration row is mapped, which can't wait for the
  // master secret: the services that read registrations wait for the keys before they run.
  const keys = gatedSecrets(context.secrets);
  const tokenOf = (offerId: string) => offerToken(keys.secrets.key('waitlist-offers'), offerId);
  const timers = timersOf(context.ports.timers, offerExpiriesQueue);
  const events = new DynamoEventRepository(table, outbox);
  const users = new DynamoUserRepository(table);
  const offerRepository = new DynamoOfferRepository(table, outbox, tokenOf);
  const { ticketBlockMs } = context.settings;
  const registrationRepository = new DynamoRegistrationRepository(
    table,
    outbox,
    tokenOf,
    ticketBlockMs,
  );
  const queueRepository = new DynamoQueueRepository(table);
  const registrations = keys.gate(
    new RegistrationsService({
      repository: registrationRepository,
      events,
      users,
      newId,
      clock,
      metrics,
      outbox,
      offers: offerRepository,
      tokenOf,
      timers,
      ticketBlockMs,
    }),
  );
  const offers = keys.gate(
    new OffersService({
      offers: offerRepository,
      events,
      registrations,
      get offerKey() {
        return keys.secrets.key('waitlist-offers');
      },
      clock,
      outbox,
      metrics,
      timers,
    }),
  );
  return {
    events: new EventsService({
      repository: events,
      waitlist: registrations,
      newId,
      clock,
      outbox,
      sharding: context.settings.sharding,
      queue: queueRepository,
    }),
    registrations,
    offers,
    // Signs and checks admission tokens synchronously, so it waits for the keys like the others.
    queue: keys.gate(
      new QueueService({
        queue: queueRepository,
        events,
        users,
        get admissionKey() {
          return keys.secrets.key('admission-tokens');
        },
        clock,
      }),
    ),
    checkins: keys.gate(
      new CheckinsService({
        repository: new DynamoCheckinRepository(table, outbox),
        events,
        registrations: registrationRepository,
        users,
        keys: signingKeys(keys.secrets, {
          purpose: 'tickets',
          current: context.settings.ticketKeyVersion,
          retiredBelow: context.settings.ticketKeysRetiredBelow,
        }),
        clock,
        outbox,
        metrics,
      }),
    ),
    /** Every event, page by page (for the seat sweep). */
    allEvents: () => events.allEvents(),
    users: new UsersService({ repository: users, newId, clock }),
    stats: new EventStatsService({ events, timeline: new DynamoRegistrationTimeline(table) }),
    calendar: new CalendarService({
      repository: events,
      links: new DynamoFeedLinkRepository(table),
      feedKey: async () => (await context.secrets()).key('calendar-feed'),
      clock,
    }),
  };
}

/** In the route table's order (events.module.ts). */
export const routers = ({
  events,
  registrations,
  users,
  calendar,
  offers,
  checkins,
  stats,
  queue,
}: ReturnType<typeof services>) => [
  // First: its `/events/{eventId}.ics` must be matched before `/events/{eventId}`.
  calendarRoutes(calendar),
  eventRoutes(events),
  userRoutes(users, registrations),
  registrationRoutes(registrations, queue),
  queueRoutes(queue),
  offerRoutes(offers),
  checkinRoutes(checkins),
  eventStatsRoutes(stats),
];

export const domainEventSchemas = () => ({ ...eventsEventSchemas(), ...checkinEventSchemas() });
