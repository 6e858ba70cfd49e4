import { describe, expect, it } from 'vitest';
import {
  clockOffsetOf,
  OFFER_WINDOW_UNITS,
  OFFERS_POLL_MS,
  offerOutcomeOf,
  offersRefreshDelay,
  offerTokenOf,
  windowInputOf,
  windowSecondsOf,
} from '../src/lib/offers';
import { durationText, formatEventDate, relativeTime } from '../src/lib/time';

describe('offer links', () => {
  it('reads the token from an attendee page path under the console base', () => {
    const token = 'Zm9vYmFyLWJhei1xdXV4LWFsbC10aGUtd2F5LTEyMzQ1';
    expect(offerTokenOf(`/console/offers/${token}`, '/console/')).toBe(token);
    expect(offerTokenOf(`/console/offers/${token}/`, '/console/')).toBe(token);
    expect(offerTokenOf(`/console/offers/${token}`, '/console')).toBe(token);
    expect(offerTokenOf(`/offers/${token}`, '/')).toBe(token);
  });

  it('tells an attendee link without a usable token from a path of the signed-in console', () => {
    expect(offerTokenOf('/console/offers/', '/console/')).toBe('');
    expect(offerTokenOf('/console/offers', '/console/')).toBe('');
    expect(offerTokenOf('/console/offers/a/b', '/console/')).toBe('');
    expect(offerTokenOf('/console/offers/%E0%A4%A', '/console/')).toBe('');
    expect(offerTokenOf('/console/events', '/console/')).toBeUndefined();
    expect(offerTokenOf('/console/', '/console/')).toBeUndefined();
    expect(offerTokenOf('/console/offersx/abc', '/console/')).toBeUndefined();
    expect(offerTokenOf('/other/offers/abc', '/console/')).toBeUndefined();
  });
});

describe('the API clock behind a countdown', () => {
  it('takes the offset of the API’s Date header when it is beyond the header’s resolution', () => {
    const receivedAt = Date.parse('2026-05-01T10:00:00.000Z');
    expect(clockOffsetOf('Fri, 01 May 2026 10:05:00 GMT', receivedAt)).toBe(300_000);
    expect(clockOffsetOf('Fri, 01 May 2026 09:59:00 GMT', receivedAt)).toBe(-60_000);
    expect(clockOffsetOf('Fri, 01 May 2026 10:00:01 GMT', receivedAt + 400)).toBe(0);
    expect(clockOffsetOf(null, receivedAt)).toBe(0);
    expect(clockOffsetOf('yesterday', receivedAt)).toBe(0);
  });
});

describe('what an attendee is told after a refused answer', () => {
  it.each([
    [410, 'EVENTS.OFFER_EXPIRED', 'expired'],
    [409, 'EVENTS.OFFER_DECLINED', 'declined'],
    [409, 'EVENTS.OFFER_ACCEPTED', 'accepted'],
    [409, 'EVENTS.EVENT_CLOSED', 'closed'],
    [404, 'EVENTS.OFFER_NOT_FOUND', 'unknown'],
  ] as const)('%i %s is the %s outcome', (status, code, outcome) => {
    expect(offerOutcomeOf({ title: 't', status, code })).toBe(outcome);
  });

  it('leaves any other refusal to the problem message', () => {
    expect(offerOutcomeOf({ title: 'Service Unavailable', status: 503 })).toBeUndefined();
    expect(offerOutcomeOf({ title: 'Not Found', status: 404 })).toBe('unknown');
    expect(offerOutcomeOf({ title: 'x', status: 0 })).toBeUndefined();
    expect(offerOutcomeOf({ title: 'Conflict', status: 409, code: 'EVENTS.NOT_OFFERED' })).toBe(
      undefined,
    );
  });

  it('treats a token the API refuses to read as a link that leads nowhere', () => {
    const tooLong = { path: 'path.token', message: 'Too big: expected string to have <=200' };
    expect(offerOutcomeOf({ title: 'x', status: 422, errors: [tooLong] })).toBe('unknown');
    const other = { path: 'body.x', message: 'no' };
    expect(offerOutcomeOf({ title: 'x', status: 422, errors: [other] })).toBeUndefined();
  });
});

describe('the offer window in a friendly unit', () => {
  it('shows a window in the largest unit that holds it whole', () => {
    expect(windowInputOf(86_400)).toEqual({ value: 1, unit: 'days' });
    expect(windowInputOf(604_800)).toEqual({ value: 7, unit: 'days' });
    expect(windowInputOf(7_200)).toEqual({ value: 2, unit: 'hours' });
    expect(windowInputOf(5_400)).toEqual({ value: 90, unit: 'minutes' });
    expect(windowInputOf(60)).toEqual({ value: 1, unit: 'minutes' });
    expect(windowInputOf(90)).toEqual({ value: 1.5, unit: 'minutes' });
  });

  it('sends what was typed as whole seconds, and nothing for an empty field', () => {
    expect(windowSecondsOf(undefined, 'hours')).toBeUndefined();
    expect(windowSecondsOf(1.1, 'hours')).toBe(3_960);
    expect(windowSecondsOf(30, 'minutes')).toBe(1_800);
    expect(windowSecondsOf(7, 'days')).toBe(604_800);
    // Not a number stays not a number: the API says so under the field.
    expect(windowSecondsOf(Number.NaN, 'days')).toBeNaN();
    expect(OFFER_WINDOW_UNITS.map((unit) => unit.unit)).toEqual(['minutes', 'hours', 'days']);
  });
});

describe('an event page with offers out', () => {
  const now = Date.parse('2026-05-01T10:00:00.000Z');
  const at = (ms: number) => new Date(now + ms).toISOString();

  it('refreshes a second after the earliest deadline, when the seat has passed on', () => {
    expect(offersRefreshDelay([at(20_000), at(5_000)], now)).toBe(6_000);
  });

  it('asks again every half minute meanwhile, since an attendee may answer any time', () => {
    expect(offersRefreshDelay([at(86_400_000)], now)).toBe(OFFERS_POLL_MS);
    expect(OFFERS_POLL_MS).toBe(30_000);
  });

  it('waits a second after a deadline already past, and does not poll without offers', () => {
    expect(offersRefreshDelay([at(-60_000)], now)).toBe(1_000);
    expect(offersRefreshDelay([], now)).toBeUndefined();
    expect(offersRefreshDelay(['never'], now)).toBeUndefined();
  });
});

describe('durations and relative times', () => {
  it('counts down in words, two units at most', () => {
    expect(durationText(((2 * 24 + 3) * 3600 + 59) * 1000)).toBe('2 days 3 hours');
    expect(durationText((3600 + 5 * 60) * 1000)).toBe('1 hour 5 minutes');
    expect(durationText((12 * 60 + 1) * 1000)).toBe('12 minutes 1 second');
    expect(durationText(45_000)).toBe('45 seconds');
    expect(durationText(24 * 3600 * 1000)).toBe('1 day');
    // A partial second still left counts as a second; nothing left is 0 seconds.
    expect(durationText(400)).toBe('1 second');
    expect(durationText(0)).toBe('0 seconds');
    expect(durationText(-5_000)).toBe('0 seconds');
  });

  it('says how far a time is from now in the largest fitting unit', () => {
    const now = Date.parse('2026-05-01T10:00:00.000Z');
    const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();
    expect(relativeTime(at(23 * 3600 + 50 * 60), now, 'en')).toBe('in 24 hours');
    expect(relativeTime(at(3 * 86_400), now, 'en')).toBe('in 3 days');
    expect(relativeTime(at(90), now, 'en')).toBe('in 2 minutes');
    expect(relativeTime(at(3_580), now, 'en')).toBe('in 1 hour');
    expect(relativeTime(at(59.6), now, 'en')).toBe('in 1 minute');
    expect(relativeTime(at(47.8 * 3600), now, 'en')).toBe('in 2 days');
    expect(relativeTime(at(20), now, 'en')).toBe('in 20 seconds');
    expect(relativeTime(at(-2 * 3600), now, 'en')).toBe('2 hours ago');
    expect(relativeTime('not a time', now, 'en')).toBe('');
  });

  it('shows a date-only event date as that calendar day in every zone', () => {
    const shown = formatEventDate('2026-12-15', 'en-GB');
    expect(shown).toContain('15 December 2026');
    expect(formatEventDate('someday', 'en-GB')).toBe('someday');
    expect(formatEventDate('2026-12-15T18:00:00Z', 'en-GB')).toContain('2026');
  });
});
