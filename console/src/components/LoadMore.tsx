import type { UseInfiniteQueryResult } from '@tanstack/react-query';

/** The next page of a list (the API's `Link: rel="next"`), on demand. */
export function LoadMore(props: {
  readonly query: Pick<
    UseInfiniteQueryResult<unknown, unknown>,
    'hasNextPage' | 'isFetchingNextPage' | 'fetchNextPage'
  >;
  readonly label?: string;
}) {
  // All three read on every render, as the callers did: TanStack Query re-renders a component
  // only for the result properties it has read.
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = props.query;
  if (!hasNextPage) return null;
  return (
    <button
      type="button"
      className="secondary load-more"
      onClick={() => void fetchNextPage()}
      disabled={isFetchingNextPage}
    >
      {isFetchingNextPage ? 'Loading…' : (props.label ?? 'Load more')}
    </button>
  );
}
