import {
  type Event,
  type EventChanges,
  eventBody,
  type Registration,
  registrationBody,
} from './events.model.js';

type EventResponse = ReturnType<typeof eventBody>;
type RegistrationResponse = ReturnType<typeof registrationBody>;

/*
 * What each change of the module announces (its domain events, platform/outbox): the type, the
 * resource that changed with its version after the change (the event's `sequence`), and the
 * resource as the API answers it. Pure: the services stamp these into DomainEvents and the
 * adapters commit each one in the transaction of its change.
 */

export type EventChange = 'event.created' | 'event.updated' | 'event.cancelled' | 'event.deleted';

export type RegistrationChange =
  | 'registration.confirmed'
  | 'registration.waitlisted'
  | 'registration.promoted'
  | 'registration.cancelled'
  | 'registration.offered'
  | 'registration.offer_expired'
  | 'registration.offer_declined';

export interface Announcement<Data = EventResponse | RegistrationResponse> {
  readonly type: EventChange | RegistrationChange;
  readonly aggregate: {
    readonly type: 'event' | 'registration';
    readonly id: string;
    readonly sequence: number;
  };
  readonly data: Data;
}

/**
 * A change of an event: `event` as it is once changed, whose version is the change's. A deletion
 * announces the event as it was: `event` before it, and the version the deletion moves it to.
 */
export function eventAnnouncement(
  type: EventChange,
  event: Event,
  sequence: number = event.version,
): Announcement<EventResponse> {
  return {
    type,
    aggregate: { type: 'event', id: event.eventId, sequence },
    data: eventBody(event),
  };
}

/**
 * A change of a registration, as `eventAnnouncement`; `position` is its place in the waitlist
 * (waitlisted only), as the API tells it.
 */
export function registrationAnnouncement(
  type: RegistrationChange,
  registration: Registration,
  { position, sequence = registration.version }: { position?: number; sequence?: number } = {},
): Announcement<RegistrationResponse> {
  return {
    type,
    aggregate: { type: 'registration', id: registration.registrationId, sequence },
    data: registrationBody(registration, position),
  };
}

/** A registration removed: as it was (its status, and its place if it waited), one version on. */
export function cancellation(
  registration: Registration,
  position: number | undefined,
): Announcement<RegistrationResponse> {
  return registrationAnnouncement('registration.cancelled', registration, {
    position,
    sequence: registration.version + 1,
  });
}

/** An update announces the status becoming cancelled as such, and any other change as one. */
export function updateAnnounced(
  current: Event,
  changes: EventChanges,
): 'event.updated' | 'event.cancelled' {
  return changes.status === 'cancelled' && current.status !== 'cancelled'
    ? 'event.cancelled'
    : 'event.updated';
}
