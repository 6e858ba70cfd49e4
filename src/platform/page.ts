/** A page request and a page, as every list port speaks them. Cursors are opaque strings. */
export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface Page<T> {
  readonly items: T[];
  /** Present when more items remain. */
  readonly nextCursor?: string | undefined;
}
