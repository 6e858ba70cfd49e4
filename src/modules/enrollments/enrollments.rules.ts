import { createHmac } from 'node:crypto';
import { type Enrollment, enrollmentEvents, MAX_AGE, MIN_AGE } from './enrollments.model.js';
import { type EnrollmentResponse, enrollmentBody } from './enrollments.schemas.js';

/*
 * Pure decisions of the enrollments module: the CPF (normalising, check digits, masking, the
 * keyed hash its guard item is stored under), the age buckets behind the O(1) age-group lookup,
 * and decoding queue messages. No I/O; unit-tested without a database.
 */

export type CpfCheck =
  | { readonly ok: true; readonly digits: string }
  /** `problem` is the field's message; `why` finishes "The CPF is not valid: …". */
  | { readonly ok: false; readonly problem: string; readonly why: string };

/** A CPF refused for a rule its problem states (`must …`), which reads after "it" in the detail. */
const breaks = (problem: string): CpfCheck => ({ ok: false, problem, why: `it ${problem}` });

/**
 * Normalises and checks a CPF: punctuation (`123.456.789-09`) is accepted and dropped, then it
 * must be 11 digits, not all the same (`111.111.111-11` passes the check-digit arithmetic but is
 * not issued), and both check digits must match. The problem never quotes the input: it is
 * personal data and ends up in a response.
 */
export function checkCpf(input: string): CpfCheck {
  const trimmed = input.trim();
  if (!/^[\d.\- ]+$/.test(trimmed)) {
    return breaks('must contain only digits, dots, hyphens and spaces');
  }
  const digits = trimmed.replace(/[.\- ]/g, '');
  if (digits.length !== 11) return breaks('must have 11 digits');
  if (/^(\d)\1{10}$/.test(digits)) return breaks('must not repeat one digit 11 times');
  if (withCheckDigits(digits.slice(0, 9)) !== digits) {
    return {
      ok: false,
      problem: 'check digits do not match',
      why: 'its check digits do not match',
    };
  }
  return { ok: true, digits };
}

/** The 11-digit CPF whose first nine digits are `base` (modulo-11 check digits). */
export function withCheckDigits(base: string): string {
  if (!/^\d{9}$/.test(base)) throw new Error('a CPF base is nine digits');
  const digit = (partial: string) => {
    const weightStart = partial.length + 1;
    const sum = [...partial].reduce((acc, d, i) => acc + Number(d) * (weightStart - i), 0);
    const rest = sum % 11;
    return rest < 2 ? 0 : 11 - rest;
  };
  const first = `${base}${digit(base)}`;
  return `${first}${digit(first)}`;
}

/** `***.456.789-**`: the middle six digits, the rest hidden (docs/spec.md#cpf). */
export function maskCpf(digits: string): string {
  return `***.${digits.slice(3, 6)}.${digits.slice(6, 9)}-**`;
}

/**
 * What a CPF's guard item is keyed by: HMAC-SHA256 under a key derived from the deployment's
 * master secret. A plain hash would not do: 10^9 possible CPFs are hashed in seconds, so a
 * leaked table would give every CPF back; without the key the guard reveals nothing.
 */
export function cpfGuardKey(key: Buffer, digits: string): string {
  return createHmac('sha256', key).update(digits).digest('base64url');
}

/**
 * Ages are covered in buckets of ten: bucket `b` holds ages 10b … 10b+9, one attribute per age
 * naming the group that covers it. Finding an age's group reads one bucket; creating or deleting
 * a group writes at most 16 buckets and the group in one transaction (one item per age would
 * need up to 152 items, over DynamoDB's 100 per transaction).
 */
export const AGE_BUCKET_SIZE = 10;

export const bucketOf = (age: number): number => Math.floor(age / AGE_BUCKET_SIZE);

/** The ages of `min`…`max` by bucket, in order. */
export function agesByBucket(min: number, max: number): Map<number, number[]> {
  if (min < MIN_AGE || max > MAX_AGE || min > max) throw new Error(`bad age range ${min}–${max}`);
  const buckets = new Map<number, number[]>();
  for (let age = min; age <= max; age++) {
    const bucket = bucketOf(age);
    let ages = buckets.get(bucket);
    if (!ages) {
      ages = [];
      buckets.set(bucket, ages);
    }
    ages.push(age);
  }
  return buckets;
}

const ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** The message that wakes the processor: `{"enrollment_id": "…"}` (kept from docs/seeds.md). */
export const enrollmentMessage = (enrollmentId: string): string =>
  JSON.stringify({ enrollment_id: enrollmentId });

/** The enrollment id a message names, or undefined if it is not such a message. */
export function decodeEnrollmentMessage(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const id = (parsed as { enrollment_id?: unknown }).enrollment_id;
  return typeof id === 'string' && ID.test(id) ? id : undefined;
}

/** Why an enrollment whose age group disappeared before processing is rejected. */
export const groupGoneReason = (ageGroupId: string): string =>
  `Age group ${ageGroupId} was deleted before the request was processed.`;

/** What an enrollment's domain event says, once the change it announces is decided. */
export interface EnrollmentEvent {
  readonly type: string;
  readonly aggregate: { readonly type: string; readonly id: string; readonly sequence: number };
  readonly data: EnrollmentResponse;
}

/**
 * The domain event of `enrollment` as it stands after a change, told by its status: accepted while
 * PENDING (sequence 1), processed or rejected once it left PENDING (sequence 2: it leaves PENDING
 * once, and nothing changes it after). Its data is the enrollment as GET /enrollments/{id} shows
 * it.
 */
export function enrollmentEvent(enrollment: Enrollment): EnrollmentEvent {
  const [type, sequence] =
    enrollment.status === 'PENDING'
      ? [enrollmentEvents.accepted, 1]
      : enrollment.status === 'PROCESSED'
        ? [enrollmentEvents.processed, 2]
        : [enrollmentEvents.rejected, 2];
  return {
    type,
    aggregate: { type: enrollmentEvents.aggregate, id: enrollment.id, sequence },
    data: enrollmentBody(enrollment),
  };
}
