import type { Context } from 'hono';
import * as z from 'zod/mini';
import { withMeta } from '../input.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** Query parameters shared by every list route. */
export const paginationQuery = z.object({
  limit: withMeta(
    z._default(
      z.coerce.number().check(z.int(), z.minimum(1), z.maximum(MAX_PAGE_SIZE)),
      DEFAULT_PAGE_SIZE,
    ),
    { description: `Page size, 1–${MAX_PAGE_SIZE}.`, example: DEFAULT_PAGE_SIZE },
  ),
  cursor: withMeta(z.optional(z.string().check(z.maxLength(4096))), {
    description: 'Opaque cursor from the previous page’s `Link: rel="next"` header.',
  }),
});

/**
 * Sets `Link: <?…&cursor=…>; rel="next"` when another page exists. The target is a query-only
 * relative reference (RFC 3986 §5.2): it resolves against the URL the client called, so it stays
 * right behind an API Gateway stage prefix or a proxy the app cannot see. Other query parameters
 * are kept.
 */
export function setNextLink(c: Context, nextCursor: string | undefined): void {
  if (nextCursor === undefined) return;
  const url = new URL(c.req.url);
  url.searchParams.set('cursor', nextCursor);
  c.header('link', `<${url.search}>; rel="next"`);
}
