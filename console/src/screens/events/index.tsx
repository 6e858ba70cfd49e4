import type { ConsoleSection } from '../../app/section';
import { EditEvent, NewEvent } from './EventForm';
import { EventPage } from './EventPage';
import { EventsList } from './EventsList';
import { UserPage, UsersPage } from './UsersPage';

/** The events module: events, their registrations and waitlists, users. */
export const eventsSection: ConsoleSection = {
  requires: 'GET /events',
  links: [
    { to: '/events', label: 'Events' },
    { to: '/users', label: 'Users' },
  ],
  routes: [
    { path: 'events', element: <EventsList /> },
    { path: 'events/new', element: <NewEvent /> },
    { path: 'events/:eventId', element: <EventPage /> },
    { path: 'events/:eventId/edit', element: <EditEvent /> },
    { path: 'users', element: <UsersPage /> },
    { path: 'users/:userId', element: <UserPage /> },
  ],
};
