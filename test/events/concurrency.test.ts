import { TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import {
  both,
  commandIs,
  failCalls,
  injectFaults,
  inputMentions,
  throttled,
  transactionConflict,
} from '../support/faults.js';
import { createEventsApp, eventBody } from './fixtures.js';

interface Row {
  registrationId: string;
  userId: string;
  status: 'confirmed' | 'waitlisted';
  promotedAt?: string;
}

const event = (eventId: string, capacity: number, hasWaitlist: boolean) =>
  eventBody({
    eventId,
    capacity,
    hasWaitlist,
    title: 'Load test',
    description: 'Many people at once',
  });

async function createUsers(app: TestApp, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let i = 0; i < ids.length; i += 100) {
    const batch = ids.slice(i, i + 100);
    const answers = await Promise.all(
      batch.map((userId) => app.call('/users', { method: 'POST', json: { userId, name: userId } })),
    );
    expect(answers.every((res) => res.status === 201)).toBe(true);
  }
  return ids;
}

/** The committed truth: every registration row, read consistently, and the event's counters. */
async function committed(app: TestApp, eventId: string) {
  const rows: Row[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await app.dynamo.doc.send(
      new QueryCommand({
        TableName: app.config.tables.events,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :reg)',
        ExpressionAttributeValues: { ':pk': `EVENT#${eventId}`, ':reg': 'REG#' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    rows.push(...((page.Items ?? []) as Row[]));
    start = page.LastEvaluatedKey;
  } while (start);
  const res = await app.call(`/events/${eventId}`);
  const stored = (await res.json()) as {
    capacity: number;
    registeredCount: number;
    waitlistCount: number;
  };
  const confirmed = rows.filter((row) => row.status === 'confirmed');
  const waitlisted = rows.filter((row) => row.status === 'waitlisted');
  return { rows, confirmed, waitlisted, event: stored };
}

async function listRegistrations(app: TestApp, eventId: string) {
  const all: Array<Row & { waitlistPosition?: number }> = [];
  let path: string | undefined = `/events/${eventId}/registrations?limit=200`;
  while (path) {
    const res = await app.call(path);
    expect(res.status).toBe(200);
    all.push(...((await res.json()) as typeof all));
    const next = res.headers.get('link')?.match(/^<\?([^>]+)>; rel="next"$/)?.[1];
    path = next ? `/events/${eventId}/registrations?${next}` : undefined;
  }
  return all;
}

/** `{ "201": 990, "503 EVENTS.BUSY": 10 }`: a failed assertion shows what went wrong. */
async function summary(responses: Response[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const res of responses) {
    const code =
      res.status >= 400 ? ` ${((await res.clone().json()) as { code?: string }).code}` : '';
    const key = `${res.status}${code}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** How each user's 201 placed them: `userId → waitlistPosition` for the waitlisted ones. */
async function toldPositions(answers: Response[]): Promise<Map<string, number>> {
  const told = new Map<string, number>();
  for (const res of answers) {
    const body = (await res.clone().json()) as { userId: string; waitlistPosition?: number };
    if (body.waitlistPosition !== undefined) told.set(body.userId, body.waitlistPosition);
  }
  return told;
}

// The 1000-way burst of the same property lives in `npm run bench`; 300 at capacity 30 shows it.
describe('registrations under concurrency', () => {
  it('confirms exactly 30 and waitlists 270 in join order when 300 register at once', async () => {
    const app = await createEventsApp();
    await app.call('/events', { method: 'POST', json: event('rush', 30, true) });
    const users = await createUsers(app, 'rush', 300);

    const answers = await Promise.all(
      users.map((userId) =>
        app.call('/events/rush/registrations', { method: 'POST', json: { userId } }),
      ),
    );

    expect(await summary(answers)).toEqual({ 201: 300 });
    const truth = await committed(app, 'rush');
    expect(truth.confirmed).toHaveLength(30);
    expect(truth.waitlisted).toHaveLength(270);
    expect(truth.event.registeredCount).toBe(30);
    expect(truth.event.waitlistCount).toBe(270);

    const listed = await listRegistrations(app, 'rush');
    expect(listed.slice(0, 30).every((r) => r.status === 'confirmed')).toBe(true);
    const waitlist = listed.slice(30);
    expect(waitlist.map((r) => r.waitlistPosition)).toEqual(
      Array.from({ length: 270 }, (_, i) => i + 1),
    );
    // Join order is the order of the places told: every 201 named a distinct place, and the
    // list shows each user exactly there.
    const told = await toldPositions(answers);
    expect(waitlist.map((r) => told.get(r.userId))).toEqual(
      waitlist.map((r) => r.waitlistPosition),
    );

    // Phase two: 100 interleaved leaves and joins, all at once.
    const newcomers = await createUsers(app, 'late', 50);
    // Half of them confirmed (their seats pass to the waitlist), half waiting, picked at random.
    const shuffled = (ids: string[]) => [...ids].sort(() => Math.random() - 0.5);
    const confirmedIds = truth.confirmed.map((row) => row.userId);
    const leavers = [
      ...shuffled(confirmedIds).slice(0, 25),
      ...shuffled(users.filter((id) => !confirmedIds.includes(id))).slice(0, 25),
    ];
    const operations = [
      ...leavers.map(
        (userId) => () => app.call(`/events/rush/registrations/${userId}`, { method: 'DELETE' }),
      ),
      ...newcomers.map(
        (userId) => () =>
          app.call('/registrations', { method: 'POST', json: { userId, eventId: 'rush' } }),
      ),
    ].sort(() => Math.random() - 0.5);

    const mixed = await Promise.all(operations.map((operation) => operation()));

    expect(await summary(mixed)).toEqual({ 200: 50, 201: 50 });
    const after = await committed(app, 'rush');
    // Rule 1: never over capacity. Rule 4: no free seat while anyone waits.
    expect(after.confirmed.length).toBeLessThanOrEqual(30);
    expect(after.confirmed.length === 30 || after.waitlisted.length === 0).toBe(true);
    // Rule 5: the counters are the rows.
    expect(after.event.registeredCount).toBe(after.confirmed.length);
    expect(after.event.waitlistCount).toBe(after.waitlisted.length);
    // Rule 3: one registration per user; leavers are gone, newcomers are in.
    const userIds = after.rows.map((row) => row.userId);
    expect(new Set(userIds).size).toBe(userIds.length);
    expect(after.rows).toHaveLength(300 - 50 + 50);
    expect(userIds.some((id) => leavers.includes(id))).toBe(false);
    // FIFO: everyone promoted was told an earlier place than everyone from the first burst still
    // waiting, and every newcomer waits behind them all.
    const promoted = after.confirmed.filter((row) => row.promotedAt).map((r) => told.get(r.userId));
    const stillWaiting = after.waitlisted.map((r) => r.userId);
    expect(promoted.length).toBeGreaterThan(0);
    expect(promoted.every((place) => place !== undefined)).toBe(true);
    const waitingPlaces = stillWaiting.flatMap((id) => told.get(id) ?? []);
    expect(Math.max(...(promoted as number[]))).toBeLessThan(Math.min(...waitingPlaces));
    // Positions are still 1..n, the first burst in the order it was told, then the newcomers.
    const relisted = (await listRegistrations(app, 'rush')).filter(
      (r) => r.status === 'waitlisted',
    );
    expect(relisted.map((r) => r.waitlistPosition)).toEqual(stillWaiting.map((_, i) => i + 1));
    const firstBurst = relisted.filter((r) => told.has(r.userId));
    expect(firstBurst.map((r) => told.get(r.userId))).toEqual(
      firstBurst.map((r) => told.get(r.userId)).sort((a = 0, b = 0) => a - b),
    );
    expect(relisted.slice(firstBurst.length).every((r) => newcomers.includes(r.userId))).toBe(true);
  }, 240_000);

  it('confirms 50 and refuses 150 with 409 when 200 register at once without a waitlist', async () => {
    const app = await createEventsApp();
    await app.call('/events', { method: 'POST', json: event('no-wait', 50, false) });
    const users = await createUsers(app, 'nw', 200);

    const answers = await Promise.all(
      users.map((userId) =>
        app.call('/events/no-wait/register', { method: 'POST', json: { userId } }),
      ),
    );

    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(50);
    expect(statuses.filter((s) => s === 409)).toHaveLength(150);
    const codes = await Promise.all(
      answers
        .filter((res) => res.status === 409)
        .map(async (res) => ((await res.json()) as { code: string }).code),
    );
    expect(new Set(codes)).toEqual(new Set(['EVENTS.EVENT_FULL']));
    const truth = await committed(app, 'no-wait');
    expect(truth.confirmed).toHaveLength(50);
    expect(truth.waitlisted).toHaveLength(0);
    expect(truth.event.registeredCount).toBe(50);
    expect(truth.event.waitlistCount).toBe(0);
  }, 120_000);

  it('keeps every rule when capacity changes land among 60 registrations', async () => {
    const app = await createEventsApp();
    await app.call('/events', { method: 'POST', json: event('resize', 10, true) });
    const users = await createUsers(app, 'rs', 60);
    const capacities = [4, 25, 8, 40, 12, 30];

    const answers = await Promise.all([
      ...users.map((userId) =>
        app.call('/events/resize/registrations', { method: 'POST', json: { userId } }),
      ),
      ...capacities.map((capacity) =>
        app.call('/events/resize', { method: 'PUT', json: { capacity } }),
      ),
    ]);

    // Each answer is a success, a conflict (a capacity below the confirmed count) or, under
    // contention that does not stop, 503 to retry: never a 500, and what was answered is stored.
    const registrations = answers.slice(0, users.length).map((res) => res.status);
    for (const status of registrations) expect([201, 503]).toContain(status);
    expect(registrations.filter((status) => status === 201).length).toBeGreaterThan(50);
    const resizes = answers.slice(users.length);
    for (const res of resizes) expect([200, 409, 503]).toContain(res.status);
    const refused = resizes.filter((res) => res.status === 409);
    for (const res of refused) {
      expect(((await res.json()) as { code: string }).code).toBe(
        'EVENTS.CAPACITY_BELOW_REGISTERED',
      );
    }
    const truth = await committed(app, 'resize');
    expect(truth.rows).toHaveLength(registrations.filter((status) => status === 201).length);
    expect(truth.confirmed.length).toBeLessThanOrEqual(truth.event.capacity);
    expect(truth.confirmed.length === truth.event.capacity || truth.waitlisted.length === 0).toBe(
      true,
    );
    expect(truth.event.registeredCount).toBe(truth.confirmed.length);
    expect(truth.event.waitlistCount).toBe(truth.waitlisted.length);
  }, 120_000);

  it('refuses the same user registering 20 times at once, keeping one registration', async () => {
    const app = await createEventsApp();
    await app.call('/events', { method: 'POST', json: event('dup', 10, true) });
    await createUsers(app, 'dup', 1);

    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        app.call('/events/dup/registrations', { method: 'POST', json: { userId: 'dup-0' } }),
      ),
    );

    expect(answers.filter((res) => res.status === 201)).toHaveLength(1);
    expect(answers.filter((res) => res.status === 409)).toHaveLength(19);
    const truth = await committed(app, 'dup');
    expect(truth.rows).toHaveLength(1);
    expect(truth.event.registeredCount).toBe(1);
  });
});

describe('transaction conflicts and throttling', () => {
  it('retries a registration that meets TransactionConflict and then succeeds', async () => {
    let faults: ReturnType<typeof injectFaults> | undefined;
    const app = await createEventsApp({
      dynamo: (clients) => {
        faults = injectFaults(clients, {
          command: 'TransactWrite',
          times: 3,
          error: transactionConflict(),
        });
        return clients;
      },
    });
    await app.call('/users', { method: 'POST', json: { userId: 'c1', name: 'C' } });
    await app.call('/events', { method: 'POST', json: event('conflicted', 5, true) });

    const res = await app.call('/events/conflicted/registrations', {
      method: 'POST',
      json: { userId: 'c1' },
    });

    expect(res.status).toBe(201);
    expect(faults?.injected()).toBe(3);
    const truth = await committed(app, 'conflicted');
    expect(truth.confirmed).toHaveLength(1);
    expect(truth.event.registeredCount).toBe(1);
  });

  it('answers 503 with Retry-After and changes nothing when conflicts never stop', async () => {
    const app = await createEventsApp();
    await app.call('/users', { method: 'POST', json: { userId: 'c2', name: 'C' } });
    await app.call('/events', { method: 'POST', json: event('hot', 5, true) });
    const faults = injectFaults(app.dynamo, {
      command: 'TransactWrite',
      times: Number.POSITIVE_INFINITY,
      error: transactionConflict(),
    });

    const res = await app.call('/events/hot/registrations', {
      method: 'POST',
      json: { userId: 'c2' },
    });

    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { code: string }).code).toBe('EVENTS.BUSY');
    expect(faults.injected()).toBeGreaterThan(1);
    const truth = await committed(app, 'hot');
    expect(truth.rows).toHaveLength(0);
    expect(truth.event.registeredCount).toBe(0);
  });

  it('promotes the head of the waitlist even when the unregister transaction first conflicts', async () => {
    const app = await createEventsApp();
    await app.call('/events', { method: 'POST', json: event('swap', 1, true) });
    await createUsers(app, 'swap', 2);
    await app.call('/events/swap/registrations', { method: 'POST', json: { userId: 'swap-0' } });
    await app.call('/events/swap/registrations', { method: 'POST', json: { userId: 'swap-1' } });
    injectFaults(app.dynamo, { command: 'TransactWrite', times: 2, error: transactionConflict() });

    const res = await app.call('/events/swap/registrations/swap-0', { method: 'DELETE' });

    expect(res.status).toBe(200);
    expect(((await res.json()) as { promoted: Row[] }).promoted.map((r) => r.userId)).toEqual([
      'swap-1',
    ]);
    const truth = await committed(app, 'swap');
    expect(truth.confirmed.map((r) => r.userId)).toEqual(['swap-1']);
    expect(truth.event).toMatchObject({ registeredCount: 1, waitlistCount: 0 });
  });

  it('answers 503, not 500, when a plain write meets a transaction in flight on the event', async () => {
    // DynamoDB refuses a single-item write to an item a transaction is writing with
    // TransactionConflictException (DynamoDB Local never does): here the waitlist ticket's.
    const app = await createEventsApp();
    await app.call('/users', { method: 'POST', json: { userId: 'w1', name: 'W' } });
    await app.call('/users', { method: 'POST', json: { userId: 'w2', name: 'W' } });
    await app.call('/events', { method: 'POST', json: event('contended', 1, true) });
    await app.call('/events/contended/registrations', { method: 'POST', json: { userId: 'w1' } });
    failCalls(app.dynamo, {
      when: both(commandIs('UpdateItem'), inputMentions('waitlistIssued')),
      times: Number.POSITIVE_INFINITY,
      error: () =>
        new TransactionConflictException({
          message: 'Transaction is ongoing for the item',
          $metadata: { httpStatusCode: 400 },
        }),
    });

    const res = await app.call('/events/contended/registrations', {
      method: 'POST',
      json: { userId: 'w2' },
    });

    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    const truth = await committed(app, 'contended');
    expect(truth.rows).toHaveLength(1);
  });

  it('tries a plain write again when a transaction held its item for a moment', async () => {
    // On DynamoDB a waitlist join's ticket (a plain update of the event item) is refused while a
    // registration transaction holds the item; that transaction is done within milliseconds.
    const app = await createEventsApp();
    await app.call('/users', { method: 'POST', json: { userId: 'm1', name: 'M' } });
    await app.call('/users', { method: 'POST', json: { userId: 'm2', name: 'M' } });
    await app.call('/events', { method: 'POST', json: event('moment', 1, true) });
    await app.call('/events/moment/registrations', { method: 'POST', json: { userId: 'm1' } });
    const conflicts = failCalls(app.dynamo, {
      when: both(commandIs('UpdateItem'), inputMentions('waitlistIssued')),
      times: 2,
      error: () =>
        new TransactionConflictException({
          message: 'Transaction is ongoing for the item',
          $metadata: { httpStatusCode: 400 },
        }),
    });

    const res = await app.call('/events/moment/registrations', {
      method: 'POST',
      json: { userId: 'm2' },
    });

    expect(res.status).toBe(201);
    expect(conflicts.failed()).toBe(2);
    const truth = await committed(app, 'moment');
    expect(truth.event).toMatchObject({ registeredCount: 1, waitlistCount: 1 });
  });

  it('answers 503, not 500, when DynamoDB throttles the write', async () => {
    const app = await createEventsApp();
    await app.call('/users', { method: 'POST', json: { userId: 't1', name: 'T' } });
    await app.call('/events', { method: 'POST', json: event('throttled', 5, true) });
    injectFaults(app.dynamo, { command: 'TransactWrite', times: 1, error: throttled() });

    const res = await app.call('/events/throttled/registrations', {
      method: 'POST',
      json: { userId: 't1' },
    });

    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    const truth = await committed(app, 'throttled');
    expect(truth.rows).toHaveLength(0);
  });
});
