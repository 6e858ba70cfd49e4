import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { DeliveryMessage } from '../../src/modules/webhooks/webhooks.model.js';
import { STANDARD_RETRY_SCHEDULE } from '../../src/modules/webhooks/webhooks.rules.js';
import type { QueuePort } from '../../src/platform/queue/queue.js';
import { expectProblem } from '../support/fixture-app.js';
import { until } from '../support/poll.js';
import {
  commitEvents,
  createEndpoint,
  createWebhooksApp,
  deliveryQueue,
  dispatchPending,
  manualClock,
  missingAfterWait,
  type Received,
  startReceiver,
  type WebhooksApp,
  webhooksTable,
} from './fixtures.js';

/** The verified payload of a received request, checked with the unmodified library. */
const verify = (secret: string, received: { headers: object; body: string }) =>
  new Webhook(secret).verify(received.body, received.headers as Record<string, string>);

/** Runs the delivery consumer once on a message for (endpoint, event), as the queue would. */
const deliverOnce = (app: WebhooksApp, message: DeliveryMessage, receiveCount = 1) =>
  app.webhooks.deliver({ id: 'm', body: JSON.stringify(message), receiveCount });

describe('endpoints', () => {
  it('shows the secret once, at creation, and stores it sealed', async () => {
    const app = await createWebhooksApp({ start: false });
    const receiver = await startReceiver();
    const created = await createEndpoint(app, receiver.url, ['test.happened']);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    expect(created).toMatchObject({ url: receiver.url, enabled: true, version: 1 });

    const read = await app.call(`/webhooks/${created.id}`);
    const body = (await read.json()) as Record<string, unknown>;
    expect(read.status).toBe(200);
    expect(body).not.toHaveProperty('secret');
    expect(JSON.stringify(body)).not.toContain(created.secret.slice(6));
    const listed = await (await app.call('/webhooks')).json();
    expect(JSON.stringify(listed)).not.toContain(created.secret.slice(6));

    const item = await app.table(webhooksTable).get({ PK: `EP#${created.id}`, SK: 'EP' });
    expect(JSON.stringify(item)).not.toContain(created.secret.slice(6));
  });

  it('refuses bad input precisely and creates nothing', async () => {
    const app = await createWebhooksApp({ start: false });
    const cases: [unknown, string][] = [
      [{ url: 'ftp://example.com/x', eventTypes: ['*'] }, 'body.url'],
      [{ url: 'https://example.com/x', eventTypes: [] }, 'body.eventTypes'],
      [{ url: 'https://example.com/x', eventTypes: ['nope.nothing'] }, 'body.eventTypes'],
      [{ url: 'https://example.com/x', eventTypes: ['*'], secret: 'mine' }, 'body'],
      [{ url: 'https://user:pw@example.com/x', eventTypes: ['*'] }, 'body.url'],
    ];
    for (const [json, path] of cases) {
      const response = await app.call('/webhooks', { method: 'POST', json });
      const problem = (await expectProblem(response, 422)) as { errors?: { path: string }[] };
      expect(
        problem.errors?.some((e) => e.path.startsWith(path)),
        JSON.stringify(json),
      ).toBe(true);
    }
    expect(await (await app.call('/webhooks')).json()).toEqual([]);
  });

  it('refuses private, loopback and metadata targets under the AWS policy', async () => {
    const app = await createWebhooksApp({ start: false, env: { WEBHOOKS_TARGETS: 'public' } });
    for (const url of [
      'http://example.com/hooks',
      'https://127.0.0.1/hooks',
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.8/hooks',
      'https://[::1]/hooks',
      'https://localhost/hooks',
    ]) {
      const response = await app.call('/webhooks', {
        method: 'POST',
        json: { url, eventTypes: ['*'] },
      });
      await expectProblem(response, 422);
    }
    expect(await (await app.call('/webhooks')).json()).toEqual([]);
  });

  it('describes every event type under the OpenAPI document’s webhooks', async () => {
    const app = await createWebhooksApp({ start: false });
    const document = (await (await app.call('/openapi.json')).json()) as {
      webhooks?: Record<string, { post?: { requestBody?: unknown } }>;
    };
    expect(Object.keys(document.webhooks ?? {}).sort()).toEqual([
      'test.happened',
      'test.other',
      'webhook_endpoint.disabled',
    ]);
    expect(JSON.stringify(document.webhooks?.['test.happened']?.post?.requestBody)).toContain(
      'sequence',
    );
  });

  it('every domain event type of every module is in the catalogue the docs keep', async () => {
    const { modules } = await import('../../src/modules/index.js');
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(new URL('../../docs/decisions/webhooks.md', import.meta.url), 'utf8');
    const types = modules.flatMap((m) => (m.domainEvents ?? []).map((e) => e.type));
    expect(types.length).toBeGreaterThan(10);
    expect(types.filter((type) => !doc.includes(`| \`${type}\` |`))).toEqual([]);
  });

  it('lists the event catalogue', async () => {
    const app = await createWebhooksApp({ start: false });
    const types = (await (await app.call('/webhooks/event-types')).json()) as { type: string }[];
    expect(types.map((t) => t.type)).toContain('test.other');
  });
});

describe('delivery', () => {
  it('delivers each committed event, signed to the Standard Webhooks spec', async () => {
    const receiver = await startReceiver();
    const app = await createWebhooksApp({ modules: [] });
    const { secret } = await createEndpoint(app, receiver.url, ['test.happened']);
    const events = await commitEvents(app, 5, 'test.happened');
    await commitEvents(app, 2, 'test.other');

    expect(
      await missingAfterWait(
        receiver,
        events.map((e) => e.id),
      ),
    ).toEqual([]);
    for (const event of events) {
      const received = receiver.byId(event.id)[0] as Received;
      expect(received.headers['content-type']).toBe('application/json');
      expect(verify(secret, received)).toEqual(JSON.parse(JSON.stringify(event)));
      expect(() => verify(secret, { ...received, body: `${received.body} ` })).toThrow();
    }
    // Only the subscribed type.
    expect(receiver.received).toHaveLength(5);
  });

  it('a signature from another secret, or an old timestamp, does not verify', async () => {
    const receiver = await startReceiver();
    const app = await createWebhooksApp();
    const { secret } = await createEndpoint(app, receiver.url);
    const [event] = await commitEvents(app, 1);
    expect(await missingAfterWait(receiver, [event?.id ?? ''])).toEqual([]);
    const received = receiver.byId(event?.id ?? '')[0] as never as {
      headers: Record<string, string>;
      body: string;
    };
    const other = (await createEndpoint(app, receiver.url)).secret;
    expect(() => verify(other, received)).toThrow();
    const old = String(Math.floor(Date.now() / 1000) - 3600);
    expect(() =>
      verify(secret, { ...received, headers: { ...received.headers, 'webhook-timestamp': old } }),
    ).toThrow();
  });

  it('an endpoint receives only events that occur after it was created', async () => {
    const receiver = await startReceiver();
    const app = await createWebhooksApp({ start: false });
    const before = await commitEvents(app, 2);
    await createEndpoint(app, receiver.url);
    const after = await commitEvents(app, 2);
    await app.start();
    expect(
      await missingAfterWait(
        receiver,
        after.map((e) => e.id),
      ),
    ).toEqual([]);
    expect(receiver.received.map((r) => r.headers['webhook-id'])).not.toContain(before[0]?.id);
  });

  it('two copies of one delivery message make one attempt', async () => {
    const receiver = await startReceiver();
    receiver.answer = () => ({ status: 200 });
    const app = await createWebhooksApp({ start: false });
    const { id } = await createEndpoint(app, receiver.url);
    const [event] = await commitEvents(app, 1);
    await dispatchPending(app);
    const message = { endpointId: id, eventId: event?.id ?? '', round: 1 };
    await Promise.all(Array.from({ length: 20 }, () => deliverOnce(app, message)));
    expect(receiver.received).toHaveLength(1);
    const delivery = await (await app.call(`/webhooks/${id}/deliveries/${event?.id}`)).json();
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('logs every attempt: status, latency, the start of the answer', async () => {
    const receiver = await startReceiver();
    receiver.answer = (_, n) =>
      n === 1 ? { status: 500, body: `boom ${'x'.repeat(2000)}` } : { status: 200, body: 'ok' };
    const time = manualClock(Date.now());
    const app = await createWebhooksApp({ start: false, clock: time.clock });
    const { id } = await createEndpoint(app, receiver.url);
    const [event] = await commitEvents(app, 1);
    await dispatchPending(app);
    const message = { endpointId: id, eventId: event?.id ?? '', round: 1 };
    await deliverOnce(app, message);
    time.advance(6000);
    await deliverOnce(app, message);

    const log = (await (await app.call(`/webhooks/${id}/deliveries`)).json()) as Record<
      string,
      unknown
    >[];
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({ attempt: 2, ok: true, statusCode: 200, responseExcerpt: 'ok' });
    expect(log[1]).toMatchObject({ attempt: 1, ok: false, statusCode: 500 });
    expect(String(log[1]?.responseExcerpt)).toMatch(/^boom x+$/);
    expect(String(log[1]?.responseExcerpt).length).toBeLessThanOrEqual(500);
    expect(log[1]?.latencyMs).toEqual(expect.any(Number));
  });
});

describe('the retry schedule (injected clock)', () => {
  /** Fails every attempt; returns when each attempt was made (by the clock) and the outcome. */
  async function failingRun(answer: { status: number; headers?: Record<string, string> }) {
    const receiver = await startReceiver();
    receiver.answer = () => answer;
    const time = manualClock();
    const app = await createWebhooksApp({ start: false, clock: time.clock });
    const { id } = await createEndpoint(app, receiver.url);
    const [event] = await commitEvents(app, 1);
    await dispatchPending(app);
    const message = { endpointId: id, eventId: event?.id ?? '', round: 1 };
    const attempts: number[] = [];
    for (let i = 0; i < 15; i++) {
      const delivery = (await (
        await app.call(`/webhooks/${id}/deliveries/${event?.id}`)
      ).json()) as { status: string; nextAttemptAt?: string };
      if (delivery.status !== 'pending') break;
      time.set(Date.parse(delivery.nextAttemptAt ?? '') + 1);
      const count = receiver.received.length;
      await deliverOnce(app, message);
      if (receiver.received.length > count) attempts.push(time.now());
    }
    const final = await (await app.call(`/webhooks/${id}/deliveries/${event?.id}`)).json();
    return { attempts, final, app, id };
  }

  it('follows the Standard Webhooks schedule, with at most 10 % jitter, then fails', async () => {
    const { attempts, final } = await failingRun({ status: 500 });
    expect(attempts).toHaveLength(STANDARD_RETRY_SCHEDULE.length);
    const gaps = attempts.slice(1).map((at, i) => (at - (attempts[i] ?? 0)) / 1000);
    STANDARD_RETRY_SCHEDULE.slice(1).forEach((delay, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(delay * 0.9 - 0.01);
      expect(gaps[i]).toBeLessThanOrEqual(delay * 1.1 + 0.01);
    });
    expect(final).toMatchObject({ status: 'failed', attempts: 10, lastStatusCode: 500 });
  });

  it('waits at least as long as Retry-After asks', async () => {
    const { attempts } = await failingRun({ status: 503, headers: { 'retry-after': '600' } });
    // 5 s would be the schedule's second delay: the endpoint asked for 10 minutes.
    expect(((attempts[1] ?? 0) - (attempts[0] ?? 0)) / 1000).toBeGreaterThanOrEqual(600);
  });

  it('410 Gone disables the endpoint at once and announces it', async () => {
    const { attempts, final, app, id } = await failingRun({ status: 410 });
    expect(attempts).toHaveLength(1);
    expect(final).toMatchObject({ status: 'abandoned' });
    const endpoint = await (await app.call(`/webhooks/${id}`)).json();
    expect(endpoint).toMatchObject({ enabled: false, disabledReason: 'gone' });
    const announced = await app.outbox.pending('9999', 100);
    expect(announced.map((e) => [e.type, e.aggregate.id])).toContainEqual([
      'webhook_endpoint.disabled',
      id,
    ]);
  });

  it('five days of continuous failure disable the endpoint; a success in between resets', async () => {
    const receiver = await startReceiver();
    let failing = true;
    receiver.answer = () => ({ status: failing ? 500 : 200 });
    const time = manualClock();
    const app = await createWebhooksApp({ start: false, clock: time.clock });
    const { id } = await createEndpoint(app, receiver.url);
    const attemptEvent = async () => {
      const [event] = await commitEvents(app, 1);
      await dispatchPending(app);
      await deliverOnce(app, { endpointId: id, eventId: event?.id ?? '', round: 1 });
    };
    const endpoint = async () =>
      (await (await app.call(`/webhooks/${id}`)).json()) as Record<string, unknown>;

    await attemptEvent();
    expect(await endpoint()).toMatchObject({ enabled: true, failingSince: expect.any(String) });
    time.advance(3 * 86_400_000);
    failing = false;
    await attemptEvent();
    expect(await endpoint()).not.toHaveProperty('failingSince');
    failing = true;
    await attemptEvent();
    time.advance(5 * 86_400_000 - 60_000);
    await attemptEvent();
    expect(await endpoint()).toMatchObject({ enabled: true });
    time.advance(60_000);
    await attemptEvent();
    expect(await endpoint()).toMatchObject({ enabled: false, disabledReason: 'failing' });
  });
});

describe('replay', () => {
  it('re-sends exactly the window asked, and one event by id', async () => {
    const receiver = await startReceiver();
    const time = manualClock(Date.now() - 3_600_000);
    const app = await createWebhooksApp({ clock: time.clock });
    const { id } = await createEndpoint(app, receiver.url, ['test.happened']);
    const batches = [];
    for (let i = 0; i < 4; i++) {
      time.advance(60_000);
      batches.push(await commitEvents(app, 3));
      await commitEvents(app, 1, 'test.other');
    }
    const all = batches.flat();
    expect(
      await missingAfterWait(
        receiver,
        all.map((e) => e.id),
      ),
    ).toEqual([]);
    receiver.received.length = 0;

    const since = batches[1]?.[0]?.occurredAt ?? '';
    const end = batches[3]?.[0]?.occurredAt ?? '';
    const response = await app.call(`/webhooks/${id}/replay`, {
      method: 'POST',
      json: { since, until: end },
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ replayed: 6 });
    const window = [...(batches[1] ?? []), ...(batches[2] ?? [])].map((e) => e.id);
    expect(await missingAfterWait(receiver, window)).toEqual([]);
    await new Promise((done) => setTimeout(done, 300));
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set(window));

    receiver.received.length = 0;
    const one = batches[0]?.[2]?.id ?? '';
    const single = await app.call(`/webhooks/${id}/replay`, {
      method: 'POST',
      json: { eventId: one },
    });
    expect(await single.json()).toEqual({ replayed: 1 });
    expect(await missingAfterWait(receiver, [one])).toEqual([]);
    // The receiver has it; the consumer records the answer a moment later.
    const delivery = await until(
      async () =>
        (await (await app.call(`/webhooks/${id}/deliveries/${one}`)).json()) as { status: string },
      (d) => d.status !== 'pending',
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(delivery).toMatchObject({ round: 2, status: 'succeeded' });
  });

  it('takes one event id, or a whole window, and nothing in between', async () => {
    const app = await createWebhooksApp({ start: false });
    const receiver = await startReceiver();
    const { id } = await createEndpoint(app, receiver.url);
    const at = new Date().toISOString();
    for (const json of [
      {},
      { since: at },
      { eventId: '019a8f3e-5a3c-7c1e-9d2b-3f4a5b6c7d8e', since: at, until: at },
      { since: at, until: at },
    ]) {
      const response = await app.call(`/webhooks/${id}/replay`, { method: 'POST', json });
      await expectProblem(response, 422);
    }
  });

  it('refuses a window larger than the limit and sends nothing', async () => {
    const receiver = await startReceiver();
    const app = await createWebhooksApp({ env: { WEBHOOKS_REPLAY_MAX_EVENTS: '3' } });
    const { id } = await createEndpoint(app, receiver.url);
    const events = await commitEvents(app, 4);
    expect(
      await missingAfterWait(
        receiver,
        events.map((e) => e.id),
      ),
    ).toEqual([]);
    receiver.received.length = 0;
    const response = await app.call(`/webhooks/${id}/replay`, {
      method: 'POST',
      json: {
        since: new Date(Date.now() - 60_000).toISOString(),
        until: new Date(Date.now() + 1000).toISOString(),
      },
    });
    await expectProblem(response, 422);
    await new Promise((done) => setTimeout(done, 300));
    expect(receiver.received).toHaveLength(0);
  });
});

describe('rotation', () => {
  it('signs with both secrets for 24 hours, then with the new one only', async () => {
    const receiver = await startReceiver();
    const time = manualClock(Date.now());
    const app = await createWebhooksApp({ clock: time.clock });
    const { id, secret: first } = await createEndpoint(app, receiver.url);
    const rotated = await app.call(`/webhooks/${id}/rotate`, { method: 'POST' });
    const { secret: second } = (await rotated.json()) as { secret: string };
    expect(second).not.toBe(first);

    const [during] = await commitEvents(app, 1);
    expect(await missingAfterWait(receiver, [during?.id ?? ''])).toEqual([]);
    const received = receiver.byId(during?.id ?? '')[0] as never;
    expect(verify(first, received)).toBeTruthy();
    expect(verify(second, received)).toBeTruthy();

    time.advance(24 * 3_600_000 + 1000);
    const [after] = await commitEvents(app, 1);
    await dispatchPending(app);
    // The receiver checks timestamps against its own clock: verify the signature at the time sent.
    expect(await missingAfterWait(receiver, [after?.id ?? ''])).toEqual([]);
    const late = receiver.byId(after?.id ?? '')[0] as { headers: Record<string, string> };
    expect(late.headers['webhook-signature']?.split(' ')).toHaveLength(1);
  });
});

describe('nothing committed is lost', () => {
  it('events whose wake-up was lost, and deliveries whose message was lost, go out on the sweep', async () => {
    const receiver = await startReceiver();
    let dropping = true;
    const wrapQueues = (queues: QueuePort): QueuePort => ({
      queue: (definition) => {
        const queue = queues.queue(definition);
        return {
          ...queue,
          send: async (body, options) => {
            if (dropping) throw new Error('injected: the queue refused the message');
            return queue.send(body, options);
          },
          sendBatch: async (bodies) => {
            if (dropping) throw new Error('injected: the queue refused the message');
            return queue.sendBatch(bodies);
          },
        };
      },
    });
    const app = await createWebhooksApp({ start: false, wrapQueues });
    await createEndpoint(app, receiver.url);
    const events = await commitEvents(app, 3);
    expect(await app.outbox.pending('9999', 10)).toHaveLength(3);
    dropping = false;
    await app.start();
    expect(
      await missingAfterWait(
        receiver,
        events.map((e) => e.id),
      ),
    ).toEqual([]);
    expect(
      await until(
        () => app.outbox.pending('9999', 10),
        (p) => p.length === 0,
      ),
    ).toEqual([]);
  });

  it('a delivery message lost after its delivery was opened is sent again at start-up', async () => {
    const receiver = await startReceiver();
    const app = await createWebhooksApp({ start: false });
    await createEndpoint(app, receiver.url);
    const events = await commitEvents(app, 2);
    await dispatchPending(app);
    // Drop what the dispatch sent, as a crash of the local runtime would.
    for (const message of await app.queues.receive(deliveryQueue, 10)) {
      app.queues.delete(deliveryQueue, message);
    }
    await app.start();
    expect(
      await missingAfterWait(
        receiver,
        events.map((e) => e.id),
      ),
    ).toEqual([]);
  });
});
