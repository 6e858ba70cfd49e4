/** The next page of a list (the API's `Link: rel="next"`), on demand. */
export function LoadMore(props: {
  readonly hasNextPage: boolean;
  readonly isFetchingNextPage: boolean;
  readonly fetchNextPage: () => unknown;
  readonly label?: string;
}) {
  if (!props.hasNextPage) return null;
  return (
    <button
      type="button"
      className="secondary load-more"
      onClick={() => void props.fetchNextPage()}
      disabled={props.isFetchingNextPage}
    >
      {props.isFetchingNextPage ? 'Loading…' : (props.label ?? 'Load more')}
    </button>
  );
}
