import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Event, FEED_LINK_ID } from './events.model.js';

/**
 * Calendar exports: how an event becomes an iCalendar VEVENT (RFC 5545), and the signed tokens
 * of the subscribable feed. Pure: the routes render what `calendarEntry` decides, and the service
 * holds the feed's key and the clock.
 */

/** What one VEVENT says of an event (rendered by events.calendar.routes.ts). */
export interface CalendarEntry {
  /** Stable per event, so a calendar that subscribed updates the entry instead of adding one. */
  readonly uid: string;
  /** `YYYY-MM-DD` for an all-day event, else the instant (an ISO date-time in UTC). */
  readonly start: string;
  /** The day after `start` for an all-day event (DTEND is exclusive); none for an instant. */
  readonly end: string | undefined;
  readonly allDay: boolean;
  readonly summary: string;
  readonly description: string;
  readonly location: string;
  /** ORGANIZER must be a calendar address (a URI): only an organizer that is an email has one. */
  readonly organizerEmail: string | undefined;
  /** Grows with every change of the event (its version), so clients replace what they hold. */
  readonly sequence: number;
  readonly status: 'CONFIRMED' | 'CANCELLED';
  readonly created: string;
  readonly lastModified: string;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const EMAIL = /^[^\s@"<>()[\]\\,;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const DAY_MS = 86_400_000;

export function calendarEntry(event: Event): CalendarEntry {
  const allDay = DATE_ONLY.test(event.date);
  return {
    uid: `${event.eventId}@roster`,
    start: allDay ? event.date : new Date(event.date).toISOString(),
    end: allDay
      ? new Date(Date.parse(`${event.date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10)
      : undefined,
    allDay,
    summary: event.title,
    description: event.description,
    location: event.location,
    organizerEmail: EMAIL.test(event.organizer) ? event.organizer : undefined,
    // Version 1 is the event as created: SEQUENCE starts at 0, as RFC 5545 has it.
    sequence: event.version - 1,
    status: event.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED',
    created: event.createdAt,
    lastModified: event.updatedAt,
  };
}

/**
 * A feed token: `base64url(claims).base64url(HMAC-SHA256(key, that first part))`. The claims say
 * what it opens (the purpose, so a MAC made for something else under the same key can't pass)
 * and, optionally, until when; `i` (issued at) makes each link a new one. The link carries this
 * token instead of an API key, which a calendar client would keep in its settings and send to
 * whoever serves the URL.
 */
interface FeedClaims {
  readonly p: typeof FEED_PURPOSE;
  /** Issued at, seconds since the epoch. */
  readonly i: number;
  /** Expires at, seconds since the epoch. */
  readonly e?: number;
  /** The link's id, by which it is revoked (links of the previous release have none). */
  readonly n?: string;
}

/** What a genuine, unexpired feed token says. */
export interface FeedToken {
  /** Undefined for a link made before links had ids (revoked only with the master secret). */
  readonly linkId: string | undefined;
}

/** Feed link ids: 12 random bytes, base64url (platform/ids `randomId`): FEED_LINK_ID. */
export const FEED_LINK_ID_BYTES = 12;

export const FEED_PURPOSE = 'calendar-feed';

const mac = (key: Buffer, payload: string) =>
  createHmac('sha256', key).update(payload).digest().subarray(0, 16);

export function signFeedToken(
  key: Buffer,
  link: { issuedAt: Date; expiresAt?: Date | undefined; linkId?: string | undefined },
): string {
  const claims: FeedClaims = {
    p: FEED_PURPOSE,
    i: Math.floor(link.issuedAt.getTime() / 1000),
    ...(link.expiresAt ? { e: Math.floor(link.expiresAt.getTime() / 1000) } : {}),
    ...(link.linkId ? { n: link.linkId } : {}),
  };
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** What `token` says, if it was signed with `key` for the feed and has not expired at `now`. */
export function readFeedToken(key: Buffer, token: string, now: Date): FeedToken | undefined {
  const [payload, signature, ...rest] = token.split('.');
  if (!payload || !signature || rest.length > 0) return undefined;
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(key, payload);
  // base64url decoding skips characters it does not know: compare the text too, so only the
  // exact signature passes (not the same bytes written another way).
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  if (given.toString('base64url') !== signature) return undefined;
  let claims: Partial<FeedClaims>;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (claims?.p !== FEED_PURPOSE) return undefined;
  if (claims.n !== undefined && !(typeof claims.n === 'string' && FEED_LINK_ID.test(claims.n))) {
    return undefined;
  }
  const open =
    claims.e === undefined || (Number.isFinite(claims.e) && now.getTime() < claims.e * 1000);
  return open ? { linkId: claims.n } : undefined;
}
