import { beforeAll, describe, expect, it } from 'vitest';
import type { RegistrationTimes } from '../../src/modules/events/events.stats.model.js';
import { HourlyTally, registrationChanges } from '../../src/modules/events/events.stats.rules.js';
import type { TestApp } from '../support/app.js';
import { delayCalls, type SdkCall } from '../support/faults.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUsers,
  expectProblem,
  register,
  uniqueId,
} from './fixtures.js';

interface HourStats {
  hour: string;
  registered: number;
  confirmed: number;
  offered: number;
  waitlisted: number;
}

interface EventStats {
  eventId: string;
  capacity: number;
  confirmed: number;
  offered: number;
  waitlisted: number;
  from: string;
  to: string;
  hours: HourStats[];
}

/** The hours' counts as compact rows: `hour registered/confirmed/offered/waitlisted`. */
const rows = (stats: EventStats) =>
  stats.hours.map(
    (h) => `${h.hour.slice(11, 16)} ${h.registered}/${h.confirmed}/${h.offered}/${h.waitlisted}`,
  );

describe('registration changes (pure)', () => {
  const ANCHOR = '2026-03-01T09:30:00.000Z';
  const at = (hhmm: string) => `2026-03-01T${hhmm}:00.000Z`;
  const times = (fields: Partial<RegistrationTimes>): RegistrationTimes => ({
    status: 'confirmed',
    registeredAt: at('10:00'),
    ...fields,
  });
  const tally = (...registrations: RegistrationTimes[]) => {
    const hours = new HourlyTally();
    for (const registration of registrations) hours.add(registrationChanges(registration));
    return hours;
  };
  const compact = (series: ReturnType<HourlyTally['series']>) =>
    series.hours.map(
      (h) => `${h.hour.slice(11, 16)} ${h.registered}/${h.confirmed}/${h.offered}/${h.waitlisted}`,
    );

  it('counts a seat taken at once as confirmed from its registration', () => {
    expect(compact(tally(times({})).series({}, ANCHOR))).toEqual(['10:00 1/1/0/0']);
  });

  it('counts a promoted registration as waiting until its promotion, then confirmed', () => {
    const promoted = times({ registeredAt: at('10:10'), promotedAt: at('12:30') });
    expect(compact(tally(promoted).series({}, ANCHOR))).toEqual([
      '10:00 1/0/0/1',
      '11:00 0/0/0/1',
      '12:00 0/1/0/0',
    ]);
  });

  it('follows an offer: waiting, then holding a seat, then confirmed once accepted', () => {
    const accepted = times({
      registeredAt: at('10:10'),
      offeredAt: at('11:05'),
      promotedAt: at('12:01'),
    });
    expect(compact(tally(accepted).series({}, ANCHOR))).toEqual([
      '10:00 1/0/0/1',
      '11:00 0/0/1/0',
      '12:00 0/1/0/0',
    ]);
  });

  it('ends a lapsed offer at its deadline and a declined one when declined', () => {
    const lapsed = times({
      status: 'expired',
      registeredAt: at('10:10'),
      offeredAt: at('10:20'),
      offerExpiresAt: at('11:20'),
    });
    const declined = times({
      status: 'declined',
      registeredAt: at('10:15'),
      offeredAt: at('11:30'),
      offerExpiresAt: at('14:30'),
      declinedAt: at('12:10'),
    });
    const still = times({ status: 'offered', registeredAt: at('10:40'), offeredAt: at('12:20') });
    const waiting = times({ status: 'waitlisted', registeredAt: at('12:50') });
    expect(compact(tally(lapsed, declined, still, waiting).series({}, ANCHOR))).toEqual([
      '10:00 3/0/1/2',
      '11:00 0/0/1/1',
      '12:00 1/0/1/1',
    ]);
  });

  it('starts a window later than the first change with the counts reached by then', () => {
    const hours = tally(
      times({ registeredAt: at('09:10') }),
      times({ status: 'waitlisted', registeredAt: at('09:20') }),
      times({ registeredAt: at('11:30') }),
    );
    const series = hours.series({ from: at('10:00'), to: at('12:00') }, ANCHOR);
    expect(compact(series)).toEqual(['10:00 0/1/0/1', '11:00 1/2/0/1']);
    expect([series.from, series.to]).toEqual([at('10:00'), at('12:00')]);
  });

  it('keeps at most 744 hours by default: the last ones before the latest change', () => {
    const hours = tally(
      times({ registeredAt: '2026-01-01T00:00:00.000Z' }),
      times({ registeredAt: '2026-03-01T00:30:00.000Z' }),
    );
    const series = hours.series({}, ANCHOR);
    expect(series.hours).toHaveLength(744);
    expect(series.to).toBe('2026-03-01T01:00:00.000Z');
    expect(series.hours[0]).toMatchObject({ confirmed: 1, registered: 0 });
    expect(series.hours.at(-1)).toMatchObject({ confirmed: 2, registered: 1 });
  });

  it('has no hours when nothing is stored, at the anchor’s hour', () => {
    expect(new HourlyTally().series({}, ANCHOR)).toEqual({
      from: '2026-03-01T09:00:00.000Z',
      to: '2026-03-01T09:00:00.000Z',
      hours: [],
    });
  });
});

describe('GET /events/{eventId}/stats', () => {
  let app: TestApp;
  let now = Date.parse('2026-03-01T10:05:00.000Z');
  const calls: SdkCall[] = [];

  beforeAll(async () => {
    app = await createEventsApp({
      clock: () => new Date(now),
      dynamo: (clients) => {
        // Records every call (a matcher that holds none): what one stats request reads.
        delayCalls(clients, {
          when: (call) => {
            calls.push(call);
            return false;
          },
        });
        return clients;
      },
    });
  });

  const stats = async (eventId: string, query = '') =>
    bodyOf<EventStats>(await app.call(`/events/${eventId}/stats${query}`), 200);

  /** Capacity 2 with a waitlist: two seats taken, two wait, the first leaves at 12:15. */
  async function seededEvent() {
    const { eventId } = await createEvent(app, {
      eventId: uniqueId('stats'),
      capacity: 2,
      hasWaitlist: true,
    });
    const [u1, u2, u3, u4] = await createUsers(app, 4);
    const steps: [string, () => Promise<unknown>][] = [
      ['10:05', () => register(app, eventId, u1.userId)],
      ['10:20', () => register(app, eventId, u2.userId)],
      ['11:10', () => register(app, eventId, u3.userId)],
      ['11:30', () => register(app, eventId, u4.userId)],
      [
        '12:15',
        () => app.call(`/events/${eventId}/registrations/${u1.userId}`, { method: 'DELETE' }),
      ],
    ];
    for (const [hhmm, step] of steps) {
      now = Date.parse(`2026-03-01T${hhmm}:00.000Z`);
      await step();
    }
    return eventId;
  }

  it('answers the counts now and, per hour, registrations made and the counts over time', async () => {
    const eventId = await seededEvent();

    const body = await stats(eventId);

    expect(body).toMatchObject({
      eventId,
      capacity: 2,
      confirmed: 2,
      offered: 0,
      waitlisted: 1,
      from: '2026-03-01T10:00:00.000Z',
      to: '2026-03-01T13:00:00.000Z',
    });
    // The first registrant left at 12:15 and their row went with them: 10:00 shows one
    // registration, one seat taken (what the stored rows can show); the third was promoted then.
    expect(rows(body)).toEqual(['10:00 1/1/0/0', '11:00 2/1/0/2', '12:00 0/2/0/1']);
  });

  it('reads only the window asked for, starting from the counts reached before it', async () => {
    const eventId = await seededEvent();

    const body = await stats(eventId, '?from=2026-03-01T11:00:00Z&to=2026-03-01T13:30:00%2B01:00');

    expect([body.from, body.to]).toEqual(['2026-03-01T11:00:00.000Z', '2026-03-01T13:00:00.000Z']);
    expect(rows(body)).toEqual(['11:00 2/1/0/2', '12:00 0/2/0/1']);
  });

  it('costs one query of the event’s registrations and one read of the event, no scan', async () => {
    const eventId = await seededEvent();
    calls.length = 0;

    await stats(eventId);

    const commands = calls.map((call) => call.command);
    expect(commands.sort()).toEqual(['GetItemCommand', 'QueryCommand']);
    expect(JSON.stringify(calls.find((call) => call.command === 'QueryCommand')?.input)).toContain(
      `EVENT#${eventId}`,
    );
  });

  it('answers an event nobody registered for with its capacity and no hours', async () => {
    const { eventId } = await createEvent(app, { eventId: uniqueId('empty'), capacity: 5 });

    expect(await stats(eventId)).toMatchObject({
      capacity: 5,
      confirmed: 0,
      waitlisted: 0,
      hours: [],
    });
  });

  it('answers 404 for an unknown event', async () => {
    await expectProblem(
      await app.call(`/events/${uniqueId('nope')}/stats`),
      404,
      'EVENTS.EVENT_NOT_FOUND',
    );
  });

  it.each([
    ['?from=yesterday', 'query.from'],
    ['?from=2026-03-01T12:00:00Z&to=2026-03-01T12:00:00Z', 'query.to'],
    ['?from=2026-03-01T00:00:00Z&to=2026-04-02T00:00:00Z', 'query.to'],
  ])('refuses %s with a 422 naming %s', async (query, path) => {
    const { eventId } = await createEvent(app, { eventId: uniqueId('bad') });
    const problem = await expectProblem(
      await app.call(`/events/${eventId}/stats${query}`),
      422,
      'REQUEST.VALIDATION_FAILED',
    );
    expect(problem.errors?.map((error) => error.path)).toEqual([path]);
  });
});
