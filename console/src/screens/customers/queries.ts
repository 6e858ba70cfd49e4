import { useInfiniteQuery } from '@tanstack/react-query';
import { itemsOf, pagedQuery } from '../../api/pages';
import { useApi } from '../../auth/session';
import { type ExpectedRun, runsPollInterval } from '../../lib/polling';

/** Query keys: everything of the customers module sits under ['customers']. */
export const keys = {
  runs: (id: string) => ['customers', 'runs', id] as const,
};

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
