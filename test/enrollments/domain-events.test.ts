import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { enrollmentsKeys } from '../../src/modules/enrollments/enrollments.dynamo.js';
import { enrollmentsTable } from '../../src/modules/enrollments/enrollments.module.js';
import { cpfGuardKey, enrollmentMessage } from '../../src/modules/enrollments/enrollments.rules.js';
import { type DomainEvent, outboxQueue } from '../../src/platform/outbox/outbox.js';
import { loggedEvents, TEST_SECRETS, type TestApp } from '../support/app.js';
import { outboxPutFails } from '../support/faults.js';
import {
  bodyOf,
  checkLogsHaveNoCpf,
  createEnrollmentsApp,
  createGroup,
  drained,
  type EnrollmentsApp,
  enroll,
  enrollmentQueue,
  expectProblem,
  finalEnrollment,
  getEnrollment,
  newCpf,
  sentCpf,
  servicesOf,
  withWrongCheckDigit,
} from './fixtures.js';

/*
 * An enrollment's domain events are committed in the transactions that change it: accepted with
 * the PENDING record (sequence 1), processed or rejected when the processor takes it out of
 * PENDING (sequence 2, once: a request leaves PENDING once). A refused request, a replay and a
 * second delivery commit none, and no change commits without its event.
 */

checkLogsHaveNoCpf();

/** A wake-up of the processor for `id`, as the queue hands it over. */
const messageFor = (id: string) => ({
  id: `m-${id}`,
  body: enrollmentMessage(id),
  receiveCount: 1,
});

describe('enrollment.accepted', () => {
  it('is committed with the PENDING record as GET answers it, at sequence 1, and announced', async () => {
    const app = await createEnrollmentsApp({ start: false });
    await createGroup(app, 18, 25);

    const { enrollment_id: id } = await enroll(app, { age: 22 });

    const shown = await getEnrollment(app, id);
    expect(shown.status).toBe('PENDING');
    const events = await eventsOf(app, id);
    expect(events).toEqual([
      {
        id: expect.any(String),
        type: 'enrollment.accepted',
        occurredAt: shown.created_at,
        aggregate: { type: 'enrollment', id, sequence: 1 },
        data: shown,
      },
    ]);
    expect(await announced(app)).toEqual([events[0]?.id]);
  });

  it('is committed once for a retry with the same Idempotency-Key', async () => {
    const app = await createEnrollmentsApp({ start: false });
    await createGroup(app, 18, 25);
    const cpf = newCpf();
    const send = () =>
      app.call('/enrollments', {
        method: 'POST',
        headers: { 'idempotency-key': `events-${cpf}` },
        json: { name: 'Retrying Client', age: 20, cpf },
      });

    const { enrollment_id: id } = await bodyOf<{ enrollment_id: string }>(await send(), 202);
    const replayed = await send();

    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(await bodyOf(replayed, 202)).toEqual({ enrollment_id: id, status: 'PENDING' });

    expect((await loggedEvents(app)).map((event) => [event.type, event.aggregate.id])).toEqual([
      ['enrollment.accepted', id],
    ]);
  });

  it('is not committed again for a retry whose first answer was lost (same request key)', async () => {
    const app = await createEnrollmentsApp({ start: false });
    await createGroup(app, 30, 39);
    const input = { name: 'Lost Answer', age: 33, cpf: newCpf() };
    const first = await servicesOf(app).enroll(input, 'lost-answer');

    const retried = await servicesOf(app).enroll(input, 'lost-answer');

    expect(retried.id).toBe(first.id);
    expect((await loggedEvents(app)).map((event) => [event.type, event.aggregate.id])).toEqual([
      ['enrollment.accepted', first.id],
    ]);
  });

  it('is not committed for a refused request: bad CPF, no age group, CPF taken, unknown field', async () => {
    const app = await createEnrollmentsApp({ start: false });
    await createGroup(app, 18, 25);
    const cpf = newCpf();
    await enroll(app, { age: 20, cpf });
    const before = await loggedEvents(app);
    const post = (json: object) => app.call('/enrollments', { method: 'POST', json });

    await expectProblem(
      await post({ name: 'A', age: 20, cpf: sentCpf(withWrongCheckDigit(newCpf())) }),
      422,
    );
    await expectProblem(await post({ name: 'A', age: 70, cpf: newCpf() }), 422);
    await expectProblem(await post({ name: 'A', age: 21, cpf }), 409);
    await expectProblem(await post({ name: 'A', age: 21, cpf: newCpf(), extra: true }), 422);

    expect(before).toHaveLength(1);
    expect(await loggedEvents(app)).toEqual(before);
  });

  it('takes the PENDING record and the CPF guard with it when its write fails', async () => {
    const fault = outboxPutFails();
    const app = await createEnrollmentsApp({ start: false, dynamo: fault.install });
    await createGroup(app, 18, 25);
    const cpf = newCpf();
    fault.armed = true;

    await expectProblem(
      await app.call('/enrollments', { method: 'POST', json: { name: 'A', age: 20, cpf } }),
      500,
    );

    fault.armed = false;
    expect(fault.cancelled()).toBe(1);
    expect(await enrollmentItems(app)).toEqual([]);
    expect(await loggedEvents(app)).toEqual([]);
    // No guard holds the CPF: it enrolls now.
    const { enrollment_id: id } = await enroll(app, { age: 20, cpf });
    expect((await eventsOf(app, id)).map((event) => event.type)).toEqual(['enrollment.accepted']);
  });
});

describe('enrollment.processed', () => {
  it('is committed once by the queue consumer, at sequence 2, with the record as GET answers it', async () => {
    const app = await createEnrollmentsApp({ start: false });
    await createGroup(app, 0, 9);
    const { enrollment_id: id } = await enroll(app, { age: 5 });

    await app.start();
    const shown = await finalEnrollment(app, id);
    // A second delivery, later, changes nothing.
    await app.queues.queue(enrollmentQueue).send(enrollmentMessage(id));
    await drained(app);

    expect(shown.status).toBe('PROCESSED');
    expect(await getEnrollment(app, id)).toEqual(shown);
    const events = await eventsOf(app, id);
    expect(events.map((event) => event.type)).toEqual([
      'enrollment.accepted',
      'enrollment.processed',
    ]);
    expect(events[1]).toEqual({
      id: expect.any(String),
      type: 'enrollment.processed',
      occurredAt: shown.processed_at,
      aggregate: { type: 'enrollment', id, sequence: 2 },
      data: shown,
    });
    expect(await announced(app)).toEqual(events.map((event) => event.id));
  });

  it('leaves the request PENDING when the transition’s write fails: no change without its event', async () => {
    const fault = outboxPutFails();
    const app = await createEnrollmentsApp({ start: false, dynamo: fault.install });
    await createGroup(app, 0, 9);
    const { enrollment_id: id } = await enroll(app, { age: 5 });
    const pending = await getEnrollment(app, id);
    fault.armed = true;

    await expect(servicesOf(app).process(messageFor(id))).rejects.toThrow();

    fault.armed = false;
    expect(fault.cancelled()).toBe(1);
    expect(await getEnrollment(app, id)).toEqual(pending);
    expect((await eventsOf(app, id)).map((event) => event.type)).toEqual(['enrollment.accepted']);
    // The message comes back and goes through: the event comes with the change.
    expect(await servicesOf(app).process(messageFor(id))).toBe('PROCESSED');
    expect((await eventsOf(app, id)).map((event) => event.type)).toEqual([
      'enrollment.accepted',
      'enrollment.processed',
    ]);
  });
});

describe('enrollment.rejected', () => {
  it('is committed once by the queue consumer when the group was deleted, at sequence 2, with the reason', async () => {
    const app = await createEnrollmentsApp({ start: false });
    const group = await createGroup(app, 30, 40);
    const { enrollment_id: id } = await enroll(app, { age: 35 });
    expect((await app.call(`/age-groups/${group.id}`, { method: 'DELETE' })).status).toBe(200);

    await app.start();
    const shown = await finalEnrollment(app, id);
    await app.queues.queue(enrollmentQueue).send(enrollmentMessage(id));
    await drained(app);

    expect(shown).toMatchObject({ status: 'REJECTED', reason: expect.any(String) });
    const events = await eventsOf(app, id);
    expect(events.map((event) => event.type)).toEqual([
      'enrollment.accepted',
      'enrollment.rejected',
    ]);
    expect(events[1]).toEqual({
      id: expect.any(String),
      type: 'enrollment.rejected',
      occurredAt: shown.processed_at,
      aggregate: { type: 'enrollment', id, sequence: 2 },
      data: shown,
    });
    expect(await announced(app)).toEqual(events.map((event) => event.id));
  });

  it('is committed for a record stored without its guard key, whose rejection leaves the guard', async () => {
    const app = await createEnrollmentsApp({ start: false });
    const group = await createGroup(app, 90, 99);
    const { enrollment_id: id } = await enroll(app, { age: 95 });
    await app.dynamo.doc.send(
      new UpdateCommand({
        TableName: app.config.tables.enrollments,
        Key: enrollmentsKeys.enrollment(id),
        UpdateExpression: 'REMOVE cpfKey',
      }),
    );
    expect((await app.call(`/age-groups/${group.id}`, { method: 'DELETE' })).status).toBe(200);

    expect(await servicesOf(app).process(messageFor(id))).toBe('REJECTED');
    expect(await servicesOf(app).process(messageFor(id))).toBe('already-final');

    const events = await eventsOf(app, id);
    expect(events.map((event) => [event.type, event.aggregate.sequence])).toEqual([
      ['enrollment.accepted', 1],
      ['enrollment.rejected', 2],
    ]);
    expect(events[1]?.data).toEqual(await getEnrollment(app, id));
  });

  it('leaves the request PENDING and its CPF held when the rejection’s write fails', async () => {
    const fault = outboxPutFails();
    const app = await createEnrollmentsApp({ start: false, dynamo: fault.install });
    const group = await createGroup(app, 60, 69);
    const cpf = newCpf();
    const { enrollment_id: id } = await enroll(app, { age: 65, cpf });
    expect((await app.call(`/age-groups/${group.id}`, { method: 'DELETE' })).status).toBe(200);
    const pending = await getEnrollment(app, id);
    fault.armed = true;

    await expect(servicesOf(app).process(messageFor(id))).rejects.toThrow();

    fault.armed = false;
    expect(fault.cancelled()).toBeGreaterThanOrEqual(1);
    expect(await getEnrollment(app, id)).toEqual(pending);
    const guard = await app
      .table(enrollmentsTable)
      .get(enrollmentsKeys.cpf(cpfGuardKey(TEST_SECRETS.key('cpf'), cpf)));
    expect(guard).toMatchObject({ enrollmentId: id });
    expect((await eventsOf(app, id)).map((event) => event.type)).toEqual(['enrollment.accepted']);
  });
});

async function eventsOf(app: TestApp, id: string): Promise<DomainEvent[]> {
  return (await loggedEvents(app)).filter((event) => event.aggregate.id === id);
}

/** The event ids the wake-ups on the domain-events queue announced (received and deleted). */
async function announced(app: EnrollmentsApp): Promise<string[]> {
  const ids: string[] = [];
  for (const message of await app.queues.receive(outboxQueue, 100)) {
    ids.push(...(JSON.parse(message.body) as { eventIds: string[] }).eventIds);
    app.queues.delete(outboxQueue, message);
  }
  return ids;
}

/** The enrollment records in the app's table, whatever their status. */
async function enrollmentItems(app: TestApp): Promise<unknown[]> {
  const { Items } = await app.dynamo.doc.send(
    new ScanCommand({
      TableName: app.config.tables.enrollments,
      FilterExpression: '#type = :enrollment',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':enrollment': 'enrollment' },
    }),
  );
  return Items ?? [];
}
