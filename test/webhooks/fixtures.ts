import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach } from 'vitest';
import * as z from 'zod/mini';
import {
  deliveryQueue,
  webhooksModule,
  webhooksTable,
} from '../../src/modules/webhooks/webhooks.module.js';
import type { WebhooksService } from '../../src/modules/webhooks/webhooks.service.js';
import { createLogger } from '../../src/platform/logger.js';
import { MemoryMetrics } from '../../src/platform/metrics/metrics.js';
import { type AnyModule, defineModule, type Ports } from '../../src/platform/module.js';
import { type DomainEvent, outboxQueue, outboxTable } from '../../src/platform/outbox/outbox.js';
import type { QueuePort } from '../../src/platform/queue/queue.js';
import { LocalQueues } from '../../src/runtime/local/queue.js';
import { type LocalTasks, localTasks } from '../../src/runtime/local/tasks.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { until } from '../support/poll.js';

export { deliveryQueue, outboxQueue, webhooksTable };

/** One request a receiver got. */
export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

/** What a receiver answers: a status (and headers), or `hang` (never answers). */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Decides each answer (default: 204). */
  answer: (request: Received, n: number) => Answer;
  /** Requests by webhook-id. */
  byId(id: string): Received[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
});

/** A webhook receiver on 127.0.0.1 that records every request. */
export async function startReceiver(path = '/hooks'): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Receiver = {
    url: '',
    received,
    answer: () => ({ status: 204 }),
    byId: (id) => received.filter((r) => r.headers['webhook-id'] === id),
    close: () => new Promise((done) => server.close(() => done())),
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
        at: Date.now(),
      };
      received.push(entry);
      const answer = receiver.answer(entry, received.length);
      if (answer === 'hang') return;
      response.writeHead(answer.status, answer.headers ?? {});
      response.end(answer.body ?? '');
    });
  });
  servers.push(server);
  server.keepAliveTimeout = 1;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, { url: `http://127.0.0.1:${port}${path}` });
}

/** A module that only declares event types, for tests that commit events themselves. */
export const testEventsModule = defineModule({
  name: 'test-events',
  tables: [],
  services: () => ({}),
  domainEvents: [
    { type: 'test.happened', description: 'Something happened' },
    { type: 'test.other', description: 'Something else' },
  ],
  domainEventSchemas: () => ({ 'test.happened': z.object({ n: z.number() }) }),
});

export interface WebhooksApp extends TestApp {
  readonly queues: LocalQueues;
  readonly tasks: LocalTasks;
  readonly metrics: MemoryMetrics;
  readonly webhooks: WebhooksService;
  start(): Promise<void>;
}

const running: LocalTasks[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((tasks) => tasks.stop()));
});

export interface WebhooksAppOptions {
  /** Start the consumers and the start-up sweep. @default true */
  readonly start?: boolean;
  readonly env?: Record<string, string>;
  readonly clock?: () => Date;
  /** Modules beside webhooks. */
  readonly modules?: readonly AnyModule[];
  readonly wrapQueues?: (queues: QueuePort) => QueuePort;
  readonly ports?: Omit<Ports, 'queues' | 'metrics'>;
}

/** The webhooks module (and `modules`) on DynamoDB Local with in-process queues and tasks. */
export async function createWebhooksApp(options: WebhooksAppOptions = {}): Promise<WebhooksApp> {
  const queues = new LocalQueues({
    visibilityTimeoutSeconds: 2,
    logger: createLogger('silent', 'roster-test-queue'),
  });
  const metrics = new MemoryMetrics();
  const app = await createTestApp({
    modules: [webhooksModule, testEventsModule, ...(options.modules ?? [])],
    env: {
      WEBHOOKS_ATTEMPT_TIMEOUT_SECONDS: '2',
      WEBHOOKS_SWEEP_SCHEDULE: 'off',
      ...options.env,
    },
    ports: {
      ...options.ports,
      queues: options.wrapQueues ? options.wrapQueues(queues) : queues,
      metrics,
    },
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const tasks = localTasks(app, app.logger, { queues, consumer: { waitMs: 50 } });
  running.push(tasks);
  let started: Promise<void> | undefined;
  const start = () => {
    started ??= tasks.start();
    return started;
  };
  if (options.start !== false) await start();
  return {
    ...app,
    queues,
    tasks,
    metrics,
    webhooks: app.servicesOf(webhooksModule).webhooks,
    start,
  };
}

/**
 * Commits domain events as a module does (the outbox item in a transaction) and announces them.
 * Here the transaction holds only the event: what the webhooks module does with it is under test.
 */
export async function commitEvents(
  app: TestApp,
  count: number,
  type = 'test.happened',
  data: (i: number) => unknown = (i) => ({ n: i }),
): Promise<DomainEvent[]> {
  const events = Array.from({ length: count }, (_, i) =>
    app.outbox.event(type, { type: 'test', id: `agg-${i}`, sequence: 1 }, data(i)),
  );
  for (let i = 0; i < events.length; i += 25) {
    const chunk = events.slice(i, i + 25);
    const outcome = await app.table(outboxTable).transact(chunk.map((e) => app.outbox.put(e)));
    if (!outcome.ok) throw new Error('the events did not commit');
  }
  await app.outbox.announce(events);
  return events;
}

/**
 * Hands on every event still pending, as the dispatcher does (the consumers not started): the
 * sweep's wake-ups, then each run through `dispatch`, removed from the queue as a consumer would.
 */
export async function dispatchPending(app: WebhooksApp): Promise<void> {
  await app.webhooks.sweep({ all: true });
  for (;;) {
    const messages = await app.queues.receive(outboxQueue, 10);
    if (messages.length === 0) return;
    for (const message of messages) {
      await app.webhooks.dispatch(message);
      app.queues.delete(outboxQueue, message);
    }
  }
}

/** Creates an endpoint through the API; answers its body (with the secret). */
export async function createEndpoint(
  app: TestApp,
  url: string,
  eventTypes: string[] = ['*'],
): Promise<{ id: string; secret: string; [key: string]: unknown }> {
  const response = await app.call('/webhooks', { method: 'POST', json: { url, eventTypes } });
  if (response.status !== 201) {
    throw new Error(`endpoint not created: ${response.status} ${await response.text()}`);
  }
  return (await response.json()) as { id: string; secret: string };
}

/** Waits until the receiver has every one of `ids` at least once; answers the ids still missing. */
export async function missingAfterWait(
  receiver: Receiver,
  ids: readonly string[],
  timeoutMs = 15_000,
): Promise<string[]> {
  const missing = () => {
    const seen = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    return ids.filter((id) => !seen.has(id));
  };
  return until(missing, (left) => left.length === 0, { timeoutMs, intervalMs: 50 });
}

/** A clock the test moves. */
export function manualClock(start = Date.parse('2026-12-01T10:00:00Z')) {
  let now = start;
  return {
    clock: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
    set: (at: number) => {
      now = at;
    },
    now: () => now,
  };
}
