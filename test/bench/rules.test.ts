import { describe, expect, it } from 'vitest';
import {
  duplicateRows,
  type KeyCharge,
  numbersArg,
  REGISTRATION_CHARGES,
  registrationCeiling,
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

  it('takes a waitlist unless a sharded run is asked for, or told', () => {
    expect(waitlistArg([], [1])).toBe(true);
    expect(waitlistArg([], [1, 16])).toBe(false);
    expect(waitlistArg(['--waitlist=on'], [16])).toBe(true);
    expect(waitlistArg(['--waitlist=off'], [1])).toBe(false);
    expect(() => waitlistArg(['--waitlist=yes'], [1])).toThrow('"on" or "off"');
  });

  it('runs simulated, then not, unless told', () => {
    expect(simulateArg([])).toEqual([true, false]);
    expect(simulateArg(['--simulate=off'])).toEqual([false]);
    expect(() => simulateArg(['--simulate=maybe'])).toThrow('"on" or "off"');
  });
});
