import { useQuery } from '@tanstack/react-query';
import { type Schemas, unwrap } from '../../api/client';
import { pageOf } from '../../api/pages';
import { useApi } from '../../auth/session';

export type EventStats = Schemas['EventStats'];
export type EnrollmentStats = Schemas['EnrollmentStats'];
export type SlaErrorStats = Schemas['SlaErrorStats'];
export type ExecutionStats = Schemas['WorkflowExecutionStats'];
export type Event = Schemas['Event'];

/** Everything the dashboard reads sits under ['dashboard'] (and the events' lists' key). */
export const keys = {
  allEvents: ['events', 'list', 'every'] as const,
  eventStats: (eventId: string) => ['dashboard', 'event', eventId] as const,
  enrollments: ['dashboard', 'enrollments'] as const,
  slaErrors: (from: string, to: string) => ['dashboard', 'sla-errors', from, to] as const,
  runs: (from: string, to: string) => ['dashboard', 'runs', from, to] as const,
};

/**
 * Every event, for the choice of which to chart: the list's pages (200 at a time) one after the
 * other, each a query of the events index.
 */
export function useAllEvents(enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: keys.allEvents,
    enabled,
    queryFn: async ({ signal }) => {
      const events: Event[] = [];
      let cursor: string | undefined;
      do {
        const page = await pageOf(
          api.GET('/events', { params: { query: { limit: 200, cursor } }, signal }),
        );
        events.push(...page.items);
        cursor = page.next;
      } while (cursor);
      return events;
    },
  });
}

export function useEventStats(eventId: string | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: keys.eventStats(eventId ?? ''),
    enabled: eventId !== undefined,
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET('/events/{eventId}/stats', {
            params: { path: { eventId: eventId ?? '' } },
            signal,
          }),
        )
      ).data,
  });
}

export function useEnrollmentStats(enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: keys.enrollments,
    enabled,
    queryFn: async ({ signal }) => (await unwrap(api.GET('/enrollments/stats', { signal }))).data,
  });
}

export function useSlaErrorStats(enabled: boolean, from: string, to: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.slaErrors(from, to),
    enabled,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/sla-errors/stats', { params: { query: { from, to } }, signal })))
        .data,
  });
}

export function useRunStats(enabled: boolean, from: string, to: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.runs(from, to),
    enabled,
    queryFn: async ({ signal }) =>
      (
        await unwrap(
          api.GET('/workflow/executions/stats', { params: { query: { from, to } }, signal }),
        )
      ).data,
  });
}
