import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { type Schemas, unwrap } from '../../api/client';
import { pagedQuery } from '../../api/pages';
import { useApi } from '../../auth/session';

export type Event = Schemas['Event'];
export type EventStatus = Schemas['EventStatus'];
export type Registration = Schemas['Registration'];
export type RegistrationStatus = Schemas['RegistrationStatus'];
export type PromotionMode = Schemas['Event']['promotion'];

export const EVENT_STATUSES: readonly EventStatus[] = [
  'active',
  'scheduled',
  'ongoing',
  'completed',
  'cancelled',
];

/** The console's paths of an event and a user (ids may hold characters a URL must escape). */
export const eventPath = (eventId: string) => `/events/${encodeURIComponent(eventId)}`;
export const userPath = (userId: string) => `/users/${encodeURIComponent(userId)}`;
/** The attendee page of an offer, outside the signed-in console (main.tsx starts it). */
export const offerPath = (token: string) => `/offers/${encodeURIComponent(token)}`;

/** Query keys: everything of the events module sits under ['events'] or ['users']. */
export const keys = {
  events: ['events'] as const,
  /** Every status's event list. */
  eventLists: ['events', 'list'] as const,
  eventList: (status: EventStatus | undefined) => ['events', 'list', status ?? 'all'] as const,
  event: (eventId: string) => ['events', 'one', eventId] as const,
  registrations: (eventId: string) => ['events', 'registrations', eventId] as const,
  users: ['users'] as const,
  user: (userId: string) => ['users', 'one', userId] as const,
  /** Every user's registration list. */
  allUserRegistrations: ['users', 'registrations'] as const,
  userRegistrations: (userId: string) => ['users', 'registrations', userId] as const,
};

export function useEventList(status: EventStatus | undefined) {
  const api = useApi();
  return useInfiniteQuery(
    pagedQuery(keys.eventList(status), (cursor, signal) =>
      api.GET('/events', { params: { query: { status, cursor } }, signal }),
    ),
  );
}

export function useEvent(eventId: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.event(eventId),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/events/{eventId}', { params: { path: { eventId } }, signal }))).data,
  });
}

export function useRegistrations(eventId: string) {
  const api = useApi();
  return useInfiniteQuery(
    pagedQuery(keys.registrations(eventId), (cursor, signal) =>
      api.GET('/events/{eventId}/registrations', {
        params: { path: { eventId }, query: { cursor } },
        signal,
      }),
    ),
  );
}

export function useUserList() {
  const api = useApi();
  return useInfiniteQuery(
    pagedQuery(keys.users, (cursor, signal) =>
      api.GET('/users', { params: { query: { cursor } }, signal }),
    ),
  );
}

export function useUser(userId: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.user(userId),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/users/{userId}', { params: { path: { userId } }, signal }))).data,
  });
}

export function useUserRegistrations(userId: string) {
  const api = useApi();
  return useInfiniteQuery(
    pagedQuery(keys.userRegistrations(userId), (cursor, signal) =>
      api.GET('/users/{userId}/registrations', {
        params: { path: { userId }, query: { cursor } },
        signal,
      }),
    ),
  );
}

/** After a change to registrations: the event's counters and lists, and its users' lists. */
export function useRefreshEvent() {
  const queryClient = useQueryClient();
  /** `committed`: the event as a write answered it, stored instead of fetched again. */
  return useCallback(
    (eventId: string, committed?: Event) => {
      if (committed) queryClient.setQueryData(keys.event(eventId), committed);
      return Promise.all([
        committed ? undefined : queryClient.invalidateQueries({ queryKey: keys.event(eventId) }),
        queryClient.invalidateQueries({ queryKey: keys.registrations(eventId) }),
        queryClient.invalidateQueries({ queryKey: keys.eventLists }),
        queryClient.invalidateQueries({ queryKey: keys.allUserRegistrations }),
      ]);
    },
    // Stable, so a timer that refreshes (an offer's deadline) isn't set again at each render.
    [queryClient],
  );
}
