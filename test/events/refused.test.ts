import { DeleteItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { eventsKeys } from '../../src/modules/events/events.dynamo.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import type { TransactItem } from '../../src/platform/dynamo/table.js';
import type { TestApp } from '../support/app.js';
import {
  createEvent,
  createEventsApp,
  createUsers,
  expectProblem,
  registerAll,
  uniqueId,
} from './fixtures.js';

/**
 * A refused registration changes nothing, the event item included: a waitlist join used to take
 * its ticket before it knew the user, so every refused join on a full event left a hole on the
 * event item (40 refused at once: 39 holes; ~7k: 53 KB of them, and every write to the event
 * slower for it).
 */

/**
 * The 10,000 pass too, but take DynamoDB Local 10 s or more (each refusal is one read
 * at least); the suite runs a tenth of them, which the defect turned into some 700 holes.
 */
const REFUSED = 1_000;
/** Of them, sent through HTTP (the rest call the service, as the routes do, without HTTP). */
const THROUGH_HTTP = 100;
/** At once; the service runs 16 per event and queues the rest. */
const AT_ONCE = 64;

/** The event item exactly as stored: DynamoDB's own JSON, attribute by attribute. */
async function rawEventItem(app: TestApp, eventId: string) {
  const { Item } = await app.dynamo.client.send(
    new GetItemCommand({
      TableName: app.config.tables.events,
      Key: marshall(eventsKeys.event(eventId)),
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** Runs `run` over `items`, `width` at a time (a new one starts as soon as one ends). */
async function atOnce<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await run(items[next++] as T);
  };
  await Promise.all(Array.from({ length: width }, lane));
}

describe('refused registrations', () => {
  it(`leaves the event items byte-identical after ${REFUSED} refusals, ${AT_ONCE} at a time`, async () => {
    const app = await createEventsApp();
    const { registrations: events } = app.servicesOf(eventsModule);
    const { eventId: full } = await createEvent(app, {
      eventId: uniqueId('full'),
      capacity: 1,
      hasWaitlist: true,
    });
    const { eventId: cancelled } = await createEvent(app, {
      eventId: uniqueId('cancelled'),
      capacity: 5,
      hasWaitlist: true,
    });
    const [seated, waiting, other] = await createUsers(app, 3);
    // The second is waitlisted: this process now knows the event is full, and sends joins
    // straight to the waitlist (where the holes came from).
    await registerAll(app, full, [seated, waiting]);
    await registerAll(app, cancelled, [other]);
    const put = await app.call(`/events/${cancelled}`, {
      method: 'PUT',
      json: { status: 'cancelled' },
    });
    expect(put.status).toBe(200);
    const before = [await rawEventItem(app, full), await rawEventItem(app, cancelled)];

    // Unknown users of the full event, its registered users again, anyone on the cancelled one.
    const attempts = Array.from({ length: REFUSED }, (_, i) => {
      if (i % 8 < 5) return { eventId: full, userId: `ghost-${i}`, code: 'EVENTS.USER_NOT_FOUND' };
      if (i % 8 < 7) {
        const { userId } = i % 2 === 0 ? seated : waiting;
        return { eventId: full, userId, code: 'EVENTS.ALREADY_REGISTERED' };
      }
      const userId = i % 16 === 7 ? other.userId : `ghost-${i}`;
      return { eventId: cancelled, userId, code: 'EVENTS.EVENT_CLOSED' };
    });
    const wrong: string[] = [];
    await atOnce(attempts.slice(THROUGH_HTTP), AT_ONCE, async ({ eventId, userId, code }) => {
      const outcome = await events.register(eventId, userId).then(
        () => 'registered',
        (error: { code?: string }) => error.code,
      );
      if (outcome !== code) wrong.push(`${userId} → ${eventId}: ${outcome}, expected ${code}`);
    });
    await atOnce(attempts.slice(0, THROUGH_HTTP), AT_ONCE, async ({ eventId, userId, code }) => {
      const res = await app.call(`/events/${eventId}/registrations`, {
        method: 'POST',
        json: { userId },
      });
      await expectProblem(res, code === 'EVENTS.USER_NOT_FOUND' ? 404 : 409, code);
    });

    expect(wrong.slice(0, 5), `${wrong.length} answered otherwise`).toEqual([]);
    expect([await rawEventItem(app, full), await rawEventItem(app, cancelled)]).toEqual(before);
  });

  it('leaves no trace that grows when users vanish between the check and the commit', async () => {
    // Users can't be deleted through the API; one removed by hand right before a join commits is
    // the one refusal found only after a ticket was taken.
    const app = await createEventsApp({
      dynamo: (clients) => {
        clients.client.middlewareStack.add(
          (next, context) => async (args) => {
            const input = (args as { input?: { TransactItems?: TransactItem[] } }).input;
            const user: unknown = input?.TransactItems?.find((item) => item.ConditionCheck)
              ?.ConditionCheck?.Key?.PK;
            const waitlisting = JSON.stringify(input).includes('"W#');
            if (context.commandName?.startsWith('TransactWrite') && waitlisting) {
              if (typeof user === 'string' && user.startsWith('USER#vanishing')) {
                await clients.client.send(
                  new DeleteItemCommand({
                    TableName: app.config.tables.events,
                    Key: marshall({ PK: user, SK: 'USER' }),
                  }),
                );
              }
            }
            return next(args);
          },
          { step: 'initialize', name: 'vanishingUsers' },
        );
        return clients;
      },
    });
    const { eventId } = await createEvent(app, {
      eventId: uniqueId('vanishing'),
      capacity: 1,
      hasWaitlist: true,
    });
    const [seated, waiting, newcomer] = await createUsers(app, 3);
    await registerAll(app, eventId, [seated, waiting]);
    const start = await rawEventItem(app, eventId);
    const vanishing = await createUsers(app, 40, 'vanishing');

    await atOnce(vanishing, 4, async ({ userId }) => {
      const res = await app.call(`/events/${eventId}/registrations`, {
        method: 'POST',
        json: { userId },
      });
      await expectProblem(res, 404, 'EVENTS.USER_NOT_FOUND');
    });

    // The tickets they took are given back and folded into one run behind the one waiting, not
    // left one by one (a fold that lost a race may leave a few for the next change to fold).
    const after = await rawEventItem(app, eventId);
    const holes = after?.waitlistHoles?.NS?.length ?? 0;
    const runs = after?.waitlistHoleRuns?.S?.split(',').length ?? 0;
    expect(holes).toBeLessThanOrEqual(4);
    expect(runs).toBeLessThanOrEqual(holes + 1);
    expect(Number(after?.waitlistIssued?.N)).toBe(Number(start?.waitlistIssued?.N) + 40);
    expect(await registerAll(app, eventId, [newcomer])).toMatchObject([
      { status: 'waitlisted', waitlistPosition: 2 },
    ]);
  });
});
