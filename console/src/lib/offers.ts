import type { Problem } from './problem';

/**
 * Waitlist offers: a freed seat held for the next person, who accepts or declines through a link
 * (`<console>/offers/<token>`) that needs no sign-in. The token in that link is the only
 * credential, which is why the attendee page is its own small app (see main.tsx).
 */

/**
 * The token of an attendee page path (`/console/offers/<token>`): the token, '' for a path under
 * `offers/` that holds no usable token (so the page can say the link is broken), undefined for a
 * path of the signed-in console.
 */
export function offerTokenOf(pathname: string, base: string): string | undefined {
  const prefix = `${base.replace(/\/+$/, '')}/offers`;
  if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) return undefined;
  const rest = pathname.slice(prefix.length + 1).replace(/\/$/, '');
  if (rest === '' || rest.includes('/')) return '';
  try {
    return decodeURIComponent(rest);
  } catch {
    return '';
  }
}

/** How an offer ended, or why it can't be answered, as the attendee page words it. */
export type OfferOutcome = 'accepted' | 'declined' | 'expired' | 'closed' | 'unknown';

/**
 * The outcome a refused accept or decline stands for (a 410 `OFFER.EXPIRED`, a 409
 * `OFFER.ACCEPTED`…); undefined for a refusal that says nothing about the offer (the API was
 * unavailable), which the page shows as a problem to try again after.
 */
export function offerOutcomeOf(problem: Problem): OfferOutcome | undefined {
  switch (problem.code) {
    case 'EVENTS.OFFER_EXPIRED':
      return 'expired';
    case 'EVENTS.OFFER_DECLINED':
      return 'declined';
    case 'EVENTS.OFFER_ACCEPTED':
      return 'accepted';
    case 'EVENTS.EVENT_CLOSED':
      return 'closed';
    case 'EVENTS.OFFER_NOT_FOUND':
      return 'unknown';
  }
  // A 404 without the code (a route the API doesn't have), or a token the API refuses to read
  // (a 422 on `path.token`), is still a link that leads nowhere.
  const badToken = problem.errors?.some((error) => error.path.startsWith('path.token'));
  return problem.status === 404 || (problem.status === 422 && badToken) ? 'unknown' : undefined;
}

/** The units the event form offers for the offer window; the API counts seconds. */
export const OFFER_WINDOW_UNITS = [
  { unit: 'minutes', seconds: 60 },
  { unit: 'hours', seconds: 3_600 },
  { unit: 'days', seconds: 86_400 },
] as const;

export type OfferWindowUnit = (typeof OFFER_WINDOW_UNITS)[number]['unit'];

export const isOfferWindowUnit = (value: string): value is OfferWindowUnit =>
  OFFER_WINDOW_UNITS.some((unit) => unit.unit === value);

const secondsPer = (unit: OfferWindowUnit): number =>
  OFFER_WINDOW_UNITS.find((candidate) => candidate.unit === unit)?.seconds ?? 1;

/** A window in seconds as the form shows it: the largest unit that holds it whole, else minutes. */
export function windowInputOf(seconds: number): { value: number; unit: OfferWindowUnit } {
  for (const { unit, seconds: size } of [...OFFER_WINDOW_UNITS].reverse()) {
    if (seconds % size === 0) return { value: seconds / size, unit };
  }
  return { value: seconds / 60, unit: 'minutes' };
}

/**
 * What the form sends for a window typed in a unit: whole seconds (1.1 hours is 3,960 s, not
 * 3960.0000000000005), or nothing when the field is empty. A value that is not a number is sent
 * as such, so the API's message about it shows under the field.
 */
export function windowSecondsOf(
  value: number | undefined,
  unit: OfferWindowUnit,
): number | undefined {
  if (value === undefined) return undefined;
  return Number.isFinite(value) ? Math.round(value * secondsPer(unit)) : value;
}

/**
 * How far the API's clock is ahead of the browser's, from a response's `Date` header and when the
 * response arrived: a countdown on a phone whose clock is off still ends when the API's offer
 * does. 0 when the header is missing (a cross-origin API doesn't expose it) or within its
 * one-second resolution.
 */
export function clockOffsetOf(dateHeader: string | null, receivedAt: number): number {
  const serverNow = dateHeader ? Date.parse(dateHeader) : Number.NaN;
  if (Number.isNaN(serverNow)) return 0;
  const offset = serverNow - receivedAt;
  return Math.abs(offset) < 2_000 ? 0 : offset;
}

/** How often an event page with offers out asks again: an attendee may answer at any moment. */
export const OFFERS_POLL_MS = 30_000;

/**
 * When an event page with offers out refreshes next: at the earliest deadline (a second after,
 * when the API has let it lapse and offered the seat on), or in `OFFERS_POLL_MS`, whichever comes
 * first. Undefined without offers out: nothing changes on its own then.
 */
export function offersRefreshDelay(expiries: readonly string[], now: number): number | undefined {
  const deadlines = expiries.map(Date.parse).filter((deadline) => !Number.isNaN(deadline));
  if (deadlines.length === 0) return undefined;
  const untilFirst = Math.min(...deadlines) - now + 1_000;
  return Math.min(Math.max(untilFirst, 1_000), OFFERS_POLL_MS);
}
