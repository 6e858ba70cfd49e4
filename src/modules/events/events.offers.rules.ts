import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Event, openStatuses, type Registration } from './events.model.js';

/*
 * Waitlist offers as pure decisions (docs/decisions/waitlist-offers.md): when a freed or added
 * seat goes to the head of the waitlist as an offer rather than at once, the offer's deadline,
 * how many seats pass now, and the offer's capability token.
 */

/** Offers made in one transaction: 1 event + 3 items per offer (row, token lookup, announcement). */
export const MAX_OFFERS_PER_TRANSACTION = 32;
/**
 * The same on a sharded event: 3 items per offer, a counter per shard touched (up to 32) and the
 * waitlist item — 16 × 3 + 32 + 1 = 81 of a transaction's 100.
 */
export const MAX_SHARD_OFFERS_PER_TRANSACTION = 16;

/** When the event starts: its date-time, or the start of its day (UTC) for a plain date. */
export function eventStart(event: Pick<Event, 'date'>): number {
  return Date.parse(
    /^\d{4}-\d{2}-\d{2}$/.test(event.date) ? `${event.date}T00:00:00Z` : event.date,
  );
}

/** When offers stop being made: `offersCloseBefore` hours before the event starts. */
export function offersCloseAt(event: Pick<Event, 'date' | 'offersCloseBefore'>): number {
  return eventStart(event) - event.offersCloseBefore * 3_600_000;
}

/**
 * Whether a seat that passes to the waitlist at `now` goes as an offer: the event is in offer mode,
 * open, and the offer period has not closed. After it closes seats are promoted at once — an offer
 * nobody can act on in time would leave the seat empty.
 */
export function offersOpen(event: Event, now: Date): boolean {
  return (
    event.promotion === 'offer' &&
    openStatuses.includes(event.status) &&
    now.getTime() < offersCloseAt(event)
  );
}

/** An offer made at `now` lapses after the event's window, and never after offers close. */
export function offerDeadline(event: Event, now: Date): Date {
  return new Date(Math.min(now.getTime() + event.offerWindowSeconds * 1000, offersCloseAt(event)));
}

/** Seats nobody holds: not confirmed, not held by an offer. */
export function freeSeats(
  event: Pick<Event, 'capacity' | 'registeredCount' | 'offeredCount'>,
): number {
  return Math.max(0, event.capacity - event.registeredCount - event.offeredCount);
}

export type SeatPass =
  /** Confirm this many heads at once (instant mode, or offers closed). */
  | { readonly kind: 'promote'; readonly count: number }
  /** Offer this many heads a seat (offer mode: no more than `offerBatch` out at once). */
  | { readonly kind: 'offer'; readonly count: number };

/**
 * How many free seats pass to the waitlist now, and how. Without `now` (a decision that only
 * needs to know whether any pass) offers count as open in offer mode.
 */
export function seatsToPass(event: Event, now?: Date): SeatPass {
  const free = Math.min(freeSeats(event), event.waitlistCount);
  const offering =
    event.promotion === 'offer' && (now === undefined ? true : offersOpen(event, now));
  if (!offering) return { kind: 'promote', count: free };
  return {
    kind: 'offer',
    count: Math.max(0, Math.min(free, event.offerBatch - event.offeredCount)),
  };
}

/** The head once offered a seat at `now` until `expiresAt`: a version on, off the waitlist. */
export function offeredRegistration(
  head: Registration,
  offer: { offerId: string; offeredAt: string; offerExpiresAt: string },
): Registration {
  return { ...head, status: 'offered', ...offer, version: head.version + 1 };
}

/** A row as read, with where it is kept: a sharded event's shard, never shown to clients. */
type StoredRegistration = Registration & { readonly shard?: number | undefined };

/** The registration as clients see it, without where its row is kept. */
export function shown(stored: StoredRegistration): Registration {
  const { shard: _, ...registration } = stored;
  return registration;
}

/** An offer that was accepted at `now`: confirmed (its `promotedAt`), a version on. */
export function acceptedRegistration(offered: StoredRegistration, now: string): Registration {
  const { ticket: _, offerToken: __, shard: ___, ...registration } = offered;
  return { ...registration, status: 'confirmed', promotedAt: now, version: offered.version + 1 };
}

/** An offer that ended without a seat: `declined` at `now`, or `expired`; a version on. */
export function endedOffer(
  offered: StoredRegistration,
  outcome: 'declined' | 'expired',
  now: string,
): Registration {
  const { ticket: _, offerToken: __, shard: ___, ...registration } = offered;
  return {
    ...registration,
    status: outcome,
    ...(outcome === 'declined' ? { declinedAt: now } : {}),
    version: offered.version + 1,
  };
}

/*
 * The capability token: the offer id (16 random bytes) and the first 16 bytes of its HMAC-SHA256
 * under the module's offer key, base64url — 43 characters, short enough for an SMS link. A token
 * whose MAC doesn't match is refused before anything is read.
 */

const OFFER_ID_BYTES = 16;
const MAC_BYTES = 16;

/** Offer ids are OFFER_ID_BYTES random bytes, base64url (platform/ids `randomId`). */
export const OFFER_ID_LENGTH = OFFER_ID_BYTES;

const mac = (key: Buffer, id: Buffer) =>
  createHmac('sha256', key).update('offer:').update(id).digest().subarray(0, MAC_BYTES);

export function offerToken(key: Buffer, offerId: string): string {
  const id = Buffer.from(offerId, 'base64url');
  return Buffer.concat([id, mac(key, id)]).toString('base64url');
}

/** The offer id a genuine token carries; undefined for anything else (malformed, forged, altered). */
export function offerIdOf(key: Buffer, token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const raw = Buffer.from(token, 'base64url');
  if (raw.length !== OFFER_ID_BYTES + MAC_BYTES) return undefined;
  const id = raw.subarray(0, OFFER_ID_BYTES);
  if (!timingSafeEqual(raw.subarray(OFFER_ID_BYTES), mac(key, id))) return undefined;
  // The canonical spelling only (base64url decoding ignores stray low bits of the last character).
  return offerToken(key, id.toString('base64url')) === token ? id.toString('base64url') : undefined;
}
