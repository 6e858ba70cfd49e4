import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import {
  bodyOf,
  createEventsApp,
  type Event,
  expectProblem,
  getEvent,
  isoTimestamp,
  type Registration,
  summary,
  type User,
  type UserRegistration,
  UUID,
} from './fixtures.js';

/**
 * The events seeds' curl examples (docs/seeds.md), in order, with the host dropped and the API key added (by
 * `app.call`); paths and bodies are as the seeds print them.
 */
const curl = (app: TestApp, method: string, path: string, json?: unknown) =>
  app.call(path, { method, ...(json === undefined ? {} : { json }) });

describe('the "Example Usage" of the events seed (docs/seeds.md)', () => {
  it('runs every curl of the README in order with the documented outcomes', async () => {
    const app = await createEventsApp();

    // Create an event with waitlist
    const techConf = {
      eventId: 'tech-conf-2024',
      title: 'Tech Conference 2024',
      description: 'Annual technology conference',
      date: '2024-12-15',
      location: 'San Francisco, CA',
      capacity: 100,
      organizer: 'Tech Corp',
      status: 'active',
      hasWaitlist: true,
    };
    const created = await bodyOf<Event>(await curl(app, 'POST', '/events', techConf), 201);
    expect(created).toMatchObject({ ...techConf, registeredCount: 0, waitlistCount: 0 });

    // List all events
    expect(await bodyOf<Event[]>(await curl(app, 'GET', '/events'), 200)).toEqual([created]);

    // Get a specific event
    expect(await bodyOf<Event>(await curl(app, 'GET', '/events/tech-conf-2024'), 200)).toEqual(
      created,
    );

    // Create a user
    const user = await bodyOf<User>(
      await curl(app, 'POST', '/users', { userId: 'user-123', name: 'John Doe' }),
      201,
    );
    expect(user).toEqual({ userId: 'user-123', name: 'John Doe', createdAt: isoTimestamp() });

    // Get a user
    expect(await bodyOf<User>(await curl(app, 'GET', '/users/user-123'), 200)).toEqual(user);

    // Register a user for an event (standard endpoint)
    const registration = await bodyOf<Registration>(
      await curl(app, 'POST', '/registrations', { userId: 'user-123', eventId: 'tech-conf-2024' }),
      201,
    );
    expect(registration).toMatchObject({
      userId: 'user-123',
      eventId: 'tech-conf-2024',
      status: 'confirmed',
      registeredAt: isoTimestamp(),
    });

    // Register a user for an event (event-based endpoint): the same user again is refused
    await expectProblem(
      await curl(app, 'POST', '/events/tech-conf-2024/registrations', { userId: 'user-123' }),
      409,
      'EVENTS.ALREADY_REGISTERED',
    );

    // List all registrations for an event
    expect(
      await bodyOf<Registration[]>(
        await curl(app, 'GET', '/events/tech-conf-2024/registrations'),
        200,
      ),
    ).toEqual([registration]);

    // List all registrations for a user
    expect(
      await bodyOf<UserRegistration[]>(
        await curl(app, 'GET', '/users/user-123/registrations'),
        200,
      ),
    ).toEqual([
      { ...registration, event: { ...created, registeredCount: 1, updatedAt: isoTimestamp() } },
    ]);

    // Unregister a user from an event
    expect(
      await bodyOf(await curl(app, 'DELETE', '/events/tech-conf-2024/registrations/user-123'), 200),
    ).toMatchObject({ eventId: 'tech-conf-2024', userId: 'user-123', promoted: [] });
    expect(await getEvent(app, 'tech-conf-2024')).toMatchObject({ registeredCount: 0 });
    expect(await bodyOf(await curl(app, 'GET', '/users/user-123/registrations'), 200)).toEqual([]);
  });
});

describe('the "Usage Examples" of the registrations seed (docs/seeds.md)', () => {
  it('runs every curl of the README in order with the documented outcomes', async () => {
    const app = await createEventsApp();

    // Create an Event (Auto-generated ID)
    const workshopBody = {
      title: 'AWS Workshop',
      description: 'Learn about AWS services and best practices',
      date: '2025-12-15',
      location: 'Seattle, WA',
      capacity: 50,
      organizer: 'AWS Team',
      status: 'active',
    };
    const workshop = await bodyOf<Event>(await curl(app, 'POST', '/events', workshopBody), 201);
    expect(workshop).toMatchObject({ ...workshopBody, eventId: expect.stringMatching(UUID) });

    // Create an Event (Custom ID)
    const customBody = {
      eventId: 'my-custom-event-123',
      title: 'Custom Event',
      description: 'Event with custom ID',
      date: '2025-12-20',
      location: 'Online',
      capacity: 100,
      organizer: 'Event Team',
      status: 'active',
    };
    const custom = await bodyOf<Event>(await curl(app, 'POST', '/events', customBody), 201);
    expect(custom).toMatchObject({ ...customBody, hasWaitlist: false, registeredCount: 0 });

    // List All Events
    expect(await bodyOf<Event[]>(await curl(app, 'GET', '/events'), 200)).toEqual([
      workshop,
      custom,
    ]);

    // Get Event by ID
    expect(await bodyOf<Event>(await curl(app, 'GET', '/events/my-custom-event-123'), 200)).toEqual(
      custom,
    );

    // Update an Event
    const updated = await bodyOf<Event>(
      await curl(app, 'PUT', '/events/my-custom-event-123', {
        title: 'Updated Event Title',
        status: 'completed',
      }),
      200,
    );
    expect(updated).toEqual({
      ...custom,
      title: 'Updated Event Title',
      status: 'completed',
      updatedAt: isoTimestamp(),
    });

    // Delete an Event
    expect(
      await bodyOf(await curl(app, 'DELETE', '/events/my-custom-event-123'), 200),
    ).toMatchObject({ eventId: 'my-custom-event-123', deletedRegistrations: 0 });
    await expectProblem(
      await curl(app, 'GET', '/events/my-custom-event-123'),
      404,
      'EVENTS.EVENT_NOT_FOUND',
    );

    // Health Check
    expect(await bodyOf(await curl(app, 'GET', '/health'), 200)).toMatchObject({ status: 'ok' });
  });
});

describe.each([
  {
    paths: 'the event-based registration routes (the events seed\'s "Example Flow")',
    join: (eventId: string) => `/events/${eventId}/registrations`,
    leave: (eventId: string, userId: string) => `/events/${eventId}/registrations/${userId}`,
  },
  {
    paths: 'the /register routes (docs/seeds.md)',
    join: (eventId: string) => `/events/${eventId}/register`,
    leave: (eventId: string, userId: string) => `/events/${eventId}/register/${userId}`,
  },
])('$paths', ({ join, leave }) => {
  it('promotes the waitlisted user 3 when confirmed user 1 leaves a capacity-2 event', async () => {
    const app = await createEventsApp();
    const event = await bodyOf<Event>(
      await curl(app, 'POST', '/events', {
        eventId: 'flow-event',
        title: 'Example Flow',
        description: 'Capacity 2 with waitlist',
        date: '2025-12-15',
        location: 'Online',
        capacity: 2,
        organizer: 'Event Team',
        status: 'active',
        hasWaitlist: true,
      }),
      201,
    );
    for (const userId of ['user-1', 'user-2', 'user-3']) {
      await bodyOf(await curl(app, 'POST', '/users', { userId, name: userId }), 201);
    }
    const status = async (userId: string) =>
      (await bodyOf<Registration>(await curl(app, 'POST', join(event.eventId), { userId }), 201))
        .status;

    // User 1 registers -> confirmed (1/2); user 2 -> confirmed (2/2, full); user 3 -> waitlisted
    expect(await status('user-1')).toBe('confirmed');
    expect(await status('user-2')).toBe('confirmed');
    expect(await status('user-3')).toBe('waitlisted');
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 2,
      waitlistCount: 1,
    });

    // User 1 unregisters -> user 3 automatically promoted to confirmed
    const left = await bodyOf<{ promoted: Registration[] }>(
      await curl(app, 'DELETE', leave(event.eventId, 'user-1')),
      200,
    );

    expect(left.promoted).toEqual([
      expect.objectContaining({ userId: 'user-3', status: 'confirmed' }),
    ]);
    const listed = await bodyOf<Registration[]>(
      await curl(app, 'GET', `/events/${event.eventId}/registrations`),
      200,
    );
    expect(summary(listed)).toEqual(['user-2:confirmed', 'user-3:confirmed']);
    expect(await getEvent(app, event.eventId)).toMatchObject({
      capacity: 2,
      registeredCount: 2,
      waitlistCount: 0,
    });
  });
});
