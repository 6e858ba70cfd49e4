import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { enrollmentMessage } from '../../src/modules/enrollments/enrollments.rules.js';
import {
  allPages,
  bodyOf,
  checkLogsHaveNoCpf,
  createEnrollmentsApp,
  createGroup,
  type Enrollment,
  type EnrollmentsApp,
  enroll,
  expectProblem,
  getEnrollment,
  servicesOf,
} from './fixtures.js';

checkLogsHaveNoCpf();

const MASKED = /^\*\*\*\.\d{3}\.\d{3}-\*\*$/;

/** Runs the processor on one enrollment, as a queue delivery would. */
const processNow = (app: EnrollmentsApp, id: string) =>
  servicesOf(app).process({ id: randomUUID(), body: enrollmentMessage(id), receiveCount: 1 });

const ids = (pages: Enrollment[][]) => pages.flat().map((e) => e.id);
const list = async (app: EnrollmentsApp, query = '') =>
  ids(await allPages<Enrollment>(app, `/enrollments${query}`));

describe('GET /enrollments', () => {
  // No consumer: each test decides which requests are processed, and when.
  let app: EnrollmentsApp;
  let children: string;
  let adults: string;
  /** In creation order: a1, b1, a2, b2, b3 (a: children, b: adults); a1 and b1 PROCESSED. */
  let made: Record<'a1' | 'b1' | 'a2' | 'b2' | 'b3', string>;
  beforeAll(async () => {
    app = await createEnrollmentsApp({ start: false });
    children = (await createGroup(app, 0, 17)).id;
    adults = (await createGroup(app, 18, 60)).id;
    const a1 = (await enroll(app, { age: 10 })).enrollment_id;
    const b1 = (await enroll(app, { age: 30 })).enrollment_id;
    const a2 = (await enroll(app, { age: 12 })).enrollment_id;
    const b2 = (await enroll(app, { age: 40 })).enrollment_id;
    const b3 = (await enroll(app, { age: 50 })).enrollment_id;
    made = { a1, b1, a2, b2, b3 };
    expect(await processNow(app, a1)).toBe('PROCESSED');
    expect(await processNow(app, b1)).toBe('PROCESSED');
  });

  it('lists every enrollment newest first, each as GET /enrollments/{id} shows it', async () => {
    const res = await app.call('/enrollments');

    const body = await bodyOf<Enrollment[]>(res, 200);
    expect(body.map((e) => e.id)).toEqual([made.b3, made.b2, made.a2, made.b1, made.a1]);
    for (const enrollment of body) {
      expect(enrollment).toEqual(await getEnrollment(app, enrollment.id));
      expect(enrollment.cpf).toMatch(MASKED);
    }
    expect(res.headers.get('link')).toBeNull();
  });

  it('pages through them with the Link cursor, none repeated or missed', async () => {
    const pages = await allPages<Enrollment>(app, '/enrollments?limit=2');

    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(ids(pages)).toEqual([made.b3, made.b2, made.a2, made.b1, made.a1]);
  });

  it.each([
    ['PENDING', ['b3', 'b2', 'a2']],
    ['PROCESSED', ['b1', 'a1']],
    ['REJECTED', []],
  ] as const)('filters by status %s, newest first', async (status, expected) => {
    expect(await list(app, `?status=${status}`)).toEqual(expected.map((k) => made[k]));
    expect(await list(app, `?status=${status}&limit=1`)).toEqual(expected.map((k) => made[k]));
  });

  it('filters by age group, newest first, page by page', async () => {
    expect(await list(app, `?ageGroupId=${adults}`)).toEqual([made.b3, made.b2, made.b1]);
    expect(await list(app, `?ageGroupId=${adults}&limit=2`)).toEqual([made.b3, made.b2, made.b1]);
    expect(await list(app, `?ageGroupId=${children}&limit=1`)).toEqual([made.a2, made.a1]);
  });

  it('filters by age group and status together', async () => {
    expect(await list(app, `?ageGroupId=${children}&status=PENDING`)).toEqual([made.a2]);
    expect(await list(app, `?ageGroupId=${adults}&status=PROCESSED`)).toEqual([made.b1]);
    expect(await list(app, `?ageGroupId=${adults}&status=PENDING&limit=1`)).toEqual([
      made.b3,
      made.b2,
    ]);
    expect(await list(app, `?ageGroupId=${adults}&status=REJECTED`)).toEqual([]);
  });

  it('answers an empty list for an age group that does not exist', async () => {
    expect(await list(app, '?ageGroupId=no-such-group')).toEqual([]);
  });

  it.each([
    ['an unknown status', '?status=DONE', 'query.status'],
    ['a lowercase status', '?status=pending', 'query.status'],
    ['an age group id that cannot be one', '?ageGroupId=a%20b', 'query.ageGroupId'],
    ['a limit of 0', '?limit=0', 'query.limit'],
  ])('refuses %s with 422, naming the parameter', async (_case, query, path) => {
    const problem = await expectProblem(
      await app.call(`/enrollments${query}`),
      422,
      'REQUEST.VALIDATION_FAILED',
    );
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });

  it('refuses with 400 a cursor of another filter, or an edited one', async () => {
    const first = await app.call(`/enrollments?status=PENDING&limit=1`);
    const cursor = new URLSearchParams(
      /<\?([^>]*)>/.exec(first.headers.get('link') ?? '')?.[1] ?? '',
    ).get('cursor');
    expect(cursor).toBeTruthy();

    for (const query of [
      `?status=PROCESSED&limit=1&cursor=${cursor}`,
      `?limit=1&cursor=${cursor}`,
      `?status=PENDING&ageGroupId=${adults}&limit=1&cursor=${cursor}`,
      `?status=PENDING&limit=1&cursor=${String(cursor).slice(0, -2)}xx`,
    ]) {
      await expectProblem(await app.call(`/enrollments${query}`), 400, 'PAGINATION.CURSOR_INVALID');
    }
  });
});

describe('GET /enrollments after a status change', () => {
  let app: EnrollmentsApp;
  beforeAll(async () => {
    app = await createEnrollmentsApp({ start: false });
  });

  it('moves a processed request from PENDING to PROCESSED, in its group too', async () => {
    const group = (await createGroup(app, 0, 40)).id;
    const { enrollment_id: id } = await enroll(app, { age: 20 });
    expect(await list(app, '?status=PENDING')).toContain(id);
    expect(await list(app, `?status=PENDING&ageGroupId=${group}`)).toContain(id);

    expect(await processNow(app, id)).toBe('PROCESSED');

    expect(await list(app, '?status=PENDING')).not.toContain(id);
    expect(await list(app, `?status=PENDING&ageGroupId=${group}`)).not.toContain(id);
    expect(await list(app, '?status=PROCESSED')).toContain(id);
    expect(await list(app, `?status=PROCESSED&ageGroupId=${group}`)).toContain(id);
    expect((await list(app)).filter((x) => x === id)).toHaveLength(1);
  });

  it('moves a rejected request from PENDING to REJECTED', async () => {
    const group = (await createGroup(app, 41, 80)).id;
    const { enrollment_id: id } = await enroll(app, { age: 50 });
    expect(await list(app, '?status=PENDING')).toContain(id);
    await bodyOf(await app.call(`/age-groups/${group}`, { method: 'DELETE' }), 200);

    expect(await processNow(app, id)).toBe('REJECTED');

    expect(await list(app, '?status=PENDING')).not.toContain(id);
    expect(await list(app, '?status=REJECTED')).toEqual([id]);
    expect(await list(app, `?status=REJECTED&ageGroupId=${group}`)).toEqual([id]);
    expect(await list(app, `?ageGroupId=${group}`)).toEqual([id]);
  });
});
