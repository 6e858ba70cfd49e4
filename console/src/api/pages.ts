import { infiniteQueryOptions, type QueryKey } from '@tanstack/react-query';
import { nextCursor } from '../lib/link';
import { unwrap } from './client';

/** One page of a list and the cursor of the next (from `Link: rel="next"`). */
export interface PageOf<T> {
  readonly items: readonly T[];
  readonly next: string | undefined;
}

/** An openapi-fetch call that answers one page of a list. */
type PageCall<T> = Promise<{ data?: T[]; error?: unknown; response: Response }>;

export async function pageOf<T>(call: PageCall<T>): Promise<PageOf<T>> {
  const { data, response } = await unwrap(call);
  return { items: data, next: nextCursor(response.headers.get('link'), response.url) };
}

/**
 * The options of a paged list's infinite query: the first page without a cursor, each next one
 * with the cursor of the page before it, until a page has no `Link: rel="next"`.
 */
export const pagedQuery = <T, K extends QueryKey>(
  queryKey: K,
  fetchPage: (cursor: string | undefined, signal: AbortSignal) => PageCall<T>,
) =>
  infiniteQueryOptions({
    queryKey,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => pageOf(fetchPage(pageParam, signal)),
    getNextPageParam: (page) => page.next,
  });

/** The items of every page loaded so far, in order. */
export const itemsOf = <T>(pages: readonly PageOf<T>[] | undefined): T[] =>
  (pages ?? []).flatMap((page) => page.items);
