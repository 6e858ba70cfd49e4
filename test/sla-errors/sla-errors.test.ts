import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authModule } from '../../src/modules/auth/auth.module.js';
import { slaErrorsModule } from '../../src/modules/sla-errors/sla-errors.module.js';
import { MemoryMetrics } from '../../src/platform/metrics/metrics.js';
import {
  addUser,
  claimsOf,
  createLocalIssuer,
  type LocalIssuer,
  signIn,
} from '../auth/fixtures.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { injectFaults, transactionConflict } from '../support/faults.js';
import { bodyOf, expectProblem, isUuid } from '../support/fixture-app.js';
import { validRecord } from './fixtures.js';

let issuer: LocalIssuer;
let app: TestApp;
let bearer: string;
let sub: string;
const metrics = new MemoryMetrics();

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
    ports: { tokens: issuer.tokens, metrics },
  });
  await addUser(app, 'reporter');
  bearer = (await signIn(app, 'reporter')).access_token;
  sub = claimsOf(bearer).sub as string;
});

afterAll(async () => {
  await issuer.cleanup();
});

describe('POST /sla-errors', () => {
  it('answers 200 {id} and stores the record with the submitter’s subject', async () => {
    const res = await file({ ...validRecord, receivedAt: '2026-11-21T12:42:00+02:00' });

    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    expect(isUuid(id)).toBe(true);
    expect(metrics.snapshot()).toMatchObject({
      'auth.SignInSucceeded': 1,
      'sla-errors.SlaErrorRecorded': 1,
      'sla-errors.SlaErrorRecordedHigh': 1, // validRecord.severity
    });
    expect(res.headers.get('location')).toBe(`/sla-errors/${id}`);
    const stored = await app.call(`/sla-errors/${id}`);
    expect(stored.status).toBe(200);
    expect(await stored.json()).toEqual({
      ...validRecord,
      id,
      slaDeadline: '2026-11-21T10:00:00.000Z',
      receivedAt: '2026-11-21T10:42:00.000Z',
      submittedBy: sub,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
  });

  it('takes the filing time as receivedAt when it is not given', async () => {
    const { receivedAt: _, ...withoutReceivedAt } = validRecord;

    const res = await file(withoutReceivedAt);

    const { id } = (await res.json()) as { id: string };
    const stored = (await (await app.call(`/sla-errors/${id}`)).json()) as Record<string, string>;
    expect(stored.receivedAt).toBe(stored.createdAt);
  });

  it('replays the first answer for the same Idempotency-Key, storing one record', async () => {
    const fileName = `idempotent-${Date.now()}.csv`;
    const first = await file({ ...validRecord, fileName }, { 'idempotency-key': `k-${fileName}` });
    const again = await file({ ...validRecord, fileName }, { 'idempotency-key': `k-${fileName}` });

    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(await first.json());
    const listed = await app.call(`/sla-errors?fileName=${fileName}`);
    expect(await listed.json()).toHaveLength(1);
  });

  it('answers 401 to an API key alone, telling the caller a bearer token is needed', async () => {
    const res = await app.call('/sla-errors', { method: 'POST', json: validRecord });

    await expectProblem(res, 401, 'AUTH.TOKEN_REQUIRED');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('takes the bearer token when an API key comes along', async () => {
    const res = await app.call('/sla-errors', {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
      json: validRecord,
    });

    expect(res.status).toBe(200);
  });

  it('still accepts a token of a user removed after it was issued, until it expires (documented)', async () => {
    await addUser(app, 'leaver');
    const { access_token } = await signIn(app, 'leaver');
    await app.servicesOf(authModule).auth.removeUser('leaver');

    const res = await app.call('/sla-errors', {
      method: 'POST',
      key: null,
      headers: { authorization: `Bearer ${access_token}` },
      json: validRecord,
    });

    expect(res.status).toBe(200);
  });
});

describe('POST /sla-errors validation (400 for every user error)', () => {
  const long = (n: number) => 'x'.repeat(n);
  const without = (field: keyof typeof validRecord) => {
    const { [field]: _, ...rest } = validRecord;
    return rest;
  };

  it.each([
    ['no fileName', without('fileName'), 'body.fileName'],
    ['no slaDeadline', without('slaDeadline'), 'body.slaDeadline'],
    ['no errorCode', without('errorCode'), 'body.errorCode'],
    ['no message', without('message'), 'body.message'],
    ['no severity', without('severity'), 'body.severity'],
    ['no source', without('source'), 'body.source'],
    ['an empty fileName', { ...validRecord, fileName: '' }, 'body.fileName'],
    ['a blank fileName', { ...validRecord, fileName: '   ' }, 'body.fileName'],
    ['a fileName over 255 characters', { ...validRecord, fileName: long(256) }, 'body.fileName'],
    [
      'a control character in fileName',
      { ...validRecord, fileName: 'a\u0000b.csv' },
      'body.fileName',
    ],
    [
      'slaDeadline not a date-time',
      { ...validRecord, slaDeadline: 'tomorrow' },
      'body.slaDeadline',
    ],
    ['slaDeadline a date only', { ...validRecord, slaDeadline: '2026-11-21' }, 'body.slaDeadline'],
    [
      'slaDeadline month 13',
      { ...validRecord, slaDeadline: '2026-13-01T00:00:00Z' },
      'body.slaDeadline',
    ],
    ['slaDeadline a number', { ...validRecord, slaDeadline: 1_700_000_000 }, 'body.slaDeadline'],
    ['receivedAt not a date-time', { ...validRecord, receivedAt: 'now' }, 'body.receivedAt'],
    ['an unknown severity', { ...validRecord, severity: 'urgent' }, 'body.severity'],
    ['severity in capitals', { ...validRecord, severity: 'HIGH' }, 'body.severity'],
    ['an errorCode with spaces', { ...validRecord, errorCode: 'SLA BREACH' }, 'body.errorCode'],
    ['an errorCode over 64 characters', { ...validRecord, errorCode: long(65) }, 'body.errorCode'],
    ['a message over 2000 characters', { ...validRecord, message: long(2001) }, 'body.message'],
    ['an empty source', { ...validRecord, source: '' }, 'body.source'],
    ['a source over 200 characters', { ...validRecord, source: long(201) }, 'body.source'],
    ['an unknown field', { ...validRecord, recievedAt: '2026-11-21T10:42:00Z' }, 'body'],
    ['a C1 control in fileName', { ...validRecord, fileName: 'a\u009b2Jb.csv' }, 'body.fileName'],
    ['NEL (a C1 control) in message', { ...validRecord, message: 'one\u0085two' }, 'body.message'],
    [
      'a bidi override in fileName',
      { ...validRecord, fileName: 'invoice\u202Efdp.exe' },
      'body.fileName',
    ],
    ['a bidi isolate in source', { ...validRecord, source: 'sftp\u2066x\u2069' }, 'body.source'],
    ['a bidi embedding in message', { ...validRecord, message: 'late \u202Bby' }, 'body.message'],
    ['a line break in source', { ...validRecord, source: 'sftp\ningest' }, 'body.source'],
    ['a tab in fileName', { ...validRecord, fileName: 'a\tb.csv' }, 'body.fileName'],
    [
      'slaDeadline before year 0000 in UTC',
      { ...validRecord, slaDeadline: '0000-01-01T00:30:00+01:00' },
      'body.slaDeadline',
    ],
    [
      'receivedAt after year 9999 in UTC',
      { ...validRecord, receivedAt: '9999-12-31T23:30:00-01:00' },
      'body.receivedAt',
    ],
  ])('answers 400 for %s', async (_case, json, path) => {
    const res = await file(json);

    const problem = await expectProblem(res, 400, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });

  it('answers 400 listing every bad field at once', async () => {
    const res = await file({ ...validRecord, severity: 'urgent', slaDeadline: 'soon', source: '' });

    const problem = await expectProblem(res, 400, 'REQUEST.VALIDATION_FAILED');
    expect([...new Set(problem.errors?.map((e) => e.path))].sort()).toEqual([
      'body.severity',
      'body.slaDeadline',
      'body.source',
    ]);
  });

  it('names what it refuses: the character and where, the year range, the unknown field', async () => {
    const res = await file({
      ...validRecord,
      fileName: 'report\u202Ecsv.exe',
      slaDeadline: '9999-12-31T23:30:00-01:00',
      sevrity: 'high',
    });

    const problem = await expectProblem(res, 400, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual([
      {
        path: 'body.fileName',
        message: 'must not contain U+202E (a bidirectional formatting character) at character 7',
      },
      {
        path: 'body.slaDeadline',
        message: 'must fall in the years 0000–9999 once converted to UTC',
      },
      {
        path: 'body',
        message:
          'unknown field "sevrity" (the fields are fileName, slaDeadline, receivedAt, errorCode, message, severity, source)',
      },
    ]);
  });

  it('accepts the first and last instants of years 0000–9999 in UTC, given with offsets', async () => {
    const res = await file({
      ...validRecord,
      slaDeadline: '0000-01-01T01:00:00+01:00',
      receivedAt: '9999-12-31T22:59:59.999-01:00',
    });

    const { id } = await bodyOf<{ id: string }>(res, 200);
    expect(await bodyOf(await app.call(`/sla-errors/${id}`), 200)).toMatchObject({
      slaDeadline: '0000-01-01T00:00:00.000Z',
      receivedAt: '9999-12-31T23:59:59.999Z',
    });
  });

  it('keeps line breaks and tabs in a message', async () => {
    const res = await file({ ...validRecord, message: 'line one\r\n\tline two\nthree' });

    expect(res.status).toBe(200);
  });

  it.each([
    ['an array', [validRecord]],
    ['a string', 'an error'],
    ['null', null],
  ])('answers 400 for a body that is %s', async (_case, json) => {
    const res = await file(json);

    await expectProblem(res, 400);
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await app.call('/sla-errors', {
      method: 'POST',
      key: null,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: '{"fileName":',
    });

    await expectProblem(res, 400, 'REQUEST.MALFORMED_JSON');
  });
});

describe('GET /sla-errors', () => {
  const run = `run-${Date.now()}`;
  const at = (minute: number) => `2026-11-21T10:${String(minute).padStart(2, '0')}:00.000Z`;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // Filed out of order: the list orders by receivedAt, not by filing.
    for (const [name, fileName, minute] of [
      ['b1', `${run}-b.csv`, 10],
      ['a1', `${run}-a.csv`, 5],
      ['a3', `${run}-a.csv`, 30],
      ['a2', `${run}-a.csv`, 20],
    ] as const) {
      const res = await file({ ...validRecord, fileName, receivedAt: at(minute) });
      ids[name] = ((await res.json()) as { id: string }).id;
    }
  });

  const list = async (query: string) => {
    const res = await app.call(`/sla-errors?${query}`);
    expect(res.status).toBe(200);
    return { res, ids: ((await res.json()) as { id: string }[]).map((r) => r.id) };
  };

  it('lists one file’s records newest first', async () => {
    const { ids: found } = await list(`fileName=${run}-a.csv`);

    expect(found).toEqual([ids.a3, ids.a2, ids.a1]);
  });

  it('lists every file’s records newest first within [from, to)', async () => {
    const { ids: found } = await list(`from=${at(5)}&to=${at(30)}`);

    expect(found).toEqual([ids.a2, ids.b1, ids.a1]);
  });

  it('applies from and to to one file’s records, from inclusive and to exclusive', async () => {
    const { ids: found } = await list(`fileName=${run}-a.csv&from=${at(20)}&to=${at(30)}`);

    expect(found).toEqual([ids.a2]);
  });

  it('takes from alone and to alone, and offsets in either', async () => {
    const after = await list(
      `fileName=${run}-a.csv&from=${encodeURIComponent('2026-11-21T12:20:00+02:00')}`,
    );
    const before = await list(`fileName=${run}-a.csv&to=${at(20)}`);

    expect(after.ids).toEqual([ids.a3, ids.a2]);
    expect(before.ids).toEqual([ids.a1]);
  });

  it('pages with limit and a Link to the next page', async () => {
    const first = await list(`fileName=${run}-a.csv&limit=2`);
    const link = first.res.headers.get('link');
    expect(link).toMatch(/rel="next"/);
    const next = /<([^>]+)>/.exec(link ?? '')?.[1] ?? '';
    const second = await list(next.slice(1));

    expect(first.ids).toEqual([ids.a3, ids.a2]);
    expect(second.ids).toEqual([ids.a1]);
    expect(second.res.headers.get('link')).toBeNull();
  });

  it('accepts a bearer token instead of an API key', async () => {
    const res = await app.call(`/sla-errors?fileName=${run}-b.csv`, {
      key: null,
      headers: { authorization: `Bearer ${bearer}` },
    });

    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }[]).map((r) => r.id)).toEqual([ids.b1]);
  });

  it.each([
    ['from after to', `from=${at(30)}&to=${at(5)}`, 'SLA_ERRORS.EMPTY_RANGE'],
    ['from equal to to', `from=${at(5)}&to=${at(5)}`, 'SLA_ERRORS.EMPTY_RANGE'],
    ['from not a date-time', 'from=yesterday', 'REQUEST.VALIDATION_FAILED'],
    ['limit 0', 'limit=0', 'REQUEST.VALIDATION_FAILED'],
    ['limit 201', 'limit=201', 'REQUEST.VALIDATION_FAILED'],
    ['to past year 9999 in UTC', 'to=9999-12-31T23:30:00-01:00', 'REQUEST.VALIDATION_FAILED'],
    [
      'from before year 0000 in UTC',
      'from=0000-01-01T00:30:00%2B01:00',
      'REQUEST.VALIDATION_FAILED',
    ],
    ['a fileName with a bidi override', 'fileName=a%E2%80%AEb', 'REQUEST.VALIDATION_FAILED'],
    ['a fileName with a C1 control', 'fileName=a%C2%85b', 'REQUEST.VALIDATION_FAILED'],
    ['a cursor of another list', `fileName=x&cursor=abc`, undefined],
  ])('answers 400 for %s', async (_case, query, code) => {
    const res = await app.call(`/sla-errors?${query}`);

    await expectProblem(res, 400, code);
  });

  it('refuses a cursor from one file’s list on another’s', async () => {
    const first = await list(`fileName=${run}-a.csv&limit=1`);
    const cursor = new URLSearchParams(
      /<\?([^>]+)>/.exec(first.res.headers.get('link') ?? '')?.[1],
    ).get('cursor');

    const res = await app.call(
      `/sla-errors?fileName=${run}-b.csv&cursor=${encodeURIComponent(cursor ?? '')}`,
    );

    await expectProblem(res, 400);
  });
});

describe('GET /sla-errors/{id}', () => {
  it('answers 404 for an id that was never filed', async () => {
    const res = await app.call('/sla-errors/019a8f3e-5a3c-7c1e-9d2b-3f4a5b6c7d8e');

    await expectProblem(res, 404, 'SLA_ERRORS.NOT_FOUND');
  });

  it('answers 400 for an id that is not a UUID', async () => {
    const res = await app.call('/sla-errors/not-a-uuid');

    await expectProblem(res, 400, 'REQUEST.VALIDATION_FAILED');
  });

  it('answers 401 without credentials', async () => {
    const res = await app.call('/sla-errors/019a8f3e-5a3c-7c1e-9d2b-3f4a5b6c7d8e', { key: null });

    await expectProblem(res, 401);
  });
});

describe('POST /sla-errors when DynamoDB keeps cancelling the write for contention', () => {
  it('answers 503 with Retry-After, not 500', async () => {
    const faulty = await createTestApp({
      modules: [authModule, slaErrorsModule],
      ports: { tokens: issuer.tokens },
      dynamo: (clients) => {
        injectFaults(clients, {
          command: 'TransactWrite',
          times: Number.POSITIVE_INFINITY,
          error: transactionConflict(2),
        });
        return clients;
      },
    });

    const res = await faulty.call('/sla-errors', {
      method: 'POST',
      key: null,
      headers: { authorization: `Bearer ${bearer}`, 'idempotency-key': `busy-${Date.now()}` },
      json: validRecord,
    });

    await expectProblem(res, 503, 'SLA_ERRORS.BUSY');
    expect(res.headers.get('retry-after')).toBe('1');
  });
});
