import {
  AppError,
  conflict,
  gone,
  notFound,
  unavailable,
  validationFailed,
} from '../../platform/errors.js';

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
  capacityBelowRegistered: (eventId: string, capacity: number, registered: number, offered = 0) =>
    conflict(
      'EVENTS.CAPACITY_BELOW_REGISTERED',
      offered > 0
        ? `Event ${eventId} has ${registered} confirmed registrations and ${offered} seats held by offers; capacity ${capacity} is too low.`
        : `Event ${eventId} has ${registered} confirmed registrations; capacity ${capacity} is too low.`,
    ),
  shardingOff: (shards: number) =>
    validationFailed(
      [
        {
          path: 'body.shards',
          message: `must be 1 while EVENTS_SHARDING is off (got ${shards})`,
        },
      ],
      'Sharding is off in this deployment: events are created with shards: 1.',
    ),
  shardsFixed: (eventId: string, shards: number, asked: number) =>
    conflict(
      'EVENTS.SHARDS_FIXED',
      `Event ${eventId} has ${shards} shard${shards === 1 ? '' : 's'}, fixed when it was created; it can't be changed to ${asked}.`,
    ),
  noTicket: (eventId: string, userId: string, status: string) =>
    conflict(
      'EVENTS.NO_TICKET',
      `User ${userId} has no ticket for event ${eventId}: tickets are for confirmed registrations (theirs is ${status}).`,
    ),
  notCheckedIn: (eventId: string, registrationId: string) =>
    conflict(
      'EVENTS.NOT_CHECKED_IN',
      `Registration ${registrationId} of event ${eventId} is not checked in: there is no admission to revert.`,
    ),
  offerNotFound: () =>
    notFound(
      'EVENTS.OFFER_NOT_FOUND',
      'No offer at this link: it was altered, or the offer is gone with its event.',
    ),
  notOffered: (eventId: string, userId: string, status: string) =>
    conflict(
      'EVENTS.NOT_OFFERED',
      `User ${userId} holds no offer for event ${eventId} (their registration is ${status}).`,
    ),
  offerExpired: (expiredAt: string) =>
    gone('EVENTS.OFFER_EXPIRED', `This offer expired at ${expiredAt}; the seat has passed on.`),
  offerDeclined: () =>
    conflict('EVENTS.OFFER_DECLINED', 'This offer was declined; the seat has passed on.'),
  offerAccepted: () =>
    conflict('EVENTS.OFFER_ACCEPTED', 'This offer was accepted: the seat is confirmed.'),
  calendarFeedNotFound: () =>
    notFound(
      'EVENTS.CALENDAR_FEED_NOT_FOUND',
      'No calendar feed at this link: it was altered, has expired, was revoked or was signed with another secret. Ask for a new one (POST /calendar/feed-link).',
    ),
  calendarFeedLinkNotFound: (linkId: string) =>
    notFound(
      'EVENTS.CALENDAR_FEED_LINK_NOT_FOUND',
      `No calendar feed link was issued with the id ${linkId}.`,
    ),
  queueOff: (eventId: string) =>
    conflict(
      'EVENTS.QUEUE_OFF',
      `Event ${eventId} has no waiting room switched on: register directly (POST /events/${eventId}/registrations).`,
    ),
  notInQueue: (eventId: string, userId: string) =>
    notFound(
      'EVENTS.NOT_IN_QUEUE',
      `User ${userId} has no place in the queue of event ${eventId}.`,
    ),
  admissionRequired: (eventId: string) =>
    new AppError('forbidden', 'EVENTS.ADMISSION_REQUIRED', 'Forbidden', {
      detail: `Event ${eventId} admits registrations through its queue: send the Admission-Token the queue gave this user (GET /events/${eventId}/queue/{userId}) once admitted.`,
    }),
  admissionExpired: (eventId: string) =>
    new AppError('forbidden', 'EVENTS.ADMISSION_EXPIRED', 'Forbidden', {
      detail: `This admission token for event ${eventId} has expired: ask the queue for a new one (GET /events/${eventId}/queue/{userId}).`,
    }),
  busy: (cause?: unknown) =>
    unavailable(
      'EVENTS.BUSY',
      'Too many concurrent changes to this event; retry after the indicated delay.',
      1,
      cause,
    ),
} satisfies Record<string, (...args: never[]) => AppError>;
