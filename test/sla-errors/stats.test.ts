import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authModule } from '../../src/modules/auth/auth.module.js';
import { slaErrorsModule } from '../../src/modules/sla-errors/sla-errors.module.js';
import { addUser, createLocalIssuer, type LocalIssuer, signIn } from '../auth/fixtures.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { delayCalls, type SdkCall } from '../support/faults.js';
import { bodyOf, expectProblem } from '../support/fixture-app.js';
import { validRecord } from './fixtures.js';

interface DayCounts {
  day: string;
  low: number;
  medium: number;
  high: number;
  critical: number;
  total: number;
}

interface SlaErrorStats {
  from: string;
  to: string;
  days: DayCounts[];
  totals: Record<'low' | 'medium' | 'high' | 'critical', number>;
  total: number;
}

/** `day low/medium/high/critical` per day. */
const compact = (stats: SlaErrorStats) =>
  stats.days.map((d) => `${d.day} ${d.low}/${d.medium}/${d.high}/${d.critical}`);

let issuer: LocalIssuer;
let app: TestApp;
let bearer: string;
let now = Date.parse('2026-05-20T15:00:00.000Z');
const calls: SdkCall[] = [];

beforeAll(async () => {
  issuer = await createLocalIssuer();
  app = await createTestApp({
    modules: [authModule, slaErrorsModule],
    ports: { tokens: issuer.tokens },
    clock: () => new Date(now),
    dynamo: (clients) => {
      // Records every call (a matcher that holds none): what one stats request reads.
      delayCalls(clients, {
        when: (call) => {
          calls.push(call);
          return false;
        },
      });
      return clients;
    },
  });
  await addUser(app, 'reporter');
  now = Date.now();
  bearer = (await signIn(app, 'reporter')).access_token;
  now = Date.parse('2026-05-20T15:00:00.000Z');
  const file = async (receivedAt: string, severity: string) => {
    const res = await app.call('/sla-errors', {
      method: 'POST',
      key: null,
      headers: { authorization: `Bearer ${bearer}` },
      json: { ...validRecord, receivedAt, severity },
    });
    expect(res.status).toBe(200);
  };
  await file('2026-05-18T23:59:59.999Z', 'high');
  await file('2026-05-19T00:00:00.000Z', 'low');
  await file('2026-05-19T10:00:00+02:00', 'critical');
  await file('2026-05-19T22:30:00-03:00', 'low'); // 2026-05-20T01:30Z
  await file('2026-05-20T14:00:00Z', 'low');
  await file('2026-05-20T14:30:00Z', 'high');
  await file('2026-04-01T00:00:00Z', 'medium');
});

afterAll(async () => {
  await issuer.cleanup();
});

const stats = async (query = '') =>
  bodyOf<SlaErrorStats>(await app.call(`/sla-errors/stats${query}`), 200);

describe('GET /sla-errors/stats', () => {
  it('counts records per UTC day of receipt and severity over the days asked for', async () => {
    const body = await stats('?from=2026-05-18&to=2026-05-21');

    expect(compact(body)).toEqual([
      '2026-05-18 0/0/1/0',
      '2026-05-19 1/0/0/1',
      '2026-05-20 2/0/1/0',
    ]);
    expect(body).toMatchObject({
      from: '2026-05-18',
      to: '2026-05-21',
      totals: { low: 3, medium: 0, high: 2, critical: 1 },
      total: 6,
    });
    expect(body.days.map((d) => d.total)).toEqual([1, 2, 3]);
  });

  it('covers the 14 days up to today by default', async () => {
    const body = await stats();

    expect([body.from, body.to]).toEqual(['2026-05-07', '2026-05-21']);
    expect(body.days).toHaveLength(14);
    expect(body.total).toBe(6);
  });

  it('reads the by-time index within the range only, no scan', async () => {
    calls.length = 0;

    await stats('?from=2026-05-19&to=2026-05-20');

    expect(calls.map((call) => call.command)).toEqual(['QueryCommand']);
    expect(calls[0]?.input).toMatchObject({ IndexName: 'gsi1' });
    expect(JSON.stringify(calls[0]?.input)).toContain('2026-05-19T00:00:00.000Z');
  });

  it.each([
    ['?from=2026-05-19&to=2026-05-19', 'query.to'],
    ['?from=2026-05-20&to=2026-05-19', 'query.to'],
    ['?from=2025-01-01&to=2026-05-19', 'query.to'],
    ['?from=2026-02-30', 'query.from'],
    ['?from=2026-05-19T00:00:00Z', 'query.from'],
  ])('refuses %s with a 400 naming %s (the module’s user errors are 400s)', async (query, path) => {
    const problem = await expectProblem(
      await app.call(`/sla-errors/stats${query}`),
      400,
      'REQUEST.VALIDATION_FAILED',
    );
    expect(problem.errors?.map((error) => error.path)).toEqual([path]);
  });
});
