import { nextCursor } from '../lib/link';
import { unwrap } from './client';

/** One page of a list and the cursor of the next (from `Link: rel="next"`). */
export interface PageOf<T> {
  readonly items: readonly T[];
  readonly next: string | undefined;
}

export async function pageOf<T>(
  call: Promise<{ data?: T[]; error?: unknown; response: Response }>,
): Promise<PageOf<T>> {
  const { data, response } = await unwrap(call);
  return { items: data, next: nextCursor(response.headers.get('link'), response.url) };
}

/** The items of every page loaded so far, in order. */
export const itemsOf = <T>(pages: readonly PageOf<T>[] | undefined): T[] =>
  (pages ?? []).flatMap((page) => page.items);
