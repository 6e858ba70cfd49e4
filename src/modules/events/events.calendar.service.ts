import {
  type CalendarEntry,
  calendarEntry,
  feedTokenValid,
  signFeedToken,
} from './events.calendar.rules.js';
import { EventsErrors } from './events.errors.js';
import type { EventRepository } from './events.repository.js';

export type { CalendarEntry };

export interface CalendarServiceDeps {
  readonly repository: EventRepository;
  /** The key feed tokens are signed with (`secrets.key('calendar-feed')`). */
  readonly feedKey: Buffer;
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
   * A new feed token, valid for `expiresInDays` when given (else until the deployment's master
   * secret changes: there is no list of tokens to revoke one from).
   */
  feedToken(expiresInDays?: number): { token: string; expiresAt: string | undefined } {
    const now = this.deps.clock();
    const expiresAt =
      expiresInDays === undefined ? undefined : new Date(now.getTime() + expiresInDays * DAY_MS);
    return {
      token: signFeedToken(this.deps.feedKey, now, expiresAt),
      expiresAt: expiresAt?.toISOString(),
    };
  }

  /**
   * The feed's entries, if `token` opens it (else EVENTS.CALENDAR_FEED_NOT_FOUND, before anything
   * is read): every event, cancelled ones included so that subscribers see the cancellation, newest
   * created first, at most MAX_FEED_EVENTS, read a page at a time through the collection index.
   */
  async feed(token: string): Promise<CalendarEntry[]> {
    if (!feedTokenValid(this.deps.feedKey, token, this.deps.clock())) {
      throw EventsErrors.calendarFeedNotFound();
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
