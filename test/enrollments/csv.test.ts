import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { enrollmentMessage } from '../../src/modules/enrollments/enrollments.rules.js';
import {
  allPages,
  checkLogsHaveNoCpf,
  createEnrollmentsApp,
  createGroup,
  type Enrollment,
  type EnrollmentsApp,
  enroll,
  expectProblem,
  servicesOf,
} from './fixtures.js';

checkLogsHaveNoCpf();

const HEADER = [
  'id',
  'name',
  'age',
  'cpf',
  'status',
  'age_group_id',
  'created_at',
  'processed_at',
  'reason',
];
const FORMULA_NAME = '=HYPERLINK("http://x","y")';

/** The rows of a CSV answer, checked for its framing (header, CRLF) on the way. */
async function csvRows(res: Response): Promise<Record<string, string>[]> {
  const text = await res.text();
  expect({ status: res.status, start: text.slice(0, 200) }).toMatchObject({ status: 200 });
  expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  expect(res.headers.get('content-disposition')).toBe('attachment; filename="enrollments.csv"');
  expect(text.startsWith(`${HEADER.join(',')}\r\n`)).toBe(true);
  return parse(text, { columns: true, record_delimiter: '\r\n' });
}

/** What the CSV should say of each enrollment the JSON list answers. */
const expected = (enrollment: Enrollment) => ({
  id: enrollment.id,
  name: enrollment.name.startsWith('=') ? `'${enrollment.name}` : enrollment.name,
  age: String(enrollment.age),
  cpf: enrollment.cpf,
  status: enrollment.status,
  age_group_id: enrollment.age_group_id,
  created_at: enrollment.created_at,
  processed_at: enrollment.processed_at ?? '',
  reason: enrollment.reason ?? '',
});

describe('enrollments as CSV', () => {
  let app: EnrollmentsApp;
  beforeAll(async () => {
    app = await createEnrollmentsApp({ start: false });
    await createGroup(app, 0, 120);
    const made: string[] = [];
    for (const [name, age] of [
      ['Ana Lima', 20],
      [FORMULA_NAME, 30],
      ['Bruno, "Bê" Costa', 40],
    ] as const) {
      made.push((await enroll(app, { name, age })).enrollment_id);
    }
    await servicesOf(app).process({
      id: randomUUID(),
      body: enrollmentMessage(made[0] ?? ''),
      receiveCount: 1,
    });
  });

  const list = async (query = '') =>
    (await allPages<Enrollment>(app, `/enrollments${query}`)).flat().map(expected);

  it('exports every enrollment at /enrollments.csv, as the list shows them, newest first', async () => {
    const rows = await csvRows(await app.call('/enrollments.csv'));

    expect(rows).toEqual(await list());
    expect(rows).toHaveLength(3);
    expect(rows.map((row) => row.cpf)).toEqual(
      Array(3).fill(expect.stringMatching(/^\*\*\*\.\d{3}\.\d{3}-\*\*$/)),
    );
  });

  it('neutralises a name that a spreadsheet would run as a formula', async () => {
    const rows = await csvRows(await app.call('/enrollments.csv'));

    expect(rows.map((row) => row.name)).toContain(`'${FORMULA_NAME}`);
  });

  it('answers the list as CSV to Accept: text/csv, with its filters', async () => {
    const res = await app.call('/enrollments?status=PROCESSED', {
      headers: { accept: 'text/csv' },
    });

    expect(res.headers.get('vary')).toMatch(/accept/i);
    const rows = await csvRows(res);
    expect(rows).toEqual(await list('?status=PROCESSED'));
    expect(rows.map((row) => row.name)).toEqual(['Ana Lima']);
  });

  it('still answers JSON by default', async () => {
    const res = await app.call('/enrollments');

    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('refuses a bad filter with a 422 before any CSV', async () => {
    const problem = await expectProblem(
      await app.call('/enrollments.csv?status=DONE'),
      422,
      'REQUEST.VALIDATION_FAILED',
    );
    expect(problem.errors?.map((error) => error.path)).toEqual(['query.status']);
  });
});
