import type { Page, PageRequest } from '../../platform/page.js';
import type { Event, EventStatus, Registration, User, UserRegistration } from './events.schemas.js';

export interface EventChanges {
  title?: string;
  description?: string;
  date?: string;
  location?: string;
  capacity?: number;
  organizer?: string;
  status?: EventStatus;
  hasWaitlist?: boolean;
}

export interface NewRegistration {
  readonly eventId: string;
  readonly userId: string;
  /** Time-ordered (UUIDv7): the waitlist is ordered by it. */
  readonly registrationId: string;
  readonly registeredAt: string;
}

export interface UnregisterResult {
  readonly removed: Registration;
  /** Registrations confirmed in the same atomic step. */
  readonly promoted: Registration[];
}

/**
 * The events port. Every method that touches more than one item keeps the registration rules
 * (SPEC, events 1–6) by itself, atomically, whatever runs concurrently: callers add no locking.
 * Methods throw `EventsErrors` (AppError) for the outcomes a client must see.
 */
export interface EventRepository {
  /** Throws eventExists when the id is taken. */
  createEvent(event: Event): Promise<void>;
  getEvent(eventId: string): Promise<Event | undefined>;
  listEvents(filter: { status?: EventStatus | undefined }, page: PageRequest): Promise<Page<Event>>;
  /**
   * Applies a partial change. Lowering capacity below the confirmed count is a conflict; raising
   * it promotes the head of the waitlist in the same transaction.
   */
  updateEvent(eventId: string, changes: EventChanges, now: string): Promise<Event>;
  /** Deletes the event, then its registrations; returns how many registrations went with it. */
  deleteEvent(eventId: string): Promise<number>;

  createUser(user: User): Promise<void>;
  getUser(userId: string): Promise<User | undefined>;
  listUsers(page: PageRequest): Promise<Page<User>>;

  /** Confirms when a seat is free, waitlists when full with a waitlist, else conflict. */
  register(registration: NewRegistration): Promise<Registration>;
  /** Removes a registration; a freed seat goes to the head of the waitlist atomically. */
  unregister(eventId: string, userId: string, now: string): Promise<UnregisterResult>;
  /** Confirmed in join order, then waitlisted by position. Throws eventNotFound. */
  listEventRegistrations(eventId: string, page: PageRequest): Promise<Page<Registration>>;
  /** Newest first, each with its event. Throws userNotFound. */
  listUserRegistrations(userId: string, page: PageRequest): Promise<Page<UserRegistration>>;
}
