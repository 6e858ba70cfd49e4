import type { Page, PageRequest } from '../../platform/page.js';
import { EventsErrors } from './events.errors.js';
import type { EventChanges, EventRepository, UnregisterResult } from './events.repository.js';
import type {
  CreateEventInput,
  CreateUserInput,
  Event,
  EventStatus,
  Registration,
  UpdateEventInput,
  User,
  UserRegistration,
} from './events.schemas.js';

export interface EventsServiceDeps {
  readonly repository: EventRepository;
  /** Time-ordered unique ids (UUIDv7). */
  readonly newId: () => string;
  readonly now: () => Date;
}

export class EventsService {
  constructor(private readonly deps: EventsServiceDeps) {}

  async createEvent(input: CreateEventInput): Promise<Event> {
    const now = this.deps.now().toISOString();
    const event: Event = {
      eventId: input.eventId ?? this.deps.newId(),
      title: input.title,
      description: input.description,
      date: input.date,
      location: input.location,
      capacity: input.capacity,
      organizer: input.organizer,
      status: input.status ?? 'active',
      hasWaitlist: input.hasWaitlist ?? input.waitlistEnabled ?? false,
      registeredCount: 0,
      waitlistCount: 0,
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.repository.createEvent(event);
    return event;
  }

  async getEvent(eventId: string): Promise<Event> {
    const event = await this.deps.repository.getEvent(eventId);
    if (!event) throw EventsErrors.eventNotFound(eventId);
    return event;
  }

  listEvents(status: EventStatus | undefined, page: PageRequest): Promise<Page<Event>> {
    return this.deps.repository.listEvents({ status }, page);
  }

  updateEvent(eventId: string, input: UpdateEventInput): Promise<Event> {
    const { waitlistEnabled, hasWaitlist, ...rest } = input;
    const changes: EventChanges = { ...rest };
    const waitlist = hasWaitlist ?? waitlistEnabled;
    if (waitlist !== undefined) changes.hasWaitlist = waitlist;
    return this.deps.repository.updateEvent(eventId, changes, this.deps.now().toISOString());
  }

  deleteEvent(eventId: string): Promise<number> {
    return this.deps.repository.deleteEvent(eventId);
  }

  async createUser(input: CreateUserInput): Promise<User> {
    const user: User = {
      userId: input.userId ?? this.deps.newId(),
      name: input.name,
      createdAt: this.deps.now().toISOString(),
    };
    await this.deps.repository.createUser(user);
    return user;
  }

  async getUser(userId: string): Promise<User> {
    const user = await this.deps.repository.getUser(userId);
    if (!user) throw EventsErrors.userNotFound(userId);
    return user;
  }

  listUsers(page: PageRequest): Promise<Page<User>> {
    return this.deps.repository.listUsers(page);
  }

  /** Registers a user: confirmed, waitlisted or refused, by the rules the repository enforces. */
  register(eventId: string, userId: string): Promise<Registration> {
    return this.deps.repository.register({
      eventId,
      userId,
      registrationId: this.deps.newId(),
      registeredAt: this.deps.now().toISOString(),
    });
  }

  unregister(eventId: string, userId: string): Promise<UnregisterResult> {
    return this.deps.repository.unregister(eventId, userId, this.deps.now().toISOString());
  }

  eventRegistrations(eventId: string, page: PageRequest): Promise<Page<Registration>> {
    return this.deps.repository.listEventRegistrations(eventId, page);
  }

  userRegistrations(userId: string, page: PageRequest): Promise<Page<UserRegistration>> {
    return this.deps.repository.listUserRegistrations(userId, page);
  }
}
