import { useInfiniteQuery } from '@tanstack/react-query';
import { itemsOf, pagedQuery } from '../../api/pages';
import { useApi } from '../../auth/session';
import { type ExpectedRun, runsPollInterval } from '../../lib/polling';

/** Query keys: everything of the customers module sits under ['customers']. */
export const keys = {
  runs: (id: string) => ['customers', 'runs', id] as const,
  list: ['customers', 'list'] as const,
  allRuns: (status: RunStatus | undefined) => ['customers', 'all-runs', status ?? 'all'] as const,
};

/** The statuses the runs list filters on (the API takes TIMED_OUT and ABORTED too). */
export const RUN_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const isRunStatus = (value: unknown): value is RunStatus =>
  RUN_STATUSES.includes(value as RunStatus);

/** The registered customer ids, newest registration first, page by page. */
export function useCustomers() {
  const api = useApi();
  return useInfiniteQuery(
    pagedQuery(keys.list, (cursor, signal) =>
      api.GET('/customers', { params: { query: { cursor } }, signal }),
    ),
  );
}

/**
 * Every workflow run, or those of one status, newest first, page by page; asked again while one
 * it shows is RUNNING.
 */
export function useAllRuns(status: RunStatus | undefined) {
  const api = useApi();
  return useInfiniteQuery({
    ...pagedQuery(keys.allRuns(status), (cursor, signal) =>
      api.GET('/workflow/executions', { params: { query: { status, cursor } }, signal }),
    ),
    refetchInterval: (query) =>
      runsPollInterval(
        itemsOf(query.state.data?.pages),
        undefined,
        Date.now(),
        query.state.dataUpdateCount,
      ),
  });
}

/**
 * A customer id's workflow runs, newest first, page by page; asked again while one is RUNNING
 * or while a run this console started is not listed yet.
 */
export function useRuns(id: string, expected: ExpectedRun | undefined) {
  const api = useApi();
  return useInfiniteQuery({
    ...pagedQuery(keys.runs(id), (cursor, signal) =>
      api.GET('/workflow/executions', { params: { query: { id, cursor } }, signal }),
    ),
    enabled: id !== '',
    refetchInterval: (query) =>
      runsPollInterval(
        itemsOf(query.state.data?.pages),
        expected,
        Date.now(),
        query.state.dataUpdateCount,
      ),
  });
}
