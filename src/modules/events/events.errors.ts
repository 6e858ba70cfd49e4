import { type AppError, conflict, notFound, unavailable } from '../../platform/errors.js';

/** Stable codes for everything the events module answers with besides success. */
export const EventsErrors = {
  eventNotFound: (eventId: string) =>
    notFound('EVENTS.EVENT_NOT_FOUND', `Event ${eventId} does not exist.`),
  eventExists: (eventId: string) =>
    conflict('EVENTS.EVENT_EXISTS', `Event ${eventId} already exists.`),
  eventBeingDeleted: (eventId: string) =>
    conflict(
      'EVENTS.EVENT_BEING_DELETED',
      `Event ${eventId} is still being deleted; its id can be used again once that has finished.`,
    ),
  userNotFound: (userId: string) =>
    notFound('EVENTS.USER_NOT_FOUND', `User ${userId} does not exist.`),
  userExists: (userId: string) => conflict('EVENTS.USER_EXISTS', `User ${userId} already exists.`),
  registrationNotFound: (eventId: string, userId: string) =>
    notFound(
      'EVENTS.REGISTRATION_NOT_FOUND',
      `User ${userId} is not registered for event ${eventId}.`,
    ),
  alreadyRegistered: (eventId: string, userId: string) =>
    conflict(
      'EVENTS.ALREADY_REGISTERED',
      `User ${userId} is already registered for event ${eventId}.`,
    ),
  eventFull: (eventId: string) =>
    conflict('EVENTS.EVENT_FULL', `Event ${eventId} is full and has no waitlist.`),
  eventClosed: (eventId: string, status: string) =>
    conflict('EVENTS.EVENT_CLOSED', `Event ${eventId} is ${status} and takes no registrations.`),
  capacityBelowRegistered: (eventId: string, capacity: number, registered: number) =>
    conflict(
      'EVENTS.CAPACITY_BELOW_REGISTERED',
      `Event ${eventId} has ${registered} confirmed registrations; capacity ${capacity} is too low.`,
    ),
  calendarFeedNotFound: () =>
    notFound(
      'EVENTS.CALENDAR_FEED_NOT_FOUND',
      'No calendar feed at this link: it was altered, has expired or was signed with another secret. Ask for a new one (POST /calendar/feed-link).',
    ),
  busy: (cause?: unknown) =>
    unavailable(
      'EVENTS.BUSY',
      'Too many concurrent changes to this event; retry after the indicated delay.',
      1,
      cause,
    ),
} satisfies Record<string, (...args: never[]) => AppError>;
