import { randomId } from '../../platform/ids.js';
import type { FeedLink, FeedLinkRepository } from './events.calendar.repository.js';
import {
  type CalendarEntry,
  calendarEntry,
  FEED_LINK_ID_BYTES,
  readFeedToken,
  signFeedToken,
} from './events.calendar.rules.js';
import { EventsErrors } from './events.errors.js';
import type { EventRepository } from './events.repository.js';

export type { CalendarEntry };

export interface CalendarServiceDeps {
  readonly repository: EventRepository;
  /** The links issued, to revoke one. */
  readonly links: FeedLinkRepository;
  /** A new link id (random). */
  readonly newLinkId?: () => string;
  /** The key feed tokens are signed with (`secrets.key('calendar-feed')`, once it is there). */
  readonly feedKey: () => Promise<Buffer>;
  readonly clock: () => Date;
}

/**
 * The most events one feed lists, newest created first: a calendar client fetches the whole feed
 * every time it refreshes, so its size (and the reads behind it) stays bounded.
 */
export const MAX_FEED_EVENTS = 1000;
const FEED_PAGE_SIZE = 100;
const DAY_MS = 86_400_000;

/** Calendar exports of events: one event's, and the feed of all of them behind a signed link. */
export class CalendarService {
  constructor(private readonly deps: CalendarServiceDeps) {}

  /** The event's VEVENT; not found like `GET /events/{eventId}`. */
  async eventEntry(eventId: string): Promise<CalendarEntry> {
    const event = await this.deps.repository.getEvent(eventId);
    if (!event) throw EventsErrors.eventNotFound(eventId);
    return calendarEntry(event);
  }

  /**
   * A new feed link's token, valid for `expiresInDays` when given, until revoked (its id) or the
   * deployment's master secret changes.
   */
  async feedToken(
    expiresInDays?: number,
  ): Promise<{ token: string; linkId: string; expiresAt: string | undefined }> {
    const now = this.deps.clock();
    const expiresAt =
      expiresInDays === undefined ? undefined : new Date(now.getTime() + expiresInDays * DAY_MS);
    const linkId = (this.deps.newLinkId ?? (() => randomId(FEED_LINK_ID_BYTES)))();
    const key = await this.deps.feedKey();
    // Recorded before the token exists: a link that opens is always one that can be revoked.
    await this.deps.links.issued({
      linkId,
      issuedAt: now.toISOString(),
      expiresAt: expiresAt?.toISOString(),
      revokedAt: undefined,
    });
    return {
      token: signFeedToken(key, { issuedAt: now, expiresAt, linkId }),
      linkId,
      expiresAt: expiresAt?.toISOString(),
    };
  }

  /** Revokes a feed link: its URL opens nothing from now on (calendar clients get a 404). */
  async revokeFeedLink(linkId: string): Promise<FeedLink> {
    const revoked = await this.deps.links.revoke(linkId, this.deps.clock().toISOString());
    if (!revoked) throw EventsErrors.calendarFeedLinkNotFound(linkId);
    return revoked;
  }

  /**
   * The feed's entries, if `token` opens it (else EVENTS.CALENDAR_FEED_NOT_FOUND, before any
   * event is read): every event, cancelled ones included so that subscribers see the
   * cancellation, newest created first, at most MAX_FEED_EVENTS, read a page at a time through the
   * collection index. A revoked link opens nothing; a link of the previous release (no id) opens
   * until the master secret changes.
   */
  async feed(token: string): Promise<CalendarEntry[]> {
    const read = readFeedToken(await this.deps.feedKey(), token, this.deps.clock());
    if (!read) throw EventsErrors.calendarFeedNotFound();
    if (read.linkId !== undefined) {
      const link = await this.deps.links.find(read.linkId);
      if (!link || link.revokedAt !== undefined) throw EventsErrors.calendarFeedNotFound();
    }
    const entries: CalendarEntry[] = [];
    for await (const page of this.deps.repository.newestEvents(FEED_PAGE_SIZE)) {
      for (const event of page) {
        entries.push(calendarEntry(event));
        if (entries.length === MAX_FEED_EVENTS) return entries;
      }
    }
    return entries;
  }
}
