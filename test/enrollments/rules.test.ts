import { describe, expect, it } from 'vitest';
import {
  AGE_BUCKET_SIZE,
  agesByBucket,
  bucketOf,
  checkCpf,
  cpfGuardKey,
  decodeEnrollmentMessage,
  enrollmentMessage,
  maskCpf,
  withCheckDigits,
} from '../../src/modules/enrollments/enrollments.rules.js';

describe('CPF rules', () => {
  it.each([
    ['123.456.789-09', '12345678909'],
    ['12345678909', '12345678909'],
    [' 529.982.247-25 ', '52998224725'],
    ['529 982 247 25', '52998224725'],
  ])('accepts %j and normalises it to digits', (input, digits) => {
    expect(checkCpf(input)).toEqual({ ok: true, digits });
  });

  const digitsWrong = ['check digits do not match', 'its check digits do not match'];
  const repeated = ['must not repeat one digit 11 times', 'it must not repeat one digit 11 times'];
  const length = ['must have 11 digits', 'it must have 11 digits'];
  const characters = [
    'must contain only digits, dots, hyphens and spaces',
    'it must contain only digits, dots, hyphens and spaces',
  ];

  it.each([
    ['12345678900', digitsWrong],
    ['123.456.789-10', digitsWrong],
    ['111.111.111-11', repeated],
    ['00000000000', repeated],
    ['1234567890', length],
    ['123456789091', length],
    ['', characters],
    ['123.456.789/09', characters],
    ['abc.def.ghi-jk', characters],
  ])(
    'refuses %j: %s (the field message, and the clause of the detail)',
    (input, [problem, why]) => {
      expect(checkCpf(input)).toEqual({ ok: false, problem, why });
    },
  );

  it('computes both check digits (known CPFs)', () => {
    expect(withCheckDigits('123456789')).toBe('12345678909');
    expect(withCheckDigits('529982247')).toBe('52998224725');
    expect(withCheckDigits('000000001')).toBe('00000000191');
  });

  it('never quotes the input in a problem', () => {
    const result = checkCpf('98765432199');
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('98765432199');
  });

  it('masks all but the middle six digits', () => {
    expect(maskCpf('12345678909')).toBe('***.456.789-**');
  });

  it('keys a guard by an HMAC that depends on the secret and on every digit', () => {
    const key = Buffer.alloc(32, 1);
    const guard = cpfGuardKey(key, '12345678909');
    expect(guard).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(guard).not.toContain('12345678909');
    expect(cpfGuardKey(key, '12345678909')).toBe(guard);
    expect(cpfGuardKey(Buffer.alloc(32, 2), '12345678909')).not.toBe(guard);
    expect(cpfGuardKey(key, '52998224725')).not.toBe(guard);
  });
});

describe('age buckets', () => {
  it('puts ages 0–9 in bucket 0 and 150 in bucket 15', () => {
    expect(AGE_BUCKET_SIZE).toBe(10);
    expect([0, 9, 10, 149, 150].map(bucketOf)).toEqual([0, 0, 1, 14, 15]);
  });

  it('splits a range into its buckets, each with its ages', () => {
    expect([...agesByBucket(18, 25)]).toEqual([
      [1, [18, 19]],
      [2, [20, 21, 22, 23, 24, 25]],
    ]);
  });

  it('covers the widest group (0–150) with 16 buckets: 17 items with the group', () => {
    const buckets = agesByBucket(0, 150);
    expect(buckets.size).toBe(16);
    expect([...buckets.values()].flat()).toHaveLength(151);
  });

  it('refuses ranges outside 0–150 or upside down', () => {
    expect(() => agesByBucket(-1, 5)).toThrow();
    expect(() => agesByBucket(0, 151)).toThrow();
    expect(() => agesByBucket(30, 20)).toThrow();
  });
});

describe('queue messages', () => {
  it('round-trips the queue message {"enrollment_id": …}', () => {
    const body = enrollmentMessage('0193-abc');
    expect(JSON.parse(body)).toEqual({ enrollment_id: '0193-abc' });
    expect(decodeEnrollmentMessage(body)).toBe('0193-abc');
  });

  it.each([
    'not json',
    '[]',
    'null',
    '{}',
    '{"enrollment_id": 42}',
    '{"enrollment_id": ""}',
    '{"enrollment_id": "a/b"}',
    JSON.stringify({ enrollment_id: 'x'.repeat(101) }),
  ])('decodes %j as nothing', (body) => {
    expect(decodeEnrollmentMessage(body)).toBeUndefined();
  });
});
