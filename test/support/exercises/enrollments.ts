import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { enrollmentsKeys } from '../../../src/modules/enrollments/enrollments.dynamo.js';
import {
  enrollmentsModule,
  enrollmentsTable,
} from '../../../src/modules/enrollments/enrollments.module.js';
import {
  enrollmentMessage,
  withCheckDigits,
} from '../../../src/modules/enrollments/enrollments.rules.js';
import type { QueuePort } from '../../../src/platform/queue/queue.js';
import type { TestApp } from '../app.js';
import { Recent } from './recent.js';
import { byIndex } from './tables.js';
import type { AccessHarness, Exercise, LoadPlan, SoakRun } from './types.js';

/** A valid CPF from the generator (random base, right check digits), digits only. */
export function cpfFrom(random: () => number): string {
  for (;;) {
    const base = String(Math.floor(random() * 1_000_000_000)).padStart(9, '0');
    if (!/^(\d)\1{8}$/.test(base)) return withCheckDigits(base);
  }
}

const noQueues: QueuePort = {
  queue: () => ({ send: async () => {}, sendBatch: async () => {}, deadLetter: async () => {} }),
};

const enroll = (ok: AccessHarness['ok'], app: TestApp, cpf: string) =>
  ok(app, '/enrollments', { method: 'POST', json: { name: 'Access Test', age: 30, cpf } });

export const exercise: Exercise = {
  access: {
    scenarios: () => [
      {
        title: 'the routes stay within the API’s grants',
        functions: ['api'],
        run: async ({ appFor, ok, within, expect }) => {
          const { app, during } = await appFor([enrollmentsModule], {
            ports: { queues: noQueues },
          });
          const calls = await during(async () => {
            const group = await ok(app, '/age-groups', {
              method: 'POST',
              json: { min_age: 0, max_age: 150 },
            });
            await ok(app, '/age-groups');
            const enrollment = await enroll(ok, app, '529.982.247-25');
            await ok(app, `/enrollments/${String(enrollment?.enrollment_id)}`);
            await ok(app, '/enrollments?limit=1');
            await ok(app, '/enrollments?status=PENDING');
            await ok(app, `/enrollments?ageGroupId=${String(group?.id)}`);
            await ok(app, `/enrollments?ageGroupId=${String(group?.id)}&status=PROCESSED`);
            await ok(app, '/enrollments/stats');
            expect(
              (
                await app.call('/enrollments', {
                  method: 'POST',
                  json: { name: 'Again', age: 30, cpf: '529.982.247-25' },
                })
              ).status,
            ).toBe(409);
            await ok(app, `/age-groups/${String(group?.id)}`, { method: 'DELETE' });
          });
          within(calls, 'api');
        },
      },
      {
        title: 'the processor and the reconciler stay within their grants',
        functions: ['process', 'reconcile'],
        run: async ({ appFor, ok, runTask, within, expect }) => {
          const { app, during } = await appFor([enrollmentsModule], {
            ports: { queues: noQueues },
            env: { ENROLLMENTS_RECONCILE_AFTER_SECONDS: '1' },
          });
          const group = await ok(app, '/age-groups', {
            method: 'POST',
            json: { min_age: 0, max_age: 150 },
          });
          const processed = await enroll(ok, app, '529.982.247-25');
          const rejected = await enroll(ok, app, '111.444.777-35');
          const message = (id: unknown) => ({
            id: randomUUID(),
            body: enrollmentMessage(String(id)),
            receiveCount: 1,
          });

          const processing = await during(async () => {
            await runTask(app, 'process', message(processed?.enrollment_id));
          });
          await ok(app, `/age-groups/${String(group?.id)}`, { method: 'DELETE' });
          const rejecting = await during(async () => {
            await runTask(app, 'process', message(rejected?.enrollment_id));
          });
          expect((await ok(app, `/enrollments/${String(rejected?.enrollment_id)}`))?.status).toBe(
            'REJECTED',
          );
          within(new Set([...processing, ...rejecting]), 'process');

          await enroll(ok, app, '390.533.447-05').catch(() => undefined); // no group: 422, nothing pending
          const group2 = await ok(app, '/age-groups', {
            method: 'POST',
            json: { min_age: 0, max_age: 150 },
          });
          await enroll(ok, app, '390.533.447-05');
          await new Promise((done) => setTimeout(done, 1_100));
          const reconciling = await during(async () => {
            expect(await runTask(app, 'reconcile')).toMatchObject({ requeued: 1 });
          });
          within(reconciling, 'reconcile');
          expect(group2).toBeDefined();
        },
      },
      {
        title: 'the list’s backfill stays within its grants',
        functions: ['backfill-list-keys'],
        run: async ({ appFor, runTask, within, expect }) => {
          const { app, during } = await appFor([enrollmentsModule], {
            ports: { queues: noQueues },
          });
          // A record as the release before the list wrote it: none of the list's keys.
          const id = randomUUID();
          await app.dynamo.doc.send(
            new PutCommand({
              TableName: app.table(enrollmentsTable).name,
              Item: {
                ...enrollmentsKeys.enrollment(id),
                type: 'enrollment',
                id,
                name: 'Access Test',
                age: 30,
                cpfMasked: '***.982.247-**',
                status: 'PROCESSED',
                ageGroupId: 'g-1',
                createdAt: new Date().toISOString(),
                processedAt: new Date().toISOString(),
              },
            }),
          );
          const calls = await during(async () => {
            expect(await runTask(app, 'backfill-list-keys')).toEqual({ backfilled: 1 });
          });
          within(calls, 'backfill-list-keys');
        },
      },
    ],
  },
  load: {
    operations: ({ random }: LoadPlan) => [
      {
        op: 'enroll',
        weight: 170,
        build: (n, idempotencyKey) => {
          const cpf = cpfFrom(random);
          return {
            method: 'POST',
            path: '/enrollments',
            body: { name: `Person ${n}`, age: Math.floor(random() * 100), cpf },
            idempotencyKey,
            subject: { cpf },
          };
        },
        create: { retried: 202 },
        verify: async ({ response }, runtime) => {
          const id = (response as { enrollment_id?: string } | undefined)?.enrollment_id;
          return (await runtime.get(`/enrollments/${id}`)).status === 200
            ? []
            : [`enrollment ${id}`];
        },
      },
    ],
    // Accepted and never processed: the queue message died with the process.
    leftovers: async ({ dynamo, name }) => {
      const pending = await Promise.all(
        Array.from({ length: 8 }, (_, shard) =>
          byIndex(dynamo, name(enrollmentsTable), 'gsi2', 'GSI2PK', `PENDING#${shard}`),
        ),
      );
      return { pendingEnrollments: pending.flat().length };
    },
  },
  soak: {
    routes: ({ cpfBase }: SoakRun) => {
      const enrollments = new Recent<string>();
      return [
        {
          kind: 'enroll',
          weight: 8,
          build: (i) => {
            const base = String((cpfBase + i) % 1_000_000_000).padStart(9, '0');
            return {
              route: 'POST /enrollments',
              method: 'POST',
              path: '/enrollments',
              idempotent: true,
              body: { name: `Soak ${i}`, age: i % 100, cpf: withCheckDigits(base) },
              onSuccess: (body) =>
                enrollments.add((body as { enrollment_id: string }).enrollment_id),
            };
          },
        },
        {
          kind: 'get-enrollment',
          weight: 6,
          orElse: 'list-age-groups',
          build: () => {
            const id = enrollments.pick();
            if (!id) return undefined;
            return { route: 'GET /enrollments/{id}', method: 'GET', path: `/enrollments/${id}` };
          },
        },
        {
          kind: 'list-age-groups',
          weight: 2,
          build: () => ({ route: 'GET /age-groups', method: 'GET', path: '/age-groups' }),
        },
        {
          kind: 'list-enrollments',
          weight: 2,
          build: (i) => ({
            route: 'GET /enrollments',
            method: 'GET',
            path: i % 2 === 0 ? '/enrollments' : '/enrollments?status=PENDING',
          }),
        },
      ];
    },
  },
  bench: {
    run: async (stack, tools) =>
      (await import('../../../bench/support/enrollments.js')).enrollmentsSection(stack, tools),
  },
};
