import { beforeAll, describe, expect, it } from 'vitest';
import { enrollmentsKeys } from '../../src/modules/enrollments/enrollments.dynamo.js';
import { enrollmentsTable } from '../../src/modules/enrollments/enrollments.module.js';
import { injectFaults, throttled, transactionConflict } from '../support/faults.js';
import {
  type AgeGroup,
  allPages,
  bodyOf,
  checkLogsHaveNoCpf,
  createEnrollmentsApp,
  createGroup,
  type EnrollmentsApp,
  enroll,
  expectProblem,
  newCpf,
} from './fixtures.js';

checkLogsHaveNoCpf();

/** Every page of GET /age-groups, following `Link: rel="next"`. */
const allGroups = (app: EnrollmentsApp, limit: number) =>
  allPages<AgeGroup>(app, `/age-groups?limit=${limit}`);

describe('POST /age-groups', () => {
  let app: EnrollmentsApp;
  beforeAll(async () => {
    app = await createEnrollmentsApp();
  });

  it('creates a group and answers 201 with its id and ages', async () => {
    const res = await app.call('/age-groups', {
      method: 'POST',
      json: { min_age: 18, max_age: 25 },
    });

    const group = await bodyOf<AgeGroup>(res, 201);
    expect(group).toEqual({ id: expect.any(String), min_age: 18, max_age: 25 });
    expect((await allGroups(app, 50)).flat()).toContainEqual(group);
  });

  it.each([
    ['a fraction', { min_age: 18.5, max_age: 25 }, 'body.min_age'],
    ['a numeric string', { min_age: '18', max_age: 25 }, 'body.min_age'],
    ['a boolean', { min_age: 18, max_age: true }, 'body.max_age'],
    ['a negative age', { min_age: -1, max_age: 5 }, 'body.min_age'],
    ['an age over 150', { min_age: 140, max_age: 151 }, 'body.max_age'],
    ['min_age above max_age', { min_age: 30, max_age: 20 }, 'body.max_age'],
    ['a missing max_age', { min_age: 30 }, 'body.max_age'],
    ['null', { min_age: null, max_age: 20 }, 'body.min_age'],
    ['an unknown field', { min_age: 18, max_age: 25, name: 'adults' }, 'body'],
  ])('refuses %s with 422 naming the field, and writes nothing', async (_case, body, path) => {
    const before = (await allGroups(app, 200)).flat();

    const res = await app.call('/age-groups', { method: 'POST', json: body });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.path)).toContain(path);
    expect((await allGroups(app, 200)).flat()).toEqual(before);
  });

  it('names the unknown field it refuses', async () => {
    const res = await app.call('/age-groups', {
      method: 'POST',
      json: { min_age: 18, max_age: 25, maxAge: 30 },
    });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual([
      { path: 'body', message: 'unknown field "maxAge" (the fields are min_age, max_age)' },
    ]);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await app.call('/age-groups', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"min_age": 1,',
    });
    await expectProblem(res, 400);
  });

  it('refuses a group overlapping another with 409 naming it, and keeps the first', async () => {
    const fresh = await createEnrollmentsApp();
    const first = await createGroup(fresh, 30, 39);

    for (const [min, max] of [
      [30, 39],
      [25, 30],
      [39, 45],
      [32, 33],
      [0, 150],
    ] as const) {
      const res = await fresh.call('/age-groups', {
        method: 'POST',
        json: { min_age: min, max_age: max },
      });
      const problem = await expectProblem(res, 409, 'ENROLLMENTS.AGE_GROUP_OVERLAPS');
      expect(problem.detail).toContain(first.id);
    }
    expect((await allGroups(fresh, 50)).flat()).toEqual([first]);
  });

  it('accepts adjacent groups (touching, not overlapping)', async () => {
    const fresh = await createEnrollmentsApp();
    const a = await createGroup(fresh, 0, 9);
    const b = await createGroup(fresh, 10, 19);
    const c = await createGroup(fresh, 20, 20);
    expect((await allGroups(fresh, 50)).flat()).toEqual([a, b, c]);
  });

  it('accepts the widest group, 0–150 (16 age buckets in one transaction)', async () => {
    const fresh = await createEnrollmentsApp();
    const all = await createGroup(fresh, 0, 150);
    await expectProblem(
      await fresh.call('/age-groups', { method: 'POST', json: { min_age: 150, max_age: 150 } }),
      409,
      'ENROLLMENTS.AGE_GROUP_OVERLAPS',
    );
    expect((await allGroups(fresh, 50)).flat()).toEqual([all]);
  });

  it('lets exactly one of many overlapping groups created at once win', async () => {
    const fresh = await createEnrollmentsApp();
    // 40 creates racing, each overlapping every other at age 50.
    const ranges = Array.from({ length: 40 }, (_, i) => [50 - (i % 20), 50 + Math.floor(i / 2)]);

    const answers = await Promise.all(
      ranges.map(([min, max]) =>
        fresh.call('/age-groups', { method: 'POST', json: { min_age: min, max_age: max } }),
      ),
    );

    const statuses = answers.map((res) => res.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(39);
    // The committed truth: one group, and every bucket attribute points at it.
    const groups = (await allGroups(fresh, 200)).flat();
    expect(groups).toHaveLength(1);
    const [winner] = groups as [AgeGroup];
    const buckets = await fresh
      .table(enrollmentsTable)
      .batchGet(Array.from({ length: 16 }, (_, b) => enrollmentsKeys.ages(b)));
    const claimed = buckets.flatMap((item) =>
      Object.entries(item).filter(([attribute]) => /^a\d+$/.test(attribute)),
    );
    expect(claimed).toHaveLength(winner.max_age - winner.min_age + 1);
    expect(new Set(claimed.map(([, id]) => id))).toEqual(new Set([winner.id]));
  });
});

describe('GET /age-groups', () => {
  it('lists every group ordered by min_age, page by page, whatever the creation order', async () => {
    const app = await createEnrollmentsApp();
    // 31 groups of 5 ages (0–4, 5–9, … 150–150), created in a shuffled order.
    const mins = Array.from({ length: 31 }, (_, i) => i * 5).sort(() => Math.random() - 0.5);
    for (const min of mins) await createGroup(app, min, Math.min(min + 4, 150));

    const pages = await allGroups(app, 7);

    expect(pages.map((page) => page.length)).toEqual([7, 7, 7, 7, 3]);
    expect(pages.flat().map((g) => g.min_age)).toEqual(Array.from({ length: 31 }, (_, i) => i * 5));
  });

  it('answers an empty list when there are no groups, with no next link', async () => {
    const app = await createEnrollmentsApp();
    const res = await app.call('/age-groups');
    expect(await bodyOf(res, 200)).toEqual([]);
    expect(res.headers.get('link')).toBeNull();
  });

  it.each(['limit=0', 'limit=201', 'limit=abc'])('refuses ?%s with 422', async (query) => {
    const app = await createEnrollmentsApp({ start: false });
    await expectProblem(await app.call(`/age-groups?${query}`), 422);
  });

  it('refuses a cursor it did not hand out with 400', async () => {
    const app = await createEnrollmentsApp({ start: false });
    await expectProblem(
      await app.call('/age-groups?cursor=bm90LWEtY3Vyc29y'),
      400,
      'PAGINATION.CURSOR_INVALID',
    );
  });

  it('needs an API key', async () => {
    const app = await createEnrollmentsApp({ start: false });
    await expectProblem(await app.call('/age-groups', { key: null }), 401);
  });
});

describe('DELETE /age-groups/{id}', () => {
  it('deletes the group and frees its ages for a new group and for nothing else', async () => {
    const app = await createEnrollmentsApp();
    const group = await createGroup(app, 60, 69);

    const res = await app.call(`/age-groups/${group.id}`, { method: 'DELETE' });

    expect(await bodyOf(res, 200)).toEqual({
      message: `Age group ${group.id} deleted successfully`,
    });
    expect((await allGroups(app, 50)).flat()).toEqual([]);
    await expectProblem(
      await app.call('/enrollments', {
        method: 'POST',
        json: { name: 'Ana', age: 65, cpf: newCpf() },
      }),
      422,
      'ENROLLMENTS.NO_AGE_GROUP',
    );
    const again = await createGroup(app, 55, 65);
    expect(await enroll(app, { age: 65 })).toMatchObject({ status: 'PENDING' });
    expect((await allGroups(app, 50)).flat()).toEqual([again]);
  });

  it('answers 404 for a group that does not exist, or no longer does', async () => {
    const app = await createEnrollmentsApp();
    const group = await createGroup(app, 70, 79);
    await bodyOf(await app.call(`/age-groups/${group.id}`, { method: 'DELETE' }), 200);

    await expectProblem(
      await app.call(`/age-groups/${group.id}`, { method: 'DELETE' }),
      404,
      'ENROLLMENTS.AGE_GROUP_NOT_FOUND',
    );
    await expectProblem(
      await app.call('/age-groups/no-such-group', { method: 'DELETE' }),
      404,
      'ENROLLMENTS.AGE_GROUP_NOT_FOUND',
    );
  });

  it('deletes a group once when two deletes race: one 200, one 404', async () => {
    const app = await createEnrollmentsApp();
    const group = await createGroup(app, 80, 99);

    const answers = await Promise.all(
      [1, 2].map(() => app.call(`/age-groups/${group.id}`, { method: 'DELETE' })),
    );

    expect(answers.map((res) => res.status).sort()).toEqual([200, 404]);
    expect(await createGroup(app, 80, 99)).toMatchObject({ min_age: 80, max_age: 99 });
  });
});

describe('contention and unavailability', () => {
  it('retries a transaction DynamoDB cancelled for a conflict, then commits (201)', async () => {
    let faults: { injected: () => number } = { injected: () => 0 };
    const app = await createEnrollmentsApp({
      start: false,
      dynamo: (clients) => {
        faults = injectFaults(clients, {
          command: 'TransactWrite',
          times: 3,
          error: transactionConflict(2),
        });
        return clients;
      },
    });

    const group = await createGroup(app, 1, 2);

    expect(faults.injected()).toBe(3);
    expect((await allGroups(app, 50)).flat()).toEqual([group]);
  });

  it('answers 503 ENROLLMENTS.BUSY with Retry-After when the conflicts do not stop, writing nothing', async () => {
    const app = await createEnrollmentsApp({
      start: false,
      dynamo: (clients) => {
        injectFaults(clients, {
          command: 'TransactWrite',
          times: Number.POSITIVE_INFINITY,
          error: transactionConflict(2),
        });
        return clients;
      },
    });

    const res = await app.call('/age-groups', { method: 'POST', json: { min_age: 5, max_age: 6 } });

    await expectProblem(res, 503, 'ENROLLMENTS.BUSY');
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await allGroups(app, 50)).flat()).toEqual([]);
  });

  it('answers 503 with Retry-After when DynamoDB throttles a read', async () => {
    const app = await createEnrollmentsApp({
      start: false,
      dynamo: (clients) => {
        injectFaults(clients, { command: 'Query', times: 1, error: throttled() });
        return clients;
      },
    });

    const res = await app.call('/age-groups');

    await expectProblem(res, 503, 'DEPENDENCY.UNAVAILABLE');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await bodyOf(await app.call('/age-groups'), 200)).toEqual([]);
  });
});
