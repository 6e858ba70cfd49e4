import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhooksModule } from '../../../src/modules/webhooks/webhooks.module.js';
import { outboxQueue, outboxTable } from '../../../src/platform/outbox/outbox.js';
import type { QueuePort } from '../../../src/platform/queue/queue.js';
import type { TestApp } from '../app.js';
import { Recent } from './recent.js';
import type { AccessHarness, Exercise, LoadPlan } from './types.js';

/**
 * What the load creates: endpoints on a loopback port nobody listens on (the discard port),
 * subscribed to a type the load never causes, so a crash run makes no deliveries.
 */
const quietEndpoint = (description: string) => ({
  url: 'http://127.0.0.1:9/roster-load',
  eventTypes: ['webhook_endpoint.disabled'],
  description,
});

/** A queue port that keeps what is sent, by queue id, for the scenario to hand to consumers. */
function keptQueues() {
  const sent = new Map<string, string[]>();
  const keep = (id: string, bodies: readonly string[]) =>
    sent.set(id, [...(sent.get(id) ?? []), ...bodies]);
  const port: QueuePort = {
    queue: (definition) => ({
      send: async (body) => {
        keep(definition.id, [body]);
      },
      sendBatch: async (bodies) => {
        keep(definition.id, bodies);
      },
      deadLetter: async () => {},
    }),
  };
  /** What was sent on `id` since the last take. */
  const take = (id: string): string[] => {
    const bodies = sent.get(id) ?? [];
    sent.delete(id);
    return bodies;
  };
  return { port, take };
}

/** A receiver on 127.0.0.1: `/ok` answers 204, `/gone` 410 (the endpoint is disabled), else 500. */
async function loopbackReceiver(): Promise<{ url: (path: string) => string; close: () => void }> {
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(request.url === '/ok' ? 204 : request.url === '/gone' ? 410 : 500);
      response.end();
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { url: (path) => `http://127.0.0.1:${port}${path}`, close: () => server.close() };
}

/** Commits one domain event as a module does (the outbox item in a transaction); its id. */
async function commitEvent(app: TestApp): Promise<string> {
  const event = app.outbox.event(
    'webhook_endpoint.disabled',
    { type: 'webhook_endpoint', id: 'access-test', sequence: 1 },
    { n: 1 },
  );
  const outcome = await app.table(outboxTable).transact([app.outbox.put(event)]);
  if (!outcome.ok) throw new Error('the event did not commit');
  return event.id;
}

const createEndpoint = async (
  ok: AccessHarness['ok'],
  app: TestApp,
  url: string,
): Promise<string> =>
  String((await ok(app, '/webhooks', { method: 'POST', json: { url, eventTypes: ['*'] } }))?.id);

const message = (body: string) => ({ id: randomUUID(), body, receiveCount: 1 });

export const exercise: Exercise = {
  access: {
    scenarios: () => [
      {
        title: 'the routes stay within the API’s grants',
        functions: ['api'],
        run: async ({ appFor, ok, within, expect }) => {
          const queues = keptQueues();
          const { app, during } = await appFor([webhooksModule], {
            ports: { queues: queues.port },
          });
          const before = new Date(Date.now() - 60_000).toISOString();
          const eventId = await commitEvent(app);
          const calls = await during(async () => {
            const id = await createEndpoint(ok, app, 'http://127.0.0.1:9/hooks');
            await ok(app, '/webhooks');
            await ok(app, `/webhooks/${id}`);
            await ok(app, `/webhooks/${id}`, {
              method: 'PATCH',
              json: { description: 'least privilege' },
            });
            await ok(app, `/webhooks/${id}/rotate`, { method: 'POST' });
            await ok(app, `/webhooks/${id}/replay`, { method: 'POST', json: { eventId } });
            expect(
              await ok(app, `/webhooks/${id}/replay`, {
                method: 'POST',
                json: { since: before, until: new Date(Date.now() + 60_000).toISOString() },
              }),
            ).toEqual({ replayed: 1 });
            await ok(app, `/webhooks/${id}/deliveries`);
            await ok(app, `/webhooks/${id}/deliveries/${eventId}`);
            await ok(app, '/webhooks/event-types');
            await ok(app, `/webhooks/${id}`, { method: 'DELETE' });
          });
          expect(queues.take('webhook-deliveries')).toHaveLength(2);
          within(calls, 'api');
        },
      },
      {
        title: 'dispatch, deliver (to a loopback receiver) and the sweep stay within their grants',
        functions: ['dispatch', 'deliver', 'sweep'],
        run: async ({ appFor, ok, runTask, within, expect }) => {
          const receiver = await loopbackReceiver();
          try {
            const queues = keptQueues();
            // The app's clock, moved on before the sweep so that the retry is overdue.
            let now = Date.now();
            const { app, during } = await appFor([webhooksModule], {
              ports: { queues: queues.port },
              env: { WEBHOOKS_ATTEMPT_TIMEOUT_SECONDS: '5' },
              clock: () => new Date(now),
            });
            const gone = await createEndpoint(ok, app, receiver.url('/gone'));
            await createEndpoint(ok, app, receiver.url('/ok'));
            await createEndpoint(ok, app, receiver.url('/failing'));
            const eventId = await commitEvent(app);

            const dispatching = await during(() =>
              runTask(app, 'dispatch', message(JSON.stringify({ eventIds: [eventId] }))),
            );
            within(dispatching, 'dispatch');
            const deliveries = queues.take('webhook-deliveries');
            expect(deliveries).toHaveLength(3);

            // A success, a retry (a delayed message) and a 410, which disables its endpoint with
            // an event committed in the same transaction and announced.
            const delivering = await during(async () => {
              for (const body of deliveries) await runTask(app, 'deliver', message(body));
            });
            within(delivering, 'deliver');
            expect(queues.take('webhook-deliveries')).toHaveLength(1);
            expect(queues.take(outboxQueue.id)).toHaveLength(1);
            expect(await ok(app, `/webhooks/${gone}`)).toMatchObject({
              enabled: false,
              disabledReason: 'gone',
            });

            // An hour on, the announced event has not reached dispatch and the retry's delayed
            // message is lost: the sweep wakes the dispatcher again and sends the retry again.
            now += 3_600_000;
            const sweeping = await during(async () => {
              expect(await runTask(app, 'sweep', { trigger: 'schedule' })).toEqual({
                events: 1,
                deliveries: 1,
              });
            });
            within(sweeping, 'sweep');
            expect(queues.take('webhook-deliveries')).toHaveLength(1);
            const wakeUps = queues.take(outboxQueue.id);
            expect(wakeUps).toHaveLength(1);
            // The dispatcher then delivers the disabling event to the two endpoints still enabled.
            await runTask(app, 'dispatch', message(wakeUps[0] ?? ''));
            expect(queues.take('webhook-deliveries')).toHaveLength(2);
          } finally {
            receiver.close();
          }
        },
      },
    ],
  },
  load: {
    operations: ({ runId }: LoadPlan) => [
      {
        op: 'create-webhook-endpoint',
        weight: 5,
        // No Idempotency-Key: the route does not take one (a stored answer would keep the secret).
        build: (n) => ({
          method: 'POST',
          path: '/webhooks',
          body: quietEndpoint(`${runId}-${n}`),
          subject: { description: `${runId}-${n}` },
        }),
        create: { retried: 201 },
        verify: async ({ response }, runtime) => {
          const id = (response as { id?: string } | undefined)?.id;
          return (await runtime.get(`/webhooks/${id}`)).status === 200
            ? []
            : [`webhook endpoint ${id}`];
        },
      },
    ],
  },
  soak: {
    routes: () => {
      const endpoints = new Recent<string>();
      return [
        {
          kind: 'list-webhook-endpoints',
          weight: 1,
          build: () => ({
            route: 'GET /webhooks',
            method: 'GET',
            path: '/webhooks?limit=20',
            onSuccess: (body) => {
              for (const { id } of body as { id: string }[]) endpoints.add(id);
            },
          }),
        },
        {
          kind: 'get-webhook-endpoint',
          weight: 1,
          orElse: 'list-webhook-event-types',
          build: () => {
            const id = endpoints.pick();
            if (!id) return undefined;
            return { route: 'GET /webhooks/{id}', method: 'GET', path: `/webhooks/${id}` };
          },
        },
        {
          kind: 'list-webhook-event-types',
          weight: 1,
          build: () => ({
            route: 'GET /webhooks/event-types',
            method: 'GET',
            path: '/webhooks/event-types',
          }),
        },
      ];
    },
  },
  bench: {
    none:
      'measured apart, against receivers of its own: `npm run bench -- --only=webhooks` ' +
      '(commit to first attempt; deliveries to a failing receiver under SIGKILLs); endpoint ' +
      'routes are single-item reads and writes, whose latency the soak reports',
  },
};
