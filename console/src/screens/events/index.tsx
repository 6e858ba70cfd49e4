import { lazy, Suspense } from 'react';
import type { ConsoleSection } from '../../app/section';
import { EditEvent, NewEvent } from './EventForm';
import { EventPage } from './EventPage';
import { EventsList } from './EventsList';
import { UserPage, UsersPage } from './UsersPage';

/** The door screen, its camera and its offline store are loaded only when a door is opened. */
const DoorScreen = lazy(() => import('./DoorScreen'));

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
    {
      path: 'events/:eventId/door',
      element: (
        <Suspense
          fallback={
            <p className="muted" role="status">
              Loading the door…
            </p>
          }
        >
          <DoorScreen />
        </Suspense>
      ),
    },
    { path: 'users', element: <UsersPage /> },
    { path: 'users/:userId', element: <UserPage /> },
  ],
};
