import { describe, expect, it } from 'vitest';
import {
  admissionArg,
  admissionRate,
  duplicateRows,
  type KeyCharge,
  numbersArg,
  orderInversions,
  overtakes,
  promotionOrder,
  REGISTRATION_CHARGES,
  registrationCeiling,
  retryable,
  retryDelayMs,
  scaleWithin,
  simulateArg,
  unsoldSeats,
  waitlistArg,
} from '../../bench/support/hot-event.rules.js';

describe('the hot-event ceiling', () => {
  it('is the event key at 1,000 WCU/s over 4 WCU per confirmation: 250 confirmations/s', () => {
    const { binding } = registrationCeiling(1_000, 1, { confirmed: 100, waitlisted: 0 });

    expect(binding.key).toBe('events EVENT#<id>');
    expect(binding.wcuPerRegistration).toBe(4);
    expect(binding.registrationsPerSecond).toBe(250);
  });

  it('weighs confirmations and waitlist joins by the mix: 2 seats to 1 join is 13/3 WCU', () => {
    const { binding } = registrationCeiling(50, 1, { confirmed: 600, waitlisted: 300 });

    expect(binding.wcuPerRegistration).toBeCloseTo(13 / 3, 9);
    expect(binding.registrationsPerSecond).toBeCloseTo(150 / 13, 9);
  });

  it('spreads the event key and the ticket index key over 16 shards: the shard keys still bind', () => {
    const { binding, perKey } = registrationCeiling(50, 16, { confirmed: 600, waitlisted: 300 });
    const ticketKeys = perKey.find((ceiling) => ceiling.key === 'events/gsi3 TICKETS#<id>');

    expect(binding.key).toBe('events EVENT#<id>');
    expect(binding.wcuPerRegistration).toBeCloseTo(13 / 3 / 16, 9);
    expect(binding.registrationsPerSecond).toBeCloseTo((50 * 16 * 3) / 13, 9);
    // 2 of 3 registrations write a ticket key, one of 16: 50 WCU/s each carry 1,200/s.
    expect(ticketKeys?.registrationsPerSecond).toBeCloseTo(1_200, 9);
  });

  it('takes 16 times the confirmations of one shard at 16, the outbox keys next', () => {
    const seats = { confirmed: 600, waitlisted: 0 };
    const one = registrationCeiling(50, 1, seats).binding;
    const { binding, perKey } = registrationCeiling(50, 16, seats);

    expect(one.registrationsPerSecond).toBe(12.5);
    expect(binding.registrationsPerSecond).toBe(200);
    const outbox = perKey.find((c) => c.key === 'domain-events/gsi1 PENDING#<0-7>');
    expect(outbox?.registrationsPerSecond).toBe(400);
  });

  it("charges a sharded event's registrations nothing on the event item's index keys", () => {
    const seats = { confirmed: 600, waitlisted: 0 };
    const billed = (shards: number) =>
      registrationCeiling(1_000, shards, seats, { billing: 'dynamodb' }).perKey.find(
        (c) => c.key === 'events/gsi2 EVENTS',
      );

    expect(billed(1)?.registrationsPerSecond).toBe(1_000);
    expect(billed(16)?.registrationsPerSecond).toBe(Number.POSITIVE_INFINITY);
  });

  it('adds on DynamoDB what the simulation does not charge: the lsi1 entry, 5 WCU a seat', () => {
    const { binding, perKey } = registrationCeiling(
      1_000,
      1,
      { confirmed: 600, waitlisted: 300 },
      { billing: 'dynamodb' },
    );
    const everyEvent = perKey.find((ceiling) => ceiling.key === 'events/gsi2 EVENTS');

    expect(binding.key).toBe('events EVENT#<id>');
    expect(binding.registrationsPerSecond).toBeCloseTo(3_000 / 16, 9);
    // The event item's list entry, rewritten by each update: 4/3 WCU a registration.
    expect(everyEvent?.registrationsPerSecond).toBeCloseTo(750, 9);
  });

  it('charges nothing to the event item’s index keys under the simulation', () => {
    const { perKey } = registrationCeiling(50, 1, { confirmed: 1, waitlisted: 1 });

    expect(perKey.find((ceiling) => ceiling.key === 'events/gsi2 EVENTS')).toMatchObject({
      wcuPerRegistration: 0,
      registrationsPerSecond: Number.POSITIVE_INFINITY,
    });
  });

  it('takes no ceiling from a key the mix never writes', () => {
    const onlySeats: KeyCharge = {
      key: 'seats',
      why: 'test',
      keys: () => 1,
      simulated: { confirmed: 2, waitlisted: 0 },
    };
    const { perKey } = registrationCeiling(
      10,
      1,
      { confirmed: 0, waitlisted: 5 },
      { charges: [onlySeats] },
    );

    expect(perKey[0]?.registrationsPerSecond).toBe(Number.POSITIVE_INFINITY);
  });

  it('names every shared key once', () => {
    const keys = REGISTRATION_CHARGES.map((charge) => charge.key);

    expect(new Set(keys).size).toBe(keys.length);
  });

  it('refuses a mix of no registrations', () => {
    expect(() => registrationCeiling(50, 1, { confirmed: 0, waitlisted: 0 })).toThrow(RangeError);
  });
});

describe('the scale a run needs', () => {
  it('keeps the simulated ceiling within half of what DynamoDB Local commits alone', () => {
    // 75/s at 1/20 against 73.4/s alone: at most 36.7/s, so at most 1/41 (1/40 gives 37.5/s).
    expect(scaleWithin(75, 1 / 20, 73.4)).toBe(1 / 41);
    expect(scaleWithin(50, 1 / 20, 200)).toBe(1 / 10);
  });

  it('keeps a scale that already fits exactly', () => {
    expect(scaleWithin(10, 1 / 20, 20)).toBe(1 / 20);
  });
});

describe('a run read back', () => {
  it('counts the seats left empty while people waited as unsold', () => {
    expect(unsoldSeats({ capacity: 600, confirmed: 590, waitlisted: 300, unplaced: 0 })).toBe(10);
  });

  it('counts the seats left empty while people were never placed as unsold', () => {
    expect(unsoldSeats({ capacity: 600, confirmed: 590, waitlisted: 0, unplaced: 4 })).toBe(10);
  });

  it('counts the seats left empty while people were told the event is full as unsold', () => {
    expect(
      unsoldSeats({ capacity: 600, confirmed: 598, waitlisted: 0, unplaced: 0, toldFull: 300 }),
    ).toBe(2);
  });

  it('does not count seats nobody wanted as unsold', () => {
    expect(unsoldSeats({ capacity: 600, confirmed: 400, waitlisted: 0, unplaced: 0 })).toBe(0);
  });

  it('counts every row beyond a user’s first as a duplicate', () => {
    expect(duplicateRows(['a', 'b', 'a', 'c', 'a'])).toBe(2);
    expect(duplicateRows(['a', 'b'])).toBe(0);
  });
});

describe('the waitlist against join order', () => {
  const entries = (times: readonly number[]) => times.map((at, i) => ({ ticket: i + 1, at }));

  it('finds nothing inverted when tickets follow the answers, ties included', () => {
    expect(orderInversions(entries([10, 20, 20, 30]))).toEqual({
      waiting: 4,
      inverted: 0,
      largestMs: 0,
      largestPlaces: 0,
    });
    expect(orderInversions([])).toEqual({
      waiting: 0,
      inverted: 0,
      largestMs: 0,
      largestPlaces: 0,
    });
  });

  it('counts a late ticket answered early as inverted against every ticket before it answered later', () => {
    // Ticket 5 was answered at 15 ms, before tickets 2, 3 and 4: 3 pairs, 25 ms, 3 places.
    expect(orderInversions(entries([10, 20, 30, 40, 15]))).toEqual({
      waiting: 5,
      inverted: 3,
      largestMs: 25,
      largestPlaces: 3,
    });
  });

  it('orders by ticket whatever order the entries come in', () => {
    const shuffled = [
      { ticket: 9, at: 100 },
      { ticket: 3, at: 200 },
      { ticket: 7, at: 50 },
    ];
    // By ticket: 3 (200), 7 (50), 9 (100): 3 > 7 and 3 > 9 inverted, 7 before 9 not.
    expect(orderInversions(shuffled)).toEqual({
      waiting: 3,
      inverted: 2,
      largestMs: 150,
      largestPlaces: 2,
    });
  });

  it('agrees with every pair compared', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const times = Array.from({ length: 300 }, (_, i) => i * 10 + Math.floor(random() * 400));
    let inverted = 0;
    let largestMs = 0;
    let largestPlaces = 0;
    for (let i = 0; i < times.length; i++) {
      for (let j = i + 1; j < times.length; j++) {
        const gap = (times[i] as number) - (times[j] as number);
        if (gap <= 0) continue;
        inverted++;
        largestMs = Math.max(largestMs, gap);
        largestPlaces = Math.max(largestPlaces, j - i);
      }
    }

    expect(orderInversions(entries(times))).toEqual({
      waiting: 300,
      inverted,
      largestMs,
      largestPlaces,
    });
    expect(inverted).toBeGreaterThan(0);
  });
});

describe('joins that overtook one already answered', () => {
  it('counts a lower ticket whose request was sent after a higher ticket’s answer came back', () => {
    expect(
      overtakes([
        { ticket: 1, sent: 50, answered: 60 },
        { ticket: 2, sent: 0, answered: 20 },
        { ticket: 3, sent: 10, answered: 30 },
      ]),
    ).toEqual({ waiting: 3, inverted: 2, largestMs: 30, largestPlaces: 2 });
  });

  it('counts no pair whose requests overlapped, whatever their tickets', () => {
    expect(
      overtakes([
        { ticket: 1, sent: 15, answered: 40 },
        { ticket: 2, sent: 0, answered: 20 },
        { ticket: 3, sent: 5, answered: 15 },
      ]),
    ).toEqual({ waiting: 3, inverted: 0, largestMs: 0, largestPlaces: 0 });
  });

  it('is the inversions of one order when each request is an instant', () => {
    const times = [40, 10, 30, 30, 0, 70, 20];
    const entries = times.map((at, i) => ({ ticket: i + 1, at }));
    const instants = times.map((at, i) => ({ ticket: i + 1, sent: at, answered: at }));

    expect(overtakes(instants)).toEqual(orderInversions(entries));
  });
});

describe('promotions against the waitlist', () => {
  const waiting = [
    { userId: 'd', ticket: 14 },
    { userId: 'a', ticket: 3 },
    { userId: 'c', ticket: 9 },
    { userId: 'b', ticket: 5 },
  ];

  it('finds none out of order when the freed seats went to the lowest tickets', () => {
    expect(promotionOrder(waiting, ['b', 'a', 'c'])).toEqual({ promoted: 3, outOfOrder: 0 });
    expect(promotionOrder(waiting, [])).toEqual({ promoted: 0, outOfOrder: 0 });
  });

  it('counts each promoted user past the lowest tickets, or not waiting at all', () => {
    // Two seats: a and b were owed them; d (ticket 14) passed over b.
    expect(promotionOrder(waiting, ['a', 'd'])).toEqual({ promoted: 2, outOfOrder: 1 });
    expect(promotionOrder(waiting, ['a', 'x'])).toEqual({ promoted: 2, outOfOrder: 1 });
  });

  it('counts a user promoted twice as a seat owed to someone else', () => {
    expect(promotionOrder(waiting, ['a', 'a'])).toEqual({ promoted: 2, outOfOrder: 1 });
  });
});

describe('what a client tries again', () => {
  it('tries no answer, a 5xx, a 429 and a 409 with Retry-After again; nothing else', () => {
    const answer = (status: number | 'transport', retryAfter: string | null = null) => ({
      status,
      retryAfter,
    });
    for (const again of [
      answer('transport'),
      answer(503, '1'),
      answer(500),
      answer(429),
      answer(409, '5'),
    ]) {
      expect(retryable(again)).toBe(true);
    }
    for (const final of [answer(201), answer(409), answer(403), answer(404), answer(422)]) {
      expect(retryable(final)).toBe(false);
    }
  });
});

describe('the client’s wait before a retry', () => {
  it('waits what Retry-After asks, and up to half of it more', () => {
    expect(retryDelayMs('2', 0, 0)).toBe(2_000);
    expect(retryDelayMs('2', 5, 0.999)).toBeCloseTo(2_999, 0);
  });

  it('reads a Retry-After date', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');

    expect(retryDelayMs('Tue, 01 Jan 2030 00:00:03 GMT', 0, 0, now)).toBe(3_000);
  });

  it('backs off exponentially with full jitter without Retry-After, capped at 5 s', () => {
    expect(retryDelayMs(null, 0, 0.5)).toBe(50);
    expect(retryDelayMs(null, 3, 0.5)).toBe(400);
    expect(retryDelayMs('soon', 20, 0.5)).toBe(2_500);
  });
});

describe('the bench’s arguments', () => {
  it('reads lists of numbers and fractions, with a default', () => {
    expect(numbersArg(['--shards=1,16'], 'shards', [1])).toEqual([1, 16]);
    expect(numbersArg(['--scale=1/20'], 'scale', [1])).toEqual([0.05]);
    expect(numbersArg([], 'shards', [1])).toEqual([1]);
  });

  it('refuses what is not a positive number', () => {
    expect(() => numbersArg(['--shards=1,x'], 'shards', [1])).toThrow('"x"');
    expect(() => numbersArg(['--shards=0'], 'shards', [1])).toThrow('"0"');
    expect(() => numbersArg(['--shards=1,'], 'shards', [1])).toThrow();
  });

  it('takes a waitlist, sharded or not, unless told', () => {
    expect(waitlistArg([])).toBe(true);
    expect(waitlistArg(['--shards=1,16'])).toBe(true);
    expect(waitlistArg(['--waitlist=on'])).toBe(true);
    expect(waitlistArg(['--waitlist=off', '--shards=1,16'])).toBe(false);
    expect(() => waitlistArg(['--waitlist=yes'])).toThrow('"on" or "off"');
  });

  it('reads --admission as off or a share of the ceiling, and rounds the rate down to whole positions', () => {
    expect(admissionArg([])).toBeUndefined();
    expect(admissionArg(['--admission=off'])).toBeUndefined();
    expect(admissionArg(['--admission=0.9'])).toBe(0.9);
    expect(() => admissionArg(['--admission=1.5'])).toThrow('share of the ceiling');
    expect(() => admissionArg(['--admission=on'])).toThrow('share of the ceiling');
    expect(admissionRate(59.3, 0.9)).toBe(53);
    expect(admissionRate(0.5, 0.9)).toBe(1);
  });

  it('runs simulated, then not, unless told', () => {
    expect(simulateArg([])).toEqual([true, false]);
    expect(simulateArg(['--simulate=off'])).toEqual([false]);
    expect(() => simulateArg(['--simulate=maybe'])).toThrow('"on" or "off"');
  });
});
