import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authModule } from '../../src/modules/auth/auth.module.js';
import { slaErrorsModule } from '../../src/modules/sla-errors/sla-errors.module.js';
import { addUser, createLocalIssuer, type LocalIssuer, signIn } from '../auth/fixtures.js';
import { createTestApp, loggedEvents, type TestApp } from '../support/app.js';
import { outboxPutFails } from '../support/faults.js';
import { bodyOf, expectProblem } from '../support/fixture-app.js';
import { validRecord } from './fixtures.js';

/*
 * sla_error.recorded is committed in the transaction that stores the record: one event per
 * record, none for a refused or replayed filing, and no record without its event.
 */

let issuer: LocalIssuer;
let app: TestApp;
let bearer: string;
const outboxFault = outboxPutFails();

const file = (json: unknown, headers: Record<string, string> = {}) =>
  app.call('/sla-errors', {
    method: 'POST',
    key: null,
    headers: { authorization: `Bearer ${bearer}`, ...headers },
    json,
  });

beforeAll(async () => {
  issuer = await createLocalIssuer();
  app = await createTestApp({
    modules: [authModule, slaErrorsModule],
    ports: { tokens: issuer.tokens },
    dynamo: outboxFault.install,
  });
  await addUser(app, 'events-reporter');
  bearer = (await signIn(app, 'events-reporter')).access_token;
});

afterAll(async () => {
  await issuer.cleanup();
});

describe('sla_error.recorded', () => {
  it('is committed once with the record as GET /sla-errors/{id} answers it, at sequence 1', async () => {
    const { id } = await bodyOf<{ id: string }>(await file(validRecord), 200);

    const shown = await bodyOf<unknown>(await app.call(`/sla-errors/${id}`), 200);
    const events = (await loggedEvents(app)).filter((event) => event.aggregate.id === id);
    expect(events).toEqual([
      {
        id: expect.any(String),
        type: 'sla_error.recorded',
        occurredAt: expect.any(String),
        aggregate: { type: 'sla_error', id, sequence: 1 },
        data: shown,
      },
    ]);
    expect(await app.outbox.get(events[0]?.id ?? '')).toEqual(events[0]);
  });

  it('is committed once for a filing with an Idempotency-Key, and not again for its replay', async () => {
    const headers = { 'idempotency-key': `events-${Date.now()}` };
    const first = await bodyOf<{ id: string }>(await file(validRecord, headers), 200);

    const again = await bodyOf<{ id: string }>(await file(validRecord, headers), 200);

    expect(again).toEqual(first);
    const events = (await loggedEvents(app)).filter((e) => e.aggregate.id === first.id);
    expect(events.map((event) => event.type)).toEqual(['sla_error.recorded']);
  });

  it('is not committed again when a retry whose first answer was lost finds the earlier record', async () => {
    const service = app.servicesOf(slaErrorsModule).slaErrors;
    const requestKey = `lost-${Date.now()}`;
    const input = { ...validRecord, severity: 'low' as const };
    const first = await service.recordSlaError(input, 'events-reporter', requestKey);
    const before = await loggedEvents(app);

    const retried = await service.recordSlaError(input, 'events-reporter', requestKey);

    expect(retried).toEqual(first);
    expect(before.filter((e) => e.aggregate.id === first.id)).toHaveLength(1);
    expect(await loggedEvents(app)).toEqual(before);
  });

  it('is not committed for a refused filing', async () => {
    const before = (await loggedEvents(app)).length;

    await expectProblem(await file({ ...validRecord, severity: 'urgent' }), 400);
    await expectProblem(await file({ ...validRecord, unknownField: 1 }), 400);
    await expectProblem(await app.call('/sla-errors', { method: 'POST', json: validRecord }), 401);

    expect((await loggedEvents(app)).length).toBe(before);
  });

  it('takes the record with it when its write fails: no record without its event', async () => {
    const fileName = `atomic-${Date.now()}.csv`;
    const before = (await loggedEvents(app)).length;
    outboxFault.armed = true;
    try {
      await expectProblem(await file({ ...validRecord, fileName }), 500);
      await expectProblem(
        await file({ ...validRecord, fileName }, { 'idempotency-key': `atomic-${fileName}` }),
        500,
      );
    } finally {
      outboxFault.armed = false;
    }

    expect(outboxFault.cancelled()).toBe(2);
    expect(await bodyOf(await app.call(`/sla-errors?fileName=${fileName}`), 200)).toEqual([]);
    expect((await loggedEvents(app)).length).toBe(before);
  });
});
