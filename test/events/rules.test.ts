import { describe, expect, it } from 'vitest';
import {
  type Event,
  OFFER_DEFAULTS,
  type Registration,
} from '../../src/modules/events/events.model.js';
import {
  freeSeats,
  offerDeadline,
  offerIdOf,
  offersOpen,
  offerToken,
  seatsToPass,
} from '../../src/modules/events/events.offers.rules.js';
import {
  decideRegistration,
  decideUnregister,
  decideUpdate,
  promotable,
  refusal,
} from '../../src/modules/events/events.rules.js';
import {
  afterPromotion,
  waitlistPosition,
} from '../../src/modules/events/events.waitlist.rules.js';
import { randomId } from '../../src/platform/ids.js';

/** The registration rules as pure decisions: no database, no HTTP. */

const NOW = '2026-11-22T10:00:00.000Z';
const AT = new Date(NOW);

function event(overrides: Partial<Event> = {}): Event {
  return {
    eventId: 'e-1',
    title: 'Rules',
    description: 'Pure decisions',
    date: '2026-12-01',
    location: 'Online',
    capacity: 100,
    organizer: 'Roster',
    status: 'active',
    hasWaitlist: true,
    ...OFFER_DEFAULTS,
    registeredCount: 0,
    waitlistCount: 0,
    offeredCount: 0,
    createdAt: NOW,
    updatedAt: NOW,
    waitlist: { issued: 0, frontier: 0, holes: [] },
    version: 1,
    ...overrides,
  };
}

function waitlisted(ticket: number): Registration {
  return {
    registrationId: `r-${ticket}`,
    userId: `u-${ticket}`,
    eventId: 'e-1',
    status: 'waitlisted',
    registeredAt: NOW,
    ticket,
    version: 1,
  };
}

const facts = (overrides: Partial<Parameters<typeof refusal>[0]> = {}) => ({
  eventId: 'e-1',
  userId: 'u-1',
  event: event({ registeredCount: 100, hasWaitlist: false }),
  userExists: true,
  alreadyRegistered: false,
  ...overrides,
});

describe('decideRegistration', () => {
  it('tries a seat first when nothing has been read yet', () => {
    expect(decideRegistration('unknown')).toEqual({ kind: 'confirm' });
  });

  it('confirms while a seat is free and nobody waits', () => {
    expect(decideRegistration(event({ registeredCount: 99 }))).toEqual({ kind: 'confirm' });
  });

  it('waitlists the 101st registrant when capacity is 100 and the event takes a waitlist', () => {
    expect(decideRegistration(event({ registeredCount: 100 }))).toEqual({ kind: 'waitlist' });
  });

  it('refuses a full event without a waitlist', () => {
    expect(decideRegistration(event({ registeredCount: 100, hasWaitlist: false }))).toEqual({
      kind: 'refuse',
      reason: 'event-full',
    });
  });

  it.each(['cancelled', 'completed'] as const)('refuses a %s event', (status) => {
    expect(decideRegistration(event({ status }))).toEqual({
      kind: 'refuse',
      reason: 'event-closed',
    });
  });

  it.each(['active', 'scheduled', 'ongoing'] as const)(
    'takes registrations for a %s event',
    (status) => {
      expect(decideRegistration(event({ status })).kind).toBe('confirm');
    },
  );

  it('refuses an event that does not exist', () => {
    expect(decideRegistration(undefined)).toEqual({ kind: 'refuse', reason: 'event-not-found' });
  });

  it('fills free seats before a newcomer when people wait (rule 4)', () => {
    const decision = decideRegistration(event({ registeredCount: 98, waitlistCount: 5 }));

    expect(decision).toEqual({ kind: 'fill-seats' });
  });

  it('refuses a newcomer to a full event whose waitlist was turned off, though people still wait', () => {
    const full = event({ registeredCount: 100, waitlistCount: 3, hasWaitlist: false });

    expect(decideRegistration(full)).toEqual({ kind: 'refuse', reason: 'event-full' });
  });
});

describe('refusal: which error wins', () => {
  it('says the event is unknown before anything else', () => {
    const error = refusal(facts({ event: undefined, userExists: false, alreadyRegistered: true }));

    expect(error?.code).toBe('EVENTS.EVENT_NOT_FOUND');
  });

  it('says the event is closed before the user is unknown', () => {
    const error = refusal(facts({ event: event({ status: 'cancelled' }), userExists: false }));

    expect(error?.code).toBe('EVENTS.EVENT_CLOSED');
  });

  it('says the user is unknown before a second registration', () => {
    const error = refusal(facts({ userExists: false, alreadyRegistered: true }));

    expect(error?.code).toBe('EVENTS.USER_NOT_FOUND');
  });

  it('says the user is already registered before the event is full', () => {
    expect(refusal(facts({ alreadyRegistered: true }))?.code).toBe('EVENTS.ALREADY_REGISTERED');
  });

  it('says the event is full when nothing else is wrong', () => {
    expect(refusal(facts())?.code).toBe('EVENTS.EVENT_FULL');
  });

  it('finds nothing to refuse when a seat is free (the commit should be tried again)', () => {
    expect(refusal(facts({ event: event({ registeredCount: 10 }) }))).toBeUndefined();
  });
});

describe('promotable', () => {
  it.each([
    [{ capacity: 10, registeredCount: 10, waitlistCount: 5 }, 0],
    [{ capacity: 12, registeredCount: 10, waitlistCount: 5 }, 2],
    [{ capacity: 20, registeredCount: 10, waitlistCount: 5 }, 5],
    [{ capacity: 20, registeredCount: 10, waitlistCount: 0 }, 0],
  ])('%o has %i seats to fill from the waitlist', (counts, expected) => {
    expect(promotable(event(counts))).toBe(expected);
  });
});

describe('decideUpdate', () => {
  it('refuses a capacity below the confirmed count (rule 1)', () => {
    const decision = decideUpdate(event({ registeredCount: 50 }), { capacity: 49 }, AT);

    expect(decision).toMatchObject({
      ok: false,
      error: { code: 'EVENTS.CAPACITY_BELOW_REGISTERED' },
    });
  });

  it('accepts a capacity equal to the confirmed count', () => {
    expect(decideUpdate(event({ registeredCount: 50 }), { capacity: 50 }, AT).ok).toBe(true);
  });

  it('promotes as many as the raised capacity frees, at most as many as wait', () => {
    const current = event({ capacity: 10, registeredCount: 10, waitlistCount: 3 });

    expect(decideUpdate(current, { capacity: 12 }, AT)).toMatchObject({
      ok: true,
      pass: { kind: 'promote', count: 2 },
    });
    expect(decideUpdate(current, { capacity: 20 }, AT)).toMatchObject({
      ok: true,
      pass: { kind: 'promote', count: 3 },
    });
  });

  it('promotes nobody for a change that frees no seat', () => {
    const current = event({ capacity: 10, registeredCount: 10, waitlistCount: 3 });

    expect(decideUpdate(current, { title: 'Renamed' }, AT)).toMatchObject({
      ok: true,
      pass: { kind: 'promote', count: 0 },
      next: { title: 'Renamed', updatedAt: NOW },
    });
  });
});

describe('decideUnregister', () => {
  const confirmed: Registration = { ...waitlisted(1), status: 'confirmed', ticket: undefined };

  it('frees the ticket of a waitlisted user who leaves', () => {
    expect(decideUnregister(waitlisted(3), event({ waitlistCount: 3 }), AT)).toEqual({
      kind: 'leave-waitlist',
    });
  });

  it('passes a confirmed user’s seat to the waitlist when someone waits', () => {
    expect(decideUnregister(confirmed, event({ waitlistCount: 1 }), AT)).toEqual({
      kind: 'pass-seat',
    });
  });

  it('frees the seat when nobody waits', () => {
    expect(decideUnregister(confirmed, event(), AT)).toEqual({ kind: 'free-seat' });
  });
});

describe('waitlistPosition', () => {
  it('counts every earlier ticket still holding a place', () => {
    expect(waitlistPosition(5, { issued: 5, frontier: 0, holes: [] })).toBe(5);
  });

  it('does not count tickets promoted past (the frontier)', () => {
    expect(waitlistPosition(5, { issued: 5, frontier: 3, holes: [] })).toBe(2);
  });

  it('does not count earlier tickets that left (holes), nor holes behind it', () => {
    expect(waitlistPosition(10, { issued: 12, frontier: 3, holes: [4, 7, 11] })).toBe(5);
  });

  it('ignores holes the frontier has already passed', () => {
    expect(waitlistPosition(6, { issued: 6, frontier: 4, holes: [2, 3] })).toBe(2);
  });

  it('puts a ticket at or below the frontier at the head', () => {
    expect(waitlistPosition(2, { issued: 9, frontier: 4, holes: [] })).toBe(1);
  });

  it('tells N joins in a row the places 1..N', () => {
    const places = [1, 2, 3, 4].map((ticket) =>
      waitlistPosition(ticket, { issued: ticket, frontier: 0, holes: [] }),
    );

    expect(places).toEqual([1, 2, 3, 4]);
  });
});

describe('afterPromotion', () => {
  it('moves the frontier to the highest promoted ticket and drops the holes it passed', () => {
    const next = afterPromotion({ issued: 10, frontier: 2, holes: [4, 6, 9] }, [
      waitlisted(3),
      waitlisted(5),
      waitlisted(7),
    ]);

    expect(next).toEqual({ frontier: 7, passedHoles: [4, 6] });
  });

  it('never moves the frontier back', () => {
    expect(afterPromotion({ issued: 10, frontier: 8, holes: [] }, [waitlisted(2)])).toEqual({
      frontier: 8,
      passedHoles: [],
    });
  });
});

describe('waitlist offers', () => {
  const offerMode = (overrides: Partial<Event> = {}) =>
    event({ promotion: 'offer', date: '2027-01-01', ...overrides });

  it('offers free seats while people wait, no more than the batch out at once', () => {
    const current = offerMode({
      capacity: 10,
      registeredCount: 5,
      waitlistCount: 9,
      offerBatch: 3,
    });
    expect(seatsToPass(current, AT)).toEqual({ kind: 'offer', count: 3 });
    expect(seatsToPass({ ...current, offeredCount: 2 }, AT)).toEqual({ kind: 'offer', count: 1 });
    expect(seatsToPass({ ...current, offeredCount: 3 }, AT)).toEqual({ kind: 'offer', count: 0 });
    // Held seats are taken: 5 confirmed + 3 held + 2 free.
    expect(freeSeats({ ...current, offeredCount: 3 })).toBe(2);
  });

  it('a newcomer waits behind the waitlist while free seats are kept for it', () => {
    const held = offerMode({ capacity: 3, registeredCount: 1, offeredCount: 1, waitlistCount: 2 });
    expect(decideRegistration(held, false, AT)).toEqual({ kind: 'waitlist' });
    // Nobody waiting, an offer out, a seat free: a newcomer takes the free one.
    expect(decideRegistration({ ...held, waitlistCount: 0 }, false, AT)).toEqual({
      kind: 'confirm',
    });
  });

  it('promotes at once once offers have closed, or for a closed event', () => {
    const closing = offerMode({
      date: '2026-11-22T12:00:00Z',
      offersCloseBefore: 3,
      capacity: 2,
      registeredCount: 1,
      waitlistCount: 1,
    });
    expect(offersOpen(closing, AT)).toBe(false);
    expect(seatsToPass(closing, AT)).toEqual({ kind: 'promote', count: 1 });
    expect(offersOpen(offerMode({ status: 'cancelled' }), AT)).toBe(false);
  });

  it('caps a deadline at the close of offers', () => {
    const current = offerMode({
      date: '2026-11-23',
      offersCloseBefore: 12,
      offerWindowSeconds: 86_400,
    });
    expect(offerDeadline(current, AT).toISOString()).toBe('2026-11-22T12:00:00.000Z');
    expect(offerDeadline({ ...current, offersCloseBefore: 0 }, AT).toISOString()).toBe(
      '2026-11-23T00:00:00.000Z',
    );
    expect(offerDeadline({ ...current, offerWindowSeconds: 60 }, AT).toISOString()).toBe(
      '2026-11-22T10:01:00.000Z',
    );
  });

  it('refuses a capacity below the confirmed and held seats', () => {
    const decision = decideUpdate(
      offerMode({ registeredCount: 5, offeredCount: 2 }),
      { capacity: 6 },
      AT,
    );
    expect(decision).toMatchObject({
      ok: false,
      error: { code: 'EVENTS.CAPACITY_BELOW_REGISTERED' },
    });
  });

  it('an offer token is 43 URL-safe characters that only its key verifies, unaltered', () => {
    const key = Buffer.alloc(32, 7);
    const id = randomId(16);
    const token = offerToken(key, id);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(offerIdOf(key, token)).toBe(id);
    expect(offerIdOf(Buffer.alloc(32, 8), token)).toBeUndefined();
    for (let i = 0; i < token.length; i++) {
      const altered = `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
      expect(offerIdOf(key, altered), `altered at ${i}`).toBeUndefined();
    }
    expect(offerIdOf(key, `${token}A`)).toBeUndefined();
    expect(offerIdOf(key, '')).toBeUndefined();
  });
});
