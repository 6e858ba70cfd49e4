import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { enrollmentsKeys } from '../../src/modules/enrollments/enrollments.dynamo.js';
import { enrollmentsTable } from '../../src/modules/enrollments/enrollments.module.js';
import { cpfGuardKey } from '../../src/modules/enrollments/enrollments.rules.js';
import { TEST_SECRETS } from '../support/app.js';
import {
  bodyOf,
  checkLogsHaveNoCpf,
  createEnrollmentsApp,
  createGroup,
  type Enrollment,
  type EnrollmentsApp,
  enroll,
  expectProblem,
  finalEnrollment,
  formatCpf,
  getEnrollment,
  newCpf,
  sentCpf,
} from './fixtures.js';

checkLogsHaveNoCpf();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('POST /enrollments and GET /enrollments/{id}', () => {
  let app: EnrollmentsApp;
  let adults: string;
  beforeAll(async () => {
    app = await createEnrollmentsApp();
    adults = (await createGroup(app, 18, 25)).id;
    await createGroup(app, 26, 60);
  });

  it('accepts a request with 202 PENDING, then shows it PROCESSED with the CPF masked', async () => {
    const cpf = newCpf();

    const res = await app.call('/enrollments', {
      method: 'POST',
      json: { name: 'John Doe', age: 22, cpf: formatCpf(cpf) },
    });

    const accepted = await bodyOf<{ enrollment_id: string; status: string }>(res, 202);
    expect(accepted).toEqual({ enrollment_id: expect.stringMatching(UUID), status: 'PENDING' });
    expect(res.headers.get('location')).toBe(`/enrollments/${accepted.enrollment_id}`);
    const done = await finalEnrollment(app, accepted.enrollment_id);
    expect(done).toEqual({
      id: accepted.enrollment_id,
      enrollment_id: accepted.enrollment_id,
      name: 'John Doe',
      age: 22,
      cpf: `***.${cpf.slice(3, 6)}.${cpf.slice(6, 9)}-**`,
      status: 'PROCESSED',
      age_group_id: adults,
      created_at: expect.stringMatching(ISO_UTC),
      processed_at: expect.stringMatching(ISO_UTC),
    });
    expect(String(done.processed_at) >= done.created_at).toBe(true);
  });

  it('matches the age with the group that covers it', async () => {
    const [young, old] = await Promise.all([enroll(app, { age: 25 }), enroll(app, { age: 26 })]);
    expect((await getEnrollment(app, young.enrollment_id)).age_group_id).toBe(adults);
    expect((await getEnrollment(app, old.enrollment_id)).age_group_id).not.toBe(adults);
  });

  it.each([
    ['formatted', (cpf: string) => formatCpf(cpf)],
    ['digits only', (cpf: string) => cpf],
  ])('accepts a valid CPF %s', async (_case, shape) => {
    const res = await app.call('/enrollments', {
      method: 'POST',
      json: { name: 'Ana', age: 30, cpf: shape(newCpf()) },
    });
    expect(res.status).toBe(202);
  });

  it.each([
    ['a wrong check digit', '123.456.789-00', 'check digits do not match'],
    ['the example of docs/seeds.md, 12345678900', '12345678900', 'check digits do not match'],
    ['one digit repeated', '111.111.111-11', 'must not repeat one digit 11 times'],
    ['ten digits', '1234567890', 'must have 11 digits'],
    ['twelve digits', '123456789090', 'must have 11 digits'],
    ['letters', '123.abc.789-09', 'must contain only digits, dots, hyphens and spaces'],
  ])('refuses %s with 422 ENROLLMENTS.CPF_INVALID, without quoting it', async (_c, cpf, why) => {
    const res = await app.call('/enrollments', {
      method: 'POST',
      json: { name: 'Ana', age: 30, cpf: sentCpf(cpf) },
    });

    const problem = await expectProblem(res, 422, 'ENROLLMENTS.CPF_INVALID', [
      cpf,
      cpf.replace(/\D/g, ''),
    ]);
    expect(problem.errors).toEqual([{ path: 'body.cpf', message: why }]);
  });

  it('says in the detail why the check digits fail, in a sentence', async () => {
    const res = await app.call('/enrollments', {
      method: 'POST',
      json: { name: 'Ana', age: 30, cpf: sentCpf('123.456.789-00') },
    });

    const problem = await expectProblem(res, 422, 'ENROLLMENTS.CPF_INVALID');
    expect(problem.detail).toBe('The CPF is not valid: its check digits do not match.');
  });

  it.each([
    ['must have 11 digits', '1234567890', 'The CPF is not valid: it must have 11 digits.'],
    [
      'must not repeat one digit',
      '111.111.111-11',
      'The CPF is not valid: it must not repeat one digit 11 times.',
    ],
  ])('says "%s" in the detail', async (_case, cpf, detail) => {
    const res = await app.call('/enrollments', {
      method: 'POST',
      json: { name: 'Ana', age: 30, cpf: sentCpf(cpf) },
    });

    expect((await expectProblem(res, 422, 'ENROLLMENTS.CPF_INVALID')).detail).toBe(detail);
  });

  it.each([
    ['a number', 12345678909],
    ['null', null],
    ['an array', ['12345678909']],
  ])('refuses a CPF that is %s with 422', async (_case, cpf) => {
    const res = await app.call('/enrollments', {
      method: 'POST',
      json: { name: 'Ana', age: 30, cpf },
    });
    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED', ['12345678909']);
    expect(problem.errors?.map((e) => e.path)).toEqual(['body.cpf']);
  });

  it.each([
    ['a fractional age', { age: 22.5 }, 'body.age'],
    ['an age as a string', { age: '22' }, 'body.age'],
    ['a negative age', { age: -3 }, 'body.age'],
    ['an age over 150', { age: 151 }, 'body.age'],
    ['a blank name', { name: '   ' }, 'body.name'],
    ['no name', { name: undefined }, 'body.name'],
    ['a NUL in the name', { name: 'Ana\u0000' }, 'body.name'],
    ['a C1 control in the name', { name: 'Ana\u009b' }, 'body.name'],
    ['a bidi override in the name', { name: 'Ana\u202Eoc' }, 'body.name'],
    ['a bidi isolate in the name', { name: '\u2067Ana' }, 'body.name'],
    ['a line break in the name', { name: 'Ana\nSilva' }, 'body.name'],
    ['a status set by the client', { status: 'PROCESSED' }, 'body'],
  ])('refuses %s with 422', async (_case, override, path) => {
    const res = await app.call('/enrollments', {
      method: 'POST',
      json: { name: 'Ana', age: 30, cpf: newCpf(), ...override },
    });
    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.path)).toEqual([path]);
  });

  it('names the character it refuses in a name, and the unknown field it refuses', async () => {
    const res = await app.call('/enrollments', {
      method: 'POST',
      json: { name: 'Ana\u202E', age: 30, cpf: newCpf(), age_group_id: 'x' },
    });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual([
      {
        path: 'body.name',
        message: 'must not contain U+202E (a bidirectional formatting character) at character 4',
      },
      { path: 'body', message: 'unknown field "age_group_id" (the fields are name, age, cpf)' },
    ]);
  });

  it('keeps a name with accents and right-to-left marks', async () => {
    const name = 'José da Silva \u200Fמשה';

    const { enrollment_id } = await enroll(app, { age: 30, name });

    expect((await getEnrollment(app, enrollment_id)).name).toBe(name);
  });

  it('refuses an age no group covers with 422 ENROLLMENTS.NO_AGE_GROUP', async () => {
    const res = await app.call('/enrollments', {
      method: 'POST',
      json: { name: 'Ana', age: 61, cpf: newCpf() },
    });
    const problem = await expectProblem(res, 422, 'ENROLLMENTS.NO_AGE_GROUP');
    expect(problem.errors).toEqual([{ path: 'body.age', message: 'no age group covers this age' }]);
  });

  it('refuses a second enrollment for the same CPF, however it is written, with 409', async () => {
    const cpf = newCpf();
    const first = await enroll(app, { age: 40, cpf });

    for (const written of [cpf, formatCpf(cpf), ` ${formatCpf(cpf)} `]) {
      const res = await app.call('/enrollments', {
        method: 'POST',
        json: { name: 'Someone Else', age: 20, cpf: written },
      });
      await expectProblem(res, 409, 'ENROLLMENTS.CPF_TAKEN', [cpf, formatCpf(cpf)]);
    }
    expect((await getEnrollment(app, first.enrollment_id)).name).toBe('Maria Silva');
  });

  it('accepts exactly one of 30 parallel requests with one CPF: one 202, 29 409', async () => {
    const cpf = newCpf();

    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        app.call('/enrollments', {
          method: 'POST',
          json: { name: `Twin ${i}`, age: 20 + (i % 30), cpf: i % 2 ? cpf : formatCpf(cpf) },
        }),
      ),
    );

    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(29);
    // The committed truth: one guard, pointing at the one enrollment that was accepted.
    const winner = answers[statuses.indexOf(202)] as Response;
    const { enrollment_id } = (await winner.json()) as { enrollment_id: string };
    const guard = await app.dynamo.doc.send(
      new GetCommand({
        TableName: app.config.tables.enrollments,
        Key: enrollmentsKeys.cpf(cpfGuardKey(TEST_SECRETS.key('cpf'), cpf)),
        ConsistentRead: true,
      }),
    );
    expect(guard.Item?.enrollmentId).toBe(enrollment_id);
  });

  it('keeps the raw CPF out of the table: the guard is keyed by an HMAC, the record masked', async () => {
    const cpf = newCpf();
    const { enrollment_id } = await enroll(app, { age: 33, cpf: formatCpf(cpf) });

    const record = await app.table(enrollmentsTable).get(enrollmentsKeys.enrollment(enrollment_id));
    const guard = await app
      .table(enrollmentsTable)
      .get(enrollmentsKeys.cpf(cpfGuardKey(TEST_SECRETS.key('cpf'), cpf)));

    expect(guard?.enrollmentId).toBe(enrollment_id);
    for (const item of [record, guard]) {
      const text = JSON.stringify(item);
      expect(text).not.toContain(cpf);
      expect(text).not.toContain(formatCpf(cpf));
    }
    expect(record?.cpfMasked).toBe(`***.${cpf.slice(3, 6)}.${cpf.slice(6, 9)}-**`);
  });

  it('replays the 202 for a retry with the same Idempotency-Key, and 422s another body', async () => {
    const cpf = newCpf();
    const send = (body: object) =>
      app.call('/enrollments', {
        method: 'POST',
        headers: { 'idempotency-key': `enroll-${cpf}` },
        json: body,
      });
    const body = { name: 'Retrying Client', age: 50, cpf };

    const first = await bodyOf<{ enrollment_id: string }>(await send(body), 202);
    const again = await send(body);

    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await bodyOf(again, 202)).toEqual(first);
    await expectProblem(await send({ ...body, age: 51 }), 422, 'IDEMPOTENCY.KEY_REUSED');
  });

  it('answers 404 for an unknown enrollment and 422 for an id that cannot be one', async () => {
    await expectProblem(
      await app.call('/enrollments/0190a000-0000-7000-8000-000000000000'),
      404,
      'ENROLLMENTS.ENROLLMENT_NOT_FOUND',
    );
    await expectProblem(await app.call(`/enrollments/${'x'.repeat(101)}`), 422);
  });

  it('needs an API key for both routes', async () => {
    await expectProblem(await app.call('/enrollments/x', { key: null }), 401);
    await expectProblem(
      await app.call('/enrollments', {
        method: 'POST',
        key: null,
        json: { name: 'A', age: 20, cpf: newCpf() },
      }),
      401,
    );
  });
});

describe("the seed's curl sequence (docs/seeds.md), with an API key", () => {
  it('runs as the seed README describes, with Roster’s answers', async () => {
    const app = await createEnrollmentsApp();

    // 1. Create an Age Group
    const created = await app.call('/age-groups', {
      method: 'POST',
      json: { min_age: 18, max_age: 25 },
    });
    const group = await bodyOf<{ id: string }>(created, 201);
    // 2. View All Age Groups
    expect(await bodyOf(await app.call('/age-groups'), 200)).toEqual([
      { id: group.id, min_age: 18, max_age: 25 },
    ]);
    // 3. Delete an Age Group
    expect(
      await bodyOf(await app.call(`/age-groups/${group.id}`, { method: 'DELETE' }), 200),
    ).toEqual({
      message: `Age group ${group.id} deleted successfully`,
    });
    // 4. Request an Enrollment — the seed's CPF fails its check digits (422), and with a valid
    //    CPF age 22 now fits no group, as step 3 deleted it (422).
    await expectProblem(
      await app.call('/enrollments', {
        method: 'POST',
        json: { name: 'John Doe', age: 22, cpf: sentCpf('12345678900') },
      }),
      422,
      'ENROLLMENTS.CPF_INVALID',
    );
    const cpf = newCpf();
    await expectProblem(
      await app.call('/enrollments', {
        method: 'POST',
        json: { name: 'John Doe', age: 22, cpf },
      }),
      422,
      'ENROLLMENTS.NO_AGE_GROUP',
    );
    // …so create the group again and request again: accepted.
    const again = await bodyOf<{ id: string }>(
      await app.call('/age-groups', { method: 'POST', json: { min_age: 18, max_age: 25 } }),
      201,
    );
    const accepted = await bodyOf<{ enrollment_id: string; status: string }>(
      await app.call('/enrollments', {
        method: 'POST',
        json: { name: 'John Doe', age: 22, cpf },
      }),
      202,
    );
    expect(accepted.status).toBe('PENDING');
    // 5. Check Enrollment Status — "wait a few seconds": here, until it is final.
    const final: Enrollment = await finalEnrollment(app, accepted.enrollment_id);
    expect(final).toMatchObject({ status: 'PROCESSED', age_group_id: again.id, name: 'John Doe' });
    expect(final.cpf).toBe(`***.${cpf.slice(3, 6)}.${cpf.slice(6, 9)}-**`);
  });
});

describe('finding the age group', () => {
  it('costs one read however many groups exist: a GetItem, then the commit (no Scan, no Query)', async () => {
    const commands: string[] = [];
    const app = await createEnrollmentsApp({
      start: false, // no consumer: only the request's own calls are counted
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
    for (let min = 0; min <= 148; min += 4) await createGroup(app, min, Math.min(min + 3, 150));
    commands.length = 0;

    await enroll(app, { age: 147 });

    expect(commands).toEqual(['GetItemCommand', 'TransactWriteItemsCommand']);
  });
});
