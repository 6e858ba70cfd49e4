import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { type Schemas, unwrap } from '../../api/client';
import { pagedQuery } from '../../api/pages';
import { useApi } from '../../auth/session';
import { enrollmentPollInterval } from '../../lib/polling';

export type AgeGroup = Schemas['AgeGroup'];
export type Enrollment = Schemas['Enrollment'];
export type EnrollmentStatusValue = Enrollment['status'];
export const ENROLLMENT_STATUSES: readonly EnrollmentStatusValue[] = [
  'PENDING',
  'PROCESSED',
  'REJECTED',
];

/** What the list of enrollments is narrowed to (both kept in the URL). */
export interface EnrollmentFilter {
  readonly status?: EnrollmentStatusValue | undefined;
  readonly ageGroupId?: string | undefined;
}

export const enrollmentPath = (id: string) => `/enrollments/${encodeURIComponent(id)}`;

/** Query keys: everything of the enrollments module sits under ['age-groups'] or ['enrollments']. */
export const keys = {
  ageGroups: ['age-groups'] as const,
  enrollment: (id: string) => ['enrollments', 'one', id] as const,
  /** Every list of enrollments, whatever its filter (what a new submission makes stale). */
  lists: ['enrollments', 'list'] as const,
  list: (filter: EnrollmentFilter) =>
    ['enrollments', 'list', filter.status ?? '', filter.ageGroupId ?? ''] as const,
  /** The ids of the enrollments submitted in this tab, newest first. */
  submitted: ['enrollments', 'submitted'] as const,
};

/** Age groups, ordered by min_age (the API's order), page by page. */
export function useAgeGroups() {
  const api = useApi();
  return useInfiniteQuery(
    pagedQuery(keys.ageGroups, (cursor, signal) =>
      api.GET('/age-groups', { params: { query: { cursor } }, signal }),
    ),
  );
}

/** Enrollments newest first (the API's order), optionally of one status and/or age group. */
export function useEnrollmentList(filter: EnrollmentFilter) {
  const api = useApi();
  return useInfiniteQuery(
    pagedQuery(keys.list(filter), (cursor, signal) =>
      api.GET('/enrollments', {
        params: { query: { status: filter.status, ageGroupId: filter.ageGroupId, cursor } },
        signal,
      }),
    ),
  );
}

/**
 * One enrollment, asked again while it is PENDING (TanStack Query's refetchInterval) and no more
 * once PROCESSED or REJECTED. The API masks the CPF; the console shows only what it answers.
 */
export function useEnrollment(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.enrollment(id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/enrollments/{id}', { params: { path: { id } }, signal }))).data,
    refetchInterval: (query) =>
      enrollmentPollInterval(query.state.data?.status, query.state.dataUpdateCount),
  });
}

/**
 * This tab's submissions: kept in the query cache (so the sign-out's cache clear removes them),
 * never in storage; a reload forgets the list, not the enrollments (each has its own page).
 */
export function useSubmittedIds() {
  return useQuery({
    queryKey: keys.submitted,
    queryFn: () => [] as string[],
    initialData: [] as string[],
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: Number.POSITIVE_INFINITY,
  });
}
