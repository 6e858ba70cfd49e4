import { describe, expect, it } from 'vitest';
import type { Ports } from '../../src/platform/module.js';
import type { TimerPort } from '../../src/platform/timers/timers.js';
import { loggedEvents, type TestApp } from '../support/app.js';
import { commandIs, failCalls, throttled } from '../support/faults.js';
import { manualClock } from '../webhooks/fixtures.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  createUsers,
  eventRegistrations,
  expectProblem,
  getEvent,
  previousRelease,
  type Registration,
  register,
  registerAll,
  summary,
  uniqueId,
  userRegistrations,
} from './fixtures.js';

/*
 * Waitlist offers (offer mode): a freed seat is held for the head of the waitlist until a deadline,
 * accepted or declined through a signed link, passed on when it lapses. On DynamoDB Local with the
 * real app; the clock is injected, and the timers port records what the module set.
 */

interface SetTimer {
  readonly name: string;
  readonly at: Date;
  readonly body: { eventId: string; userId: string; offerId: string };
}

function recordingTimers(): TimerPort & { set: SetTimer[] } {
  const set: SetTimer[] = [];
  return {
    set,
    timers: () => ({
      set: async (name, at, body) => {
        set.push({ name, at, body: JSON.parse(body) });
      },
    }),
  };
}

const WINDOW = 3600;

async function offersApp() {
  // Near the real time: the outbox's event log is read by a window around it.
  const time = manualClock(Math.floor(Date.now() / 1000) * 1000);
  const timers = recordingTimers();
  const app = await createEventsApp({ clock: time.clock, ports: { timers } as Ports });
  return { app, time, timers };
}

/** An offer-mode event far enough ahead that offers are open. */
function offerEvent(app: TestApp, overrides: Record<string, unknown> = {}) {
  return createEvent(app, {
    capacity: 1,
    hasWaitlist: true,
    date: '2027-06-01',
    promotion: 'offer',
    offerWindowSeconds: WINDOW,
    ...overrides,
  });
}

const byUser = (registrations: readonly Registration[], userId: string) =>
  registrations.find((r) => r.userId === userId) as Registration;

/** A (capacity 1) offer event where A held the seat, left, and B now holds an offer; C waits. */
async function withOffer() {
  const setup = await offersApp();
  const { app } = setup;
  const event = await offerEvent(app);
  const [a, b, c] = await createUsers(app, 3);
  await registerAll(app, event.eventId, [a, b, c]);
  const left = await bodyOf<{ promoted: Registration[]; offered: Registration[] }>(
    await app.call(`/events/${event.eventId}/registrations/${a.userId}`, { method: 'DELETE' }),
    200,
  );
  const offered = byUser(await eventRegistrations(app, event.eventId), b.userId);
  // The unregister's answer says who was offered the seat, with the token to send them.
  expect(left).toMatchObject({ promoted: [], offered: [offered] });
  return { ...setup, event, a, b, c, offered, token: offered.offerToken as string };
}

const accept = (app: TestApp, token: string) =>
  app.call(`/offers/${token}/accept`, { method: 'POST' });
const decline = (app: TestApp, token: string) =>
  app.call(`/offers/${token}/decline`, { method: 'POST' });

describe('waitlist offers', () => {
  it('offers a freed seat to the head of the waitlist, holding it until the deadline', async () => {
    const { app, event, b, c, offered, timers, time } = await withOffer();
    expect(offered).toMatchObject({
      status: 'offered',
      offeredAt: new Date(time.now()).toISOString(),
      offerExpiresAt: new Date(time.now() + WINDOW * 1000).toISOString(),
      offerToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(offered).not.toHaveProperty('waitlistPosition');
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 0,
      offeredCount: 1,
      waitlistCount: 1,
    });
    expect(summary(await eventRegistrations(app, event.eventId))).toEqual([
      `${b.userId}:offered`,
      `${c.userId}:waitlisted:1`,
    ]);
    // The user's own list shows it with its deadline too.
    expect((await userRegistrations(app, b.userId))[0]).toMatchObject({
      status: 'offered',
      offerExpiresAt: offered.offerExpiresAt,
    });
    // Its timer, at the deadline, naming the offer.
    expect(timers.set).toEqual([
      expect.objectContaining({
        at: new Date(offered.offerExpiresAt as string),
        body: { eventId: event.eventId, userId: b.userId, offerId: expect.any(String) },
      }),
    ]);
    // Announced with the token, so the organiser's system can send the link.
    const announced = (await loggedEvents(app)).filter((e) => e.type === 'registration.offered');
    expect(announced.map((e) => e.data)).toEqual([
      expect.objectContaining({ userId: b.userId, offerToken: offered.offerToken }),
    ]);
    // A newcomer does not take the held seat: it waits behind C.
    const [d] = await createUsers(app, 1, 'late');
    expect(await register(app, event.eventId, d.userId)).toMatchObject({
      status: 'waitlisted',
      waitlistPosition: 2,
    });
  });

  it('accepts up to the last millisecond before the deadline, with no API key', async () => {
    const { app, event, b, token, offered, time } = await withOffer();
    time.set(Date.parse(offered.offerExpiresAt as string) - 1);
    const res = await app.app.request(`/offers/${token}/accept`, { method: 'POST' });
    expect(await bodyOf(res, 200)).toMatchObject({
      status: 'accepted',
      eventId: event.eventId,
      userId: b.userId,
    });
    expect(byUser(await eventRegistrations(app, event.eventId), b.userId)).toMatchObject({
      status: 'confirmed',
      promotedAt: new Date(time.now()).toISOString(),
    });
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 1,
      offeredCount: 0,
      waitlistCount: 1,
    });
    // Again: the same answer, nothing more.
    expect(await bodyOf(await accept(app, token), 200)).toMatchObject({ status: 'accepted' });
    await expectProblem(await decline(app, token), 409, 'EVENTS.OFFER_ACCEPTED');
  });

  it('refuses an accept at the deadline (410) and passes the seat on', async () => {
    const { app, event, b, c, token, offered, time } = await withOffer();
    time.set(Date.parse(offered.offerExpiresAt as string));
    await expectProblem(await accept(app, token), 410, 'EVENTS.OFFER_EXPIRED');
    const after = await eventRegistrations(app, event.eventId);
    expect(summary(after)).toEqual([`${c.userId}:offered`, `${b.userId}:expired`]);
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 0,
      offeredCount: 1,
      waitlistCount: 0,
    });
    expect(await bodyOf(await app.call(`/offers/${token}`), 200)).toMatchObject({
      status: 'expired',
      decidedAt: offered.offerExpiresAt,
    });
  });

  it('lapses an offer when its timer fires, not before', async () => {
    const { app, event, b, c, offered, timers, time } = await withOffer();
    const [timer] = timers.set;
    const lapse = () => app.servicesOf(eventsModuleOf(app)).offers.lapse(timer?.body as never);
    expect(await lapse()).toBe('not-due');
    time.set(Date.parse(offered.offerExpiresAt as string));
    expect(await lapse()).toBe('lapsed');
    expect(await lapse()).toBe('settled');
    expect(summary(await eventRegistrations(app, event.eventId))).toEqual([
      `${c.userId}:offered`,
      `${b.userId}:expired`,
    ]);
    const types = (await loggedEvents(app)).map((e) => e.type);
    expect(types.filter((t) => t === 'registration.offer_expired')).toHaveLength(1);
  });

  it('declining passes the seat to the next; the declined offer stays listed', async () => {
    const { app, event, b, c, token } = await withOffer();
    expect(await bodyOf(await decline(app, token), 200)).toMatchObject({ status: 'declined' });
    expect(await bodyOf(await decline(app, token), 200)).toMatchObject({ status: 'declined' });
    await expectProblem(await accept(app, token), 409, 'EVENTS.OFFER_DECLINED');
    const after = await eventRegistrations(app, event.eventId);
    expect(summary(after)).toEqual([`${c.userId}:offered`, `${b.userId}:declined`]);
    expect(byUser(after, b.userId).declinedAt).toBeDefined();
    // B may register again: to the back of the queue, replacing the record.
    expect(await register(app, event.eventId, b.userId)).toMatchObject({
      status: 'waitlisted',
      waitlistPosition: 1,
    });
  });

  it('refuses a forged or altered token with a 404 and changes nothing', async () => {
    const { app, event, token } = await withOffer();
    const before = await eventRegistrations(app, event.eventId);
    const flipped = `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
    for (const bad of [flipped, 'x'.repeat(43), 'short', `${token}x`, 'y'.repeat(500)]) {
      await expectProblem(await accept(app, bad), 404, 'EVENTS.OFFER_NOT_FOUND');
      await expectProblem(await decline(app, bad), 404, 'EVENTS.OFFER_NOT_FOUND');
    }
    expect(await eventRegistrations(app, event.eventId)).toEqual(before);
  });

  it('50 parallel accepts of one token: one commit, every answer the accepted offer', async () => {
    const { app, event, b, token } = await withOffer();
    const answers = await Promise.all(Array.from({ length: 50 }, () => accept(app, token)));
    const statuses = answers.map((res) => res.status);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(byUser(await eventRegistrations(app, event.eventId), b.userId).status).toBe('confirmed');
    const promoted = (await loggedEvents(app)).filter((e) => e.type === 'registration.promoted');
    expect(promoted).toHaveLength(1);
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 1,
      offeredCount: 0,
    });
  });

  it('lets the organiser accept or decline through the API', async () => {
    const { app, event, b, c } = await withOffer();
    const path = (userId: string, action: string) =>
      `/events/${event.eventId}/registrations/${userId}/offer/${action}`;
    expect(
      await bodyOf(await app.call(path(b.userId, 'decline'), { method: 'POST' }), 200),
    ).toMatchObject({ status: 'declined' });
    expect(
      await bodyOf(await app.call(path(c.userId, 'accept'), { method: 'POST' }), 200),
    ).toMatchObject({ status: 'confirmed' });
    await expectProblem(
      await app.call(path(c.userId, 'decline'), { method: 'POST' }),
      409,
      'EVENTS.OFFER_ACCEPTED',
    );
    const [d] = await createUsers(app, 1, 'nooffer');
    await register(app, event.eventId, d.userId);
    await expectProblem(
      await app.call(path(d.userId, 'accept'), { method: 'POST' }),
      409,
      'EVENTS.NOT_OFFERED',
    );
    await expectProblem(
      await app.call(path(uniqueId('ghost'), 'accept'), { method: 'POST' }),
      404,
      'EVENTS.REGISTRATION_NOT_FOUND',
    );
  });

  it('keeps at most offerBatch offers out; added seats wait for the waitlist, not newcomers', async () => {
    const { app } = await offersApp();
    const event = await offerEvent(app, { capacity: 1, offerBatch: 2 });
    const users = await createUsers(app, 5);
    await registerAll(app, event.eventId, users);
    const raised = await bodyOf(
      await app.call(`/events/${event.eventId}`, { method: 'PUT', json: { capacity: 4 } }),
      200,
    );
    // Three seats added, two offered (the batch), one free and kept for the waitlist.
    expect(raised).toMatchObject({ registeredCount: 1, offeredCount: 2, waitlistCount: 2 });
    const [late] = await createUsers(app, 1, 'late');
    expect((await register(app, event.eventId, late.userId)).status).toBe('waitlisted');
    // Lowering below confirmed + held is refused.
    await expectProblem(
      await app.call(`/events/${event.eventId}`, { method: 'PUT', json: { capacity: 2 } }),
      409,
      'EVENTS.CAPACITY_BELOW_REGISTERED',
    );
    // An accept frees a slot in the batch: the free seat is offered to the next.
    const offered = (await eventRegistrations(app, event.eventId)).filter(
      (r) => r.status === 'offered',
    );
    await bodyOf(await accept(app, offered[0]?.offerToken as string), 200);
    expect(await getEvent(app, event.eventId)).toMatchObject({
      registeredCount: 2,
      offeredCount: 2,
      waitlistCount: 2,
    });
  });

  it('promotes at once when offers have closed before the event', async () => {
    const { app, time } = await offersApp();
    const start = new Date(time.now() + 2 * 3_600_000).toISOString();
    const event = await offerEvent(app, { date: start, offersCloseBefore: 3 });
    const [a, b] = await createUsers(app, 2);
    await registerAll(app, event.eventId, [a, b]);
    const res = await app.call(`/events/${event.eventId}/registrations/${a.userId}`, {
      method: 'DELETE',
    });
    expect((await bodyOf<{ promoted: Registration[] }>(res, 200)).promoted).toEqual([
      expect.objectContaining({ userId: b.userId, status: 'confirmed' }),
    ]);
  });

  it('caps an offer at the close of offers', async () => {
    const { app, time } = await offersApp();
    const start = Date.parse('2027-06-01T00:00:00Z');
    time.set(start - 25 * 3_600_000);
    const event = await offerEvent(app, { offerWindowSeconds: 7200, offersCloseBefore: 24 });
    const [a, b] = await createUsers(app, 2);
    await registerAll(app, event.eventId, [a, b]);
    await app.call(`/events/${event.eventId}/registrations/${a.userId}`, { method: 'DELETE' });
    expect(byUser(await eventRegistrations(app, event.eventId), b.userId)).toMatchObject({
      status: 'offered',
      offerExpiresAt: new Date(start - 24 * 3_600_000).toISOString(),
    });
  });

  it('sweeps offers no timer lapsed, and sets the timers of those still out again', async () => {
    const { app, event, b, c, offered, timers, time } = await withOffer();
    const { offers } = app.servicesOf(eventsModuleOf(app));
    timers.set.length = 0;
    expect(await offers.sweep({ rearm: true })).toEqual({ lapsed: 0, rearmed: 1 });
    expect(timers.set.map((t) => t.body.userId)).toEqual([b.userId]);
    time.set(Date.parse(offered.offerExpiresAt as string) + 1000);
    expect((await offers.sweep({ rearm: false })).lapsed).toBe(1);
    expect(summary(await eventRegistrations(app, event.eventId))).toEqual([
      `${c.userId}:offered`,
      `${b.userId}:expired`,
    ]);
  });

  it('lets an offer lapse on an event whose deletion was interrupted, and sweeps past it', async () => {
    const { app, event, offered, timers, time } = await withOffer();
    const { offers } = app.servicesOf(eventsModuleOf(app));
    // The deletion marks the event, then its removal of the rows fails: 503, the event stays
    // marked until the deletion sweep finishes it.
    const blocked = failCalls(app.dynamo, {
      when: commandIs('BatchWriteItem'),
      times: Number.POSITIVE_INFINITY,
      error: throttled(),
    });
    expect((await app.call(`/events/${event.eventId}`, { method: 'DELETE' })).status).toBe(503);
    expect(blocked.failed()).toBeGreaterThan(0);
    time.set(Date.parse(offered.offerExpiresAt as string) + 60_000);
    // The offer's timer: nothing to lapse any more (the event is going), not a retry loop.
    expect(await offers.lapse(timers.set[0]?.body as never)).toBe('settled');
    // The sweep and the start-up re-arm get past it rather than stopping there.
    await expect(offers.sweep({ rearm: true })).resolves.toMatchObject({ lapsed: 0 });
  });

  it('works on an event the previous release wrote, and switches it to offers', async () => {
    const { app } = await offersApp();
    const eventId = uniqueId('old');
    const old = previousRelease(app, eventId);
    const [a, b] = await createUsers(app, 2);
    await old.event({
      registeredCount: 1,
      waitlistCount: 1,
      waitlistIssued: 1,
      waitlistFrontier: 0,
      date: '2027-06-01',
    });
    await old.registration(a.userId, 1);
    await old.registration(b.userId, 2, 1);
    expect(await getEvent(app, eventId)).toMatchObject({
      promotion: 'instant',
      offeredCount: 0,
      registeredCount: 1,
    });
    await bodyOf(
      await app.call(`/events/${eventId}`, { method: 'PUT', json: { promotion: 'offer' } }),
      200,
    );
    await app.call(`/events/${eventId}/registrations/${a.userId}`, { method: 'DELETE' });
    expect(summary(await eventRegistrations(app, eventId))).toEqual([`${b.userId}:offered`]);
  });

  it('validates the offer settings', async () => {
    const { app } = await offersApp();
    for (const [field, value] of [
      ['promotion', 'lottery'],
      ['offerWindowSeconds', 59],
      ['offerWindowSeconds', 604_801],
      ['offerBatch', 0],
      ['offersCloseBefore', -1],
    ] as const) {
      const res = await app.call('/events', {
        method: 'POST',
        json: {
          title: 't',
          description: 'd',
          date: '2027-01-01',
          location: 'l',
          capacity: 1,
          organizer: 'o',
          [field]: value,
        },
      });
      const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
      expect(problem.errors?.[0]?.path).toBe(`body.${field}`);
    }
  });
});

function eventsModuleOf(app: TestApp) {
  const found = app.modules.find((m) => m.name === 'events');
  if (!found) throw new Error('no events module');
  return found as typeof import('../../src/modules/events/events.module.js').eventsModule;
}
