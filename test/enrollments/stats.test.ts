import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { enrollmentMessage } from '../../src/modules/enrollments/enrollments.rules.js';
import { delayCalls, type SdkCall } from '../support/faults.js';
import {
  bodyOf,
  checkLogsHaveNoCpf,
  createEnrollmentsApp,
  createGroup,
  type EnrollmentsApp,
  enroll,
  expectProblem,
  getEnrollment,
  servicesOf,
} from './fixtures.js';

checkLogsHaveNoCpf();

interface EnrollmentStats {
  counts: Record<'PENDING' | 'PROCESSED' | 'REJECTED', number>;
  total: number;
  oldest_pending: { id: string; created_at: string; age_seconds: number } | null;
  as_of: string;
}

const processNow = (app: EnrollmentsApp, id: string) =>
  servicesOf(app).process({ id: randomUUID(), body: enrollmentMessage(id), receiveCount: 1 });

const stats = async (app: EnrollmentsApp) =>
  bodyOf<EnrollmentStats>(await app.call('/enrollments/stats'), 200);

describe('GET /enrollments/stats', () => {
  // No consumer: each test decides which requests are processed, and when.
  let app: EnrollmentsApp;
  const calls: SdkCall[] = [];
  beforeAll(async () => {
    app = await createEnrollmentsApp({
      start: false,
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
  });

  it('answers zeros and no oldest PENDING when there are no enrollments', async () => {
    expect(await stats(app)).toMatchObject({
      counts: { PENDING: 0, PROCESSED: 0, REJECTED: 0 },
      total: 0,
      oldest_pending: null,
    });
  });

  it('counts enrollments by status and names the oldest PENDING with its age', async () => {
    const adults = (await createGroup(app, 18, 60)).id;
    const made: string[] = [];
    for (const age of [20, 30, 40, 50, 55]) made.push((await enroll(app, { age })).enrollment_id);
    const [oldest, , processed1, processed2, rejected] = made as [
      string,
      string,
      string,
      string,
      string,
    ];
    expect(await processNow(app, processed1)).toBe('PROCESSED');
    expect(await processNow(app, processed2)).toBe('PROCESSED');
    // The group goes: the next one processed is rejected.
    expect((await app.call(`/age-groups/${adults}`, { method: 'DELETE' })).status).toBe(200);
    expect(await processNow(app, rejected)).toBe('REJECTED');

    const body = await stats(app);

    expect(body).toMatchObject({
      counts: { PENDING: 2, PROCESSED: 2, REJECTED: 1 },
      total: 5,
      oldest_pending: { id: oldest, created_at: (await getEnrollment(app, oldest)).created_at },
    });
    const age = (Date.parse(body.as_of) - Date.parse(body.oldest_pending?.created_at ?? '')) / 1000;
    expect(body.oldest_pending?.age_seconds).toBe(Math.floor(age));
    expect(body.oldest_pending?.age_seconds).toBeGreaterThanOrEqual(0);
  });

  it('reads the status index only, one query per status and one for the oldest, no scan', async () => {
    calls.length = 0;

    await stats(app);

    expect(calls.map((call) => call.command)).toEqual(Array(4).fill('QueryCommand'));
    for (const call of calls) expect(call.input).toMatchObject({ IndexName: 'gsi3' });
  });

  it('is not an enrollment id: GET /enrollments/{id} still answers its 404 for others', async () => {
    await expectProblem(await app.call(`/enrollments/${randomUUID()}`), 404);
  });
});
