import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import {
  both,
  type CallMatcher,
  commandIs,
  delayCalls,
  failCalls,
  gate,
  inputMentions,
  throttled,
} from '../support/faults.js';
import { until } from '../support/poll.js';
import {
  allPages,
  bodyOf,
  createEventsApp,
  type Event,
  eventBody,
  expectProblem,
  firstCursor,
  getEvent,
  type Registration,
  uniqueId,
} from './fixtures.js';

/*
 * Regression tests for known defects. Each asserts the behaviour wanted once the defect is fixed,
 * through the HTTP surface only; delays and faults go through the SDK client's middleware, chosen
 * by command name and request content, never by reaching into the repository or the service.
 */

const eventJson = (eventId: string, capacity: number, hasWaitlist: boolean, title = 'Defects') =>
  eventBody({ eventId, capacity, hasWaitlist, title, description: 'Regression test event' });

async function createEventWith(app: TestApp, eventId: string, capacity: number, waitlist: boolean) {
  return bodyOf<Event>(
    await app.call('/events', { method: 'POST', json: eventJson(eventId, capacity, waitlist) }),
    201,
  );
}

/** Creates users with ids `<label><i>-<hex>`, ten at a time; returns the ids in order. */
async function makeUsers(app: TestApp, label: string, count: number): Promise<string[]> {
  const tag = uniqueId(label).slice(label.length + 1);
  const ids = Array.from({ length: count }, (_, i) => `${label}${i}-${tag}`);
  for (let i = 0; i < ids.length; i += 10) {
    const answers = await Promise.all(
      ids
        .slice(i, i + 10)
        .map((userId) => app.call('/users', { method: 'POST', json: { userId, name: userId } })),
    );
    for (const res of answers) await bodyOf(res, 201);
  }
  return ids;
}

const registerFor = (app: TestApp, eventId: string, userId: string) =>
  app.call(`/events/${eventId}/registrations`, { method: 'POST', json: { userId } });

const unregisterFrom = (app: TestApp, eventId: string, userId: string) =>
  app.call(`/events/${eventId}/registrations/${userId}`, { method: 'DELETE' });

/** Every registration of an event, following `rel="next"`. */
const listAll = async (app: TestApp, eventId: string): Promise<Registration[]> =>
  (await allPages<Registration>(app, `/events/${eventId}/registrations?limit=200`)).flat();

/** Polls GET /events/{id} until it answers 404 (at most `timeoutMs`). */
async function untilGone(app: TestApp, eventId: string, timeoutMs = 5_000): Promise<void> {
  const status = await until(
    async () => {
      const res = await app.call(`/events/${eventId}`);
      await res.body?.cancel();
      return res.status;
    },
    (status) => status === 404,
    { timeoutMs, intervalMs: 10 },
  );
  expect(status, `GET /events/${eventId} still ${status} while it is deleted`).toBe(404);
}

const counters = (event: Event) => ({
  registeredCount: event.registeredCount,
  waitlistCount: event.waitlistCount,
});

/** The batched deletes that remove an event's registrations. */
const batchWrites: CallMatcher = commandIs('BatchWrite');

/** Calls to the idempotency table (Powertools' persistence layer). */
const idempotencyTable: CallMatcher = (call) =>
  String((call.input as { TableName?: unknown })?.TableName ?? '').includes('idempotency');

describe('events: regressions for known defects', () => {
  it('refuses a re-created event id while its old registrations are being removed, or keeps the new event consistent', async () => {
    // The old event's cleanup is slowed deterministically: every BatchWrite waits 150 ms and is
    // held until the racing part of the test is over (at most 5 s).
    const cleanup = gate();
    const app = await createEventsApp();
    delayCalls(app.dynamo, {
      when: batchWrites,
      ms: 150,
      until: cleanup.opened,
      maxMs: 5_000,
    });
    try {
      const eventId = uniqueId('reborn');
      await createEventWith(app, eventId, 10, true);
      const oldUsers = await makeUsers(app, 'old', 60);
      const newUsers = await makeUsers(app, 'new', 12);
      for (const userId of oldUsers) await bodyOf(await registerFor(app, eventId, userId), 201);
      expect(counters(await getEvent(app, eventId))).toEqual({
        registeredCount: 10,
        waitlistCount: 50,
      });

      const deleting = app.call(`/events/${eventId}`, { method: 'DELETE' });
      await untilGone(app, eventId);
      const recreate = await app.call('/events', {
        method: 'POST',
        json: eventJson(eventId, 10, true, 'Reborn'),
      });

      if (recreate.status === 409) {
        // First valid fix: the id is refused while the old registrations are being removed.
        await expectProblem(recreate, 409);
        cleanup.open();
        expect((await deleting).status).toBe(200);
        return;
      }

      // Second valid fix: the re-create is accepted and the new event stays consistent.
      await bodyOf<Event>(recreate, 201);
      const seen: Array<ReturnType<typeof counters>> = [];
      const look = async () => {
        const now = counters(await getEvent(app, eventId));
        seen.push(now);
        return now;
      };
      const fresh = await look();
      expect(fresh).toEqual({ registeredCount: 0, waitlistCount: 0 });

      // Old rows (confirmed and waitlisted ones) unregistered while the cleanup still runs.
      for (const userId of [oldUsers[0], oldUsers[1], oldUsers[30], oldUsers[59]] as string[]) {
        const res = await unregisterFrom(app, eventId, userId);
        await res.body?.cancel();
        expect(
          await look(),
          `unregistering old user ${userId} (answered ${res.status}) changed the new event`,
        ).toEqual(fresh);
      }

      // New registrations while old rows are still there.
      const answers = await Promise.all(
        newUsers.map((userId) => registerFor(app, eventId, userId)),
      );
      const registered: string[] = [];
      for (const [i, res] of answers.entries()) {
        if (res.status === 201) registered.push(newUsers[i] as string);
        await res.body?.cancel();
      }
      await look();

      cleanup.open();
      expect((await deleting).status, 'the old event deletion').toBe(200);

      // An old row unregistered after the cleanup: still no change to the new event.
      const before = await look();
      const late = await unregisterFrom(app, eventId, oldUsers[45] as string);
      await late.body?.cancel();
      expect(await look(), `late unregister of an old user (answered ${late.status})`).toEqual(
        before,
      );

      const listed = await listAll(app, eventId);
      const event = await getEvent(app, eventId);
      seen.push(counters(event));
      const old = new Set(oldUsers);
      expect(
        listed.filter((r) => old.has(r.userId)).map((r) => r.userId),
        'old users listed in the new event',
      ).toEqual([]);
      expect(
        seen.filter((c) => c.registeredCount < 0 || c.waitlistCount < 0),
        'negative counters',
      ).toEqual([]);
      const confirmed = listed.filter((r) => r.status === 'confirmed');
      const waitlisted = listed.filter((r) => r.status === 'waitlisted');
      expect(counters(event), 'counters equal the listed rows').toEqual({
        registeredCount: confirmed.length,
        waitlistCount: waitlisted.length,
      });
      expect(confirmed.length).toBeLessThanOrEqual(10);
      expect(listed.map((r) => r.userId).sort(), 'listed = the new users answered 201').toEqual(
        [...registered].sort(),
      );
    } finally {
      cleanup.open();
    }
  });

  it('answers a deeply nested JSON body sent with an Idempotency-Key with a 4xx problem and creates nothing', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('deep');
    const nested = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const body = JSON.stringify(eventJson(eventId, 10, false)).replace(
      '"Regression test event"',
      nested,
    );

    const res = await app.call('/events', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'idempotency-key': uniqueId('deep-key') },
    });

    const text = await res.clone().text();
    expect(
      res.status >= 400 && res.status < 500,
      `a client error, not a server one: ${res.status} ${text.slice(0, 300)}`,
    ).toBe(true);
    await expectProblem(res, res.status);
    await expectProblem(await app.call(`/events/${eventId}`), 404);
  });

  it('refuses the dot-only ids "." and ".." for events and users with 422', async () => {
    const app = await createEventsApp();
    const answers: Record<string, Response> = {};
    for (const id of ['.', '..']) {
      answers[`POST /events eventId=${id}`] = await app.call('/events', {
        method: 'POST',
        json: eventJson(id, 10, false),
      });
      answers[`POST /users userId=${id}`] = await app.call('/users', {
        method: 'POST',
        json: { userId: id, name: 'Dot' },
      });
    }

    expect(
      Object.fromEntries(Object.entries(answers).map(([call, res]) => [call, res.status])),
    ).toEqual({
      'POST /events eventId=.': 422,
      'POST /users userId=.': 422,
      'POST /events eventId=..': 422,
      'POST /users userId=..': 422,
    });
    for (const res of Object.values(answers)) await expectProblem(res, 422);
  });

  it('answers an idempotent retry with 201 and the committed registration when the first answer was lost after the commit', async () => {
    const app = await createEventsApp({ env: { IDEMPOTENCY_IN_FLIGHT_SECONDS: '1' } });
    const eventId = uniqueId('crash');
    await createEventWith(app, eventId, 5, true);
    const [userId] = (await makeUsers(app, 'crash', 1)) as [string];
    // The registration commits; then saving the result to the idempotency table fails once.
    const lost = failCalls(app.dynamo, {
      when: both(commandIs('UpdateItem'), idempotencyTable),
      times: 1,
      error: throttled(),
    });
    const send = () =>
      app.call(`/events/${eventId}/registrations`, {
        method: 'POST',
        json: { userId },
        headers: { 'idempotency-key': 'K-crash' },
      });

    const first = await send();
    await first.body?.cancel();
    expect(first.status, 'precondition: the first answer is lost').not.toBe(201);
    expect(lost.failed(), 'precondition: the idempotency save failed').toBe(1);
    const committed = await listAll(app, eventId);
    expect(
      committed.map((r) => r.userId),
      'precondition: the registration committed',
    ).toEqual([userId]);

    const { retry, text } = await until(
      async () => {
        const retry = await send();
        return { retry, text: await retry.text() };
      },
      ({ retry, text }) => !(retry.status === 409 && /IN_PROGRESS/i.test(text)),
      { timeoutMs: 8_000, intervalMs: 250 },
    );

    expect(retry.status, `the retry's answer: ${retry.status} ${text}`).toBe(201);
    expect((JSON.parse(text) as Registration).registrationId).toBe(committed[0]?.registrationId);
  });

  it('answers 404, not 503, to an unregister for an event whose deletion is under way', async () => {
    const cleanup = gate();
    const app = await createEventsApp();
    delayCalls(app.dynamo, { when: batchWrites, ms: 150, until: cleanup.opened, maxMs: 5_000 });
    try {
      const eventId = uniqueId('doomed');
      await createEventWith(app, eventId, 10, true);
      const users = await makeUsers(app, 'doomed', 60);
      for (const userId of users) await bodyOf(await registerFor(app, eventId, userId), 201);

      const deleting = app.call(`/events/${eventId}`, { method: 'DELETE' });
      await untilGone(app, eventId);
      const res = await unregisterFrom(app, eventId, users[0] as string);

      cleanup.open();
      await expectProblem(res, 404);
      expect((await deleting).status).toBe(200);
    } finally {
      cleanup.open();
    }
  });

  it('answers PUT /events/{id} with the counters as committed, not as read before a concurrent registration', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('put');
    await createEventWith(app, eventId, 5, true);
    const [userId] = (await makeUsers(app, 'put', 1)) as [string];
    const title = uniqueId('Renamed');
    // The PUT's write waits (at least 300 ms) until the registration below has been answered.
    const registered = gate();
    const held = delayCalls(app.dynamo, {
      when: inputMentions(title),
      ms: 300,
      until: registered.opened,
      maxMs: 3_000,
    });

    try {
      const put = app.call(`/events/${eventId}`, { method: 'PUT', json: { title } });
      await held.firstHeld;
      await bodyOf(await registerFor(app, eventId, userId), 201);
      registered.open();
      const answered = await bodyOf<Event>(await put, 200);

      const after = await getEvent(app, eventId);
      expect(after.title).toBe(title);
      expect(after.registeredCount).toBe(1);
      expect(counters(answered), 'the PUT answer vs GET afterwards').toEqual(counters(after));
    } finally {
      registered.open();
    }
  });

  it('refuses a tampered pagination cursor with 400', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('cursor');
    await createEventWith(app, eventId, 1, true);
    const users = await makeUsers(app, 'cursor', 5);
    for (const userId of users) await bodyOf(await registerFor(app, eventId, userId), 201);
    const path = `/events/${eventId}/registrations?limit=2`;
    const cursor = await firstCursor(app, path);
    const page = (c: string) =>
      app.call(`/events/${eventId}/registrations?limit=2&cursor=${encodeURIComponent(c)}`);
    // The untouched cursor works: what follows is about the edits only.
    await bodyOf(await page(cursor), 200);

    const edited = editCursor(cursor);
    const oneChar = changeOneCharacter(cursor);
    expect(edited).not.toBe(cursor);
    const answers = { edited: await page(edited), oneCharacter: await page(oneChar) };

    const shown = async (res: Response) =>
      `${res.status} ${(await res.clone().text()).slice(0, 200)}`;
    expect(
      { edited: answers.edited.status, oneCharacter: answers.oneCharacter.status },
      `tampered cursors answered: edited ${await shown(answers.edited)}; one character ${await shown(answers.oneCharacter)}`,
    ).toEqual({ edited: 400, oneCharacter: 400 });
    await expectProblem(answers.edited, 400);
    await expectProblem(answers.oneCharacter, 400);
  });

  it('accepts a valid x-api-key even when an Authorization: Basic header comes with it', async () => {
    const app = await createEventsApp();
    const res = await app.call('/events', {
      headers: { authorization: `Basic ${Buffer.from('someone:secret').toString('base64')}` },
    });
    expect(res.status, `GET /events with both: ${res.status} ${await res.text()}`).toBe(200);
  });

  it('tells 40 concurrent waitlisted registrations the distinct positions 1..40 that the list then shows', async () => {
    const app = await createEventsApp();
    const eventId = uniqueId('queue');
    await createEventWith(app, eventId, 1, true);
    const [first, ...burst] = await makeUsers(app, 'queue', 41);
    await bodyOf(await registerFor(app, eventId, first as string), 201);

    const answers = await Promise.all(burst.map((userId) => registerFor(app, eventId, userId)));
    const told = new Map<string, number | undefined>();
    for (const [i, res] of answers.entries()) {
      const registration = await bodyOf<Registration>(res, 201);
      expect(registration.status).toBe('waitlisted');
      told.set(burst[i] as string, registration.waitlistPosition);
    }
    const listed = new Map(
      (await listAll(app, eventId))
        .filter((r) => r.status === 'waitlisted')
        .map((r) => [r.userId, r.waitlistPosition]),
    );

    expect(
      [...told.values()].sort((a, b) => (a ?? 0) - (b ?? 0)),
      'the positions told in the 201s',
    ).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const mismatches = burst
      .filter((userId) => told.get(userId) !== listed.get(userId))
      .map((userId) => `${userId}: told ${told.get(userId)}, listed ${listed.get(userId)}`);
    expect(mismatches, 'told position vs listed position').toEqual([]);
  });
});

/**
 * Edits what a cursor carries, whatever its shape: each `.`-separated part that decodes as
 * base64url JSON has its nested numbers raised by 5 (the running waitlist count today), or, with
 * no nested number, a string changed; the cursor is then re-encoded the same way.
 */
function editCursor(cursor: string): string {
  const parts = cursor.split('.');
  for (const [i, part] of parts.entries()) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    } catch {
      continue;
    }
    if (typeof decoded !== 'object' || decoded === null) continue;
    if (!bump(decoded, 0, 'number') && !bump(decoded, 0, 'string')) continue;
    parts[i] = Buffer.from(JSON.stringify(decoded), 'utf8').toString('base64url');
    return parts.join('.');
  }
  return changeOneCharacter(cursor);
}

function bump(value: object, depth: number, kind: 'number' | 'string'): boolean {
  let changed = false;
  const record = value as Record<string, unknown>;
  for (const [key, item] of Object.entries(record)) {
    if (typeof item === 'object' && item !== null) {
      changed = bump(item, depth + 1, kind) || changed;
    } else if (depth >= 1 && kind === 'number' && typeof item === 'number') {
      record[key] = item + 5;
      changed = true;
    } else if (depth >= 1 && kind === 'string' && typeof item === 'string' && !changed) {
      record[key] = `${item}x`;
      changed = true;
    }
  }
  return changed;
}

/** The same cursor with the character in the middle replaced by another one. */
function changeOneCharacter(cursor: string): string {
  const i = Math.floor(cursor.length / 2);
  const replacement = cursor[i] === 'A' ? 'B' : 'A';
  return `${cursor.slice(0, i)}${replacement}${cursor.slice(i + 1)}`;
}
