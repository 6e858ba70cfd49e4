import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { enrollmentsKeys } from '../../src/modules/enrollments/enrollments.dynamo.js';
import { enrollmentsTable } from '../../src/modules/enrollments/enrollments.module.js';
import {
  cpfGuardKey,
  enrollmentMessage,
  groupGoneReason,
} from '../../src/modules/enrollments/enrollments.rules.js';
import type { DynamoClients } from '../../src/platform/dynamo/client.js';
import { TEST_SECRETS } from '../support/app.js';
import { both, commandIs, failCalls, inputMentions, throttled } from '../support/faults.js';
import {
  checkLogsHaveNoCpf,
  createEnrollmentsApp,
  createGroup,
  drained,
  type EnrollmentsApp,
  enroll,
  enrollmentQueue,
  failingSends,
  finalEnrollment,
  getEnrollment,
  newCpf,
  servicesOf,
} from './fixtures.js';

checkLogsHaveNoCpf();

/** Counts the transitions DynamoDB committed for `id` (successful writes setting a status). */
function countTransitions(clients: DynamoClients, committed: string[]): DynamoClients {
  clients.client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const command = context.commandName ?? '';
      const input = JSON.stringify((args as { input?: unknown }).input);
      if (/^(TransactWriteItems|UpdateItem)/.test(command) && input.includes('ENROLLMENT#')) {
        const id = /ENROLLMENT#([0-9a-f-]+)/.exec(input)?.[1];
        if (id && /PROCESSED|REJECTED/.test(input)) committed.push(id);
      }
      return result;
    },
    { step: 'initialize', name: 'countTransitions' },
  );
  return clients;
}

/** The guard item holding a CPF (digits), if any. */
const guardOf = (app: EnrollmentsApp, cpf: string) =>
  app.table(enrollmentsTable).get(enrollmentsKeys.cpf(cpfGuardKey(TEST_SECRETS.key('cpf'), cpf)));

/** Receives and deletes every message waiting in the queue (what the requests sent). */
async function dropQueued(app: EnrollmentsApp): Promise<void> {
  for (const message of await app.queues.receive(enrollmentQueue, 100)) {
    app.queues.delete(enrollmentQueue, message);
  }
}

/** The pending index's keys of an enrollment record (absent once it left PENDING). */
async function pendingKeys(app: EnrollmentsApp, id: string) {
  const item = await app.table(enrollmentsTable).get(enrollmentsKeys.enrollment(id));
  return { GSI2PK: item?.GSI2PK, GSI2SK: item?.GSI2SK };
}

describe('the processor', () => {
  it('processes an accepted request and takes it out of the pending index', async () => {
    const app = await createEnrollmentsApp({ start: false });
    await createGroup(app, 10, 20);
    const { enrollment_id: id } = await enroll(app, { age: 15 });
    expect(await pendingKeys(app, id)).toEqual({
      GSI2PK: expect.stringMatching(/^PENDING#[0-7]$/),
      GSI2SK: expect.stringContaining(id),
    });
    expect((await getEnrollment(app, id)).status).toBe('PENDING');

    await app.start();

    expect(await finalEnrollment(app, id)).toMatchObject({ status: 'PROCESSED' });
    expect(await pendingKeys(app, id)).toEqual({ GSI2PK: undefined, GSI2SK: undefined });
    await drained(app);
    expect(app.queues.deadLetters(enrollmentQueue)).toEqual([]);
    const { 'enrollments.EnrollmentRequeued': requeued, ...counted } = app.metrics.snapshot();
    expect(counted).toEqual({
      'enrollments.EnrollmentAccepted': 1,
      'enrollments.EnrollmentProcessed': 1,
    });
    // The start-up run sends the PENDING record again, unless the consumer (started first) has
    // already processed it; a second delivery changes nothing.
    expect([undefined, 1]).toContain(requeued);
  });

  it('rejects a request whose age group was deleted before it was processed, saying why', async () => {
    const app = await createEnrollmentsApp({ start: false });
    const group = await createGroup(app, 30, 40);
    const { enrollment_id: id } = await enroll(app, { age: 35 });
    expect((await app.call(`/age-groups/${group.id}`, { method: 'DELETE' })).status).toBe(200);

    await app.start();

    const final = await finalEnrollment(app, id);
    expect(final).toMatchObject({
      status: 'REJECTED',
      age_group_id: group.id,
      reason: groupGoneReason(group.id),
      processed_at: expect.any(String),
    });
    expect(await pendingKeys(app, id)).toEqual({ GSI2PK: undefined, GSI2SK: undefined });
    expect(app.metrics.get('enrollments.EnrollmentRejected')).toBe(1);
  });

  it('frees the CPF of a rejected request, so that CPF can enroll again', async () => {
    const app = await createEnrollmentsApp({ start: false });
    const group = await createGroup(app, 80, 89);
    const cpf = newCpf();
    const { enrollment_id: rejectedId } = await enroll(app, { age: 85, cpf });
    expect((await app.call(`/age-groups/${group.id}`, { method: 'DELETE' })).status).toBe(200);
    await app.start();
    expect((await finalEnrollment(app, rejectedId)).status).toBe('REJECTED');
    await createGroup(app, 80, 89);

    const again = await enroll(app, { age: 85, cpf });

    expect((await finalEnrollment(app, again.enrollment_id)).status).toBe('PROCESSED');
    expect(await guardOf(app, cpf)).toMatchObject({ enrollmentId: again.enrollment_id });
    // The CPF is held again, by the new enrollment; a late copy of the rejected request's
    // message frees nothing.
    await app.queues.queue(enrollmentQueue).send(enrollmentMessage(rejectedId));
    await drained(app);
    expect(await guardOf(app, cpf)).toMatchObject({ enrollmentId: again.enrollment_id });
    expect((await getEnrollment(app, rejectedId)).status).toBe('REJECTED');
    const third = await app.call('/enrollments', {
      method: 'POST',
      json: { name: 'Third Try', age: 85, cpf },
    });
    expect(third.status).toBe(409);
  });

  it('rejects a request stored without its guard key (before rejections freed CPFs), keeping its CPF held', async () => {
    const app = await createEnrollmentsApp({ start: false });
    const group = await createGroup(app, 90, 99);
    const cpf = newCpf();
    const { enrollment_id: id } = await enroll(app, { age: 95, cpf });
    await app.dynamo.doc.send(
      new UpdateCommand({
        TableName: app.config.tables.enrollments,
        Key: enrollmentsKeys.enrollment(id),
        UpdateExpression: 'REMOVE cpfKey',
      }),
    );
    expect((await app.call(`/age-groups/${group.id}`, { method: 'DELETE' })).status).toBe(200);

    await app.start();

    expect((await finalEnrollment(app, id)).status).toBe('REJECTED');
    expect(await guardOf(app, cpf)).toMatchObject({ enrollmentId: id });
  });

  it('makes one transition however often a message is delivered, at once or later', async () => {
    const transitions: string[] = [];
    const app = await createEnrollmentsApp({
      start: false,
      dynamo: (clients) => countTransitions(clients, transitions),
    });
    await createGroup(app, 0, 9);
    const { enrollment_id: id } = await enroll(app, { age: 5 });
    const queue = app.queues.queue(enrollmentQueue);
    // Two more copies of the wake-up beside the one the request sent: one batch of three.
    await queue.send(enrollmentMessage(id));
    await queue.send(enrollmentMessage(id));

    await app.start();
    const first = await finalEnrollment(app, id);
    await drained(app);
    // And twice more, later.
    await queue.sendBatch([enrollmentMessage(id), enrollmentMessage(id)]);
    await drained(app);

    expect(transitions).toEqual([id]);
    expect(await getEnrollment(app, id)).toEqual(first);
    expect(first.status).toBe('PROCESSED');
    expect(app.queues.deadLetters(enrollmentQueue)).toEqual([]);
  });

  it('sends undecodable messages, and messages naming no enrollment, to the DLQ at once', async () => {
    const app = await createEnrollmentsApp();
    const queue = app.queues.queue(enrollmentQueue);

    await queue.sendBatch([
      'not json',
      '{"enrollment_id": 42}',
      enrollmentMessage('0190a000-0000-7000-8000-000000000000'),
    ]);
    await drained(app);

    const dead = app.queues.deadLetters(enrollmentQueue);
    expect(dead.map(({ body, receiveCount, reason }) => ({ body, receiveCount, reason }))).toEqual(
      expect.arrayContaining([
        { body: 'not json', receiveCount: 1, reason: 'not an enrollment message' },
        { body: '{"enrollment_id": 42}', receiveCount: 1, reason: 'not an enrollment message' },
        {
          body: enrollmentMessage('0190a000-0000-7000-8000-000000000000'),
          receiveCount: 1,
          reason: 'no such enrollment',
        },
      ]),
    );
    expect(dead).toHaveLength(3);
  });

  it('moves a message that failed maxReceiveCount (5) times to the DLQ; the record stays PENDING', async () => {
    let failing = '';
    let faults: { failed: () => number } = { failed: () => 0 };
    const app = await createEnrollmentsApp({
      start: false,
      // Old enough for the scheduled reconciler only after the five receives.
      env: { ENROLLMENTS_RECONCILE_AFTER_SECONDS: '3' },
      dynamo: (clients) => {
        // Every read of this one enrollment by the processor fails: DynamoDB throttling it.
        faults = failCalls(clients, {
          when: both(
            commandIs('GetItem'),
            (call) => failing !== '' && inputMentions(failing)(call),
          ),
          times: Number.POSITIVE_INFINITY,
          error: throttled(),
        });
        return clients;
      },
    });
    await createGroup(app, 40, 49);
    const { enrollment_id: id } = await enroll(app, { age: 41 });
    const healthy = await enroll(app, { age: 42 });
    // The start-up run sends both again (one batch): drop the requests' own messages, so each
    // enrollment has one.
    await dropQueued(app);
    failing = `ENROLLMENT#${id}`;

    await app.start();
    await drained(app);

    expect(enrollmentQueue.maxReceiveCount).toBe(5);
    expect(faults.failed()).toBe(5);
    expect(app.queues.deadLetters(enrollmentQueue)).toEqual([
      {
        id: expect.any(String),
        body: enrollmentMessage(id),
        receiveCount: 5,
        reason: 'max receives',
      },
    ]);
    failing = '';
    expect((await getEnrollment(app, id)).status).toBe('PENDING');
    // The batch's other message was not held back by the failing one.
    expect((await getEnrollment(app, healthy.enrollment_id)).status).toBe('PROCESSED');
    // The record is the truth: the reconciler sends it again, and now it goes through.
    const acceptedAt = Date.parse((await getEnrollment(app, id)).created_at);
    await new Promise((done) => setTimeout(done, Math.max(0, acceptedAt + 3100 - Date.now())));
    expect(await servicesOf(app).reconcile()).toEqual({ requeued: 1 });
    expect((await finalEnrollment(app, id)).status).toBe('PROCESSED');
  });
});

describe('no lost enrollment', () => {
  it('sends every PENDING request again at start-up, however young (the local queue lost them)', async () => {
    const sends = failingSends(1);
    const app = await createEnrollmentsApp({
      start: false,
      wrapQueues: sends.wrap,
      // The default age (120 s), and no schedule: only the start-up run can send it again.
      env: { ENROLLMENTS_RECONCILE_SCHEDULE: 'off' },
    });
    await createGroup(app, 70, 79);
    const { enrollment_id: id } = await enroll(app, { age: 75 });
    expect(sends.failed()).toBe(1);
    expect(app.queues.depth(enrollmentQueue)).toBe(0);

    await app.start();

    expect((await finalEnrollment(app, id, 5_000)).status).toBe('PROCESSED');
    expect(app.metrics.get('enrollments.EnrollmentRequeued')).toBe(1);
  });

  it('finishes a request whose send failed after the write, through the scheduled reconciler', async () => {
    const sends = failingSends(1);
    const app = await createEnrollmentsApp({
      wrapQueues: sends.wrap,
      env: {
        ENROLLMENTS_RECONCILE_AFTER_SECONDS: '1',
        ENROLLMENTS_RECONCILE_SCHEDULE: 'rate(1 second)',
      },
    });
    await createGroup(app, 50, 59);

    const res = await app.call('/enrollments', {
      method: 'POST',
      json: { name: 'Lost Message', age: 55, cpf: newCpf() },
    });

    expect(res.status).toBe(202);
    const { enrollment_id: id } = (await res.json()) as { enrollment_id: string };
    expect(sends.failed()).toBe(1);
    expect(app.queues.depth(enrollmentQueue)).toBe(0);
    expect((await getEnrollment(app, id)).status).toBe('PENDING');
    expect((await finalEnrollment(app, id, 15_000)).status).toBe('PROCESSED');
  });

  it('re-enqueues only requests pending longer than the configured age, from the index', async () => {
    const commands: string[] = [];
    const app = await createEnrollmentsApp({
      start: false,
      env: { ENROLLMENTS_RECONCILE_AFTER_SECONDS: '2' },
      dynamo: (clients) => {
        clients.client.middlewareStack.add(
          (next, context) => (args) => {
            commands.push(context.commandName ?? '');
            return next(args);
          },
          { step: 'initialize', name: 'recordCommands' },
        );
        return clients;
      },
    });
    await createGroup(app, 60, 69);
    const old = await Promise.all(
      Array.from({ length: 12 }, (_, i) => enroll(app, { age: 60 + (i % 10) })),
    );
    await new Promise((done) => setTimeout(done, 2100));
    const young = await enroll(app, { age: 65 });
    // Only the messages the reconciler sends: drop those the requests sent.
    await app.queues.receive(enrollmentQueue, 100).then((received) => {
      for (const message of received) app.queues.delete(enrollmentQueue, message);
    });
    commands.length = 0;

    const { requeued } = await servicesOf(app).reconcile();

    expect(requeued).toBe(12);
    const bodies = (await app.queues.receive(enrollmentQueue, 100)).map((m) => m.body).sort();
    expect(bodies).toEqual(old.map((e) => enrollmentMessage(e.enrollment_id)).sort());
    expect(bodies).not.toContain(enrollmentMessage(young.enrollment_id));
    expect(commands.every((command) => command === 'QueryCommand')).toBe(true);
    expect(commands).toHaveLength(8); // one query per shard of the pending index
  });
});
