/** A calendar feed link as stored: its token is never stored, only what revokes it. */
export interface FeedLink {
  readonly linkId: string;
  readonly issuedAt: string;
  readonly expiresAt: string | undefined;
  /** When it was revoked; a revoked link opens nothing. */
  readonly revokedAt: string | undefined;
}

/** The feed links issued, so that one can be revoked. */
export interface FeedLinkRepository {
  /** Records a new link (its id is new: random). */
  issued(link: FeedLink): Promise<void>;
  find(linkId: string): Promise<FeedLink | undefined>;
  /** Marks the link revoked at `now` (again: no change); undefined when no such link was issued. */
  revoke(linkId: string, now: string): Promise<FeedLink | undefined>;
}
