import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { badRequest } from '../errors.js';

/**
 * Opaque cursors: base64url JSON of DynamoDB's LastEvaluatedKey, bound to the list they came
 * from (`scope`), plus whatever small state a list needs to resume (e.g. a running count), and
 * signed with an HMAC under a configured secret. A client can hold a cursor but cannot forge
 * or edit one: a cursor that is garbage, from another list, or tampered with is a 400, so no
 * list ever resumes at a key or with a state the server did not hand out.
 */
export type Key = Record<string, NativeAttributeValue>;

interface CursorBody {
  v: 1;
  s: string;
  k: Key;
  x?: Record<string, string | number>;
}

export interface DecodedCursor {
  readonly key: Key;
  readonly extra: Record<string, string | number>;
}

export interface CursorCodec {
  encode(scope: string, key: Key, extra?: Record<string, string | number>): string;
  /** Throws PAGINATION.CURSOR_INVALID (400) for anything this codec did not encode for `scope`. */
  decode(scope: string, cursor: string): DecodedCursor;
}

export const invalidCursor = () =>
  badRequest('PAGINATION.CURSOR_INVALID', 'The cursor is not valid for this list.');

/** 128 bits of HMAC-SHA256: forging one is a 2^128 guess, and the cursor stays short. */
const MAC_BYTES = 16;

export function createCursorCodec(secret: Buffer): CursorCodec {
  if (secret.length < 16) throw new Error('the cursor secret needs at least 16 bytes');
  const mac = (scope: string, payload: Buffer) =>
    createHmac('sha256', secret)
      .update(scope)
      .update('\n')
      .update(payload)
      .digest()
      .subarray(0, MAC_BYTES);

  return {
    // base64url(MAC ‖ JSON): one URL-safe token, nothing to split.
    encode(scope, key, extra) {
      const body: CursorBody = { v: 1, s: scope, k: key, ...(extra ? { x: extra } : {}) };
      const payload = Buffer.from(JSON.stringify(body), 'utf8');
      return Buffer.concat([mac(scope, payload), payload]).toString('base64url');
    },
    decode(scope, cursor) {
      const raw = Buffer.from(cursor, 'base64url');
      if (raw.length <= MAC_BYTES) throw invalidCursor();
      const payload = raw.subarray(MAC_BYTES);
      if (!timingSafeEqual(raw.subarray(0, MAC_BYTES), mac(scope, payload))) throw invalidCursor();
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch {
        throw invalidCursor();
      }
      if (!isCursorBody(body) || body.s !== scope) throw invalidCursor();
      return { key: body.k, extra: body.x ?? {} };
    },
  };
}

function isCursorBody(value: unknown): value is CursorBody {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<CursorBody>;
  return (
    v.v === 1 &&
    typeof v.s === 'string' &&
    isFlatRecord(v.k) &&
    Object.keys(v.k).length > 0 &&
    (v.x === undefined || isFlatRecord(v.x))
  );
}

function isFlatRecord(value: unknown): value is Record<string, string | number> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every(
      (item) => typeof item === 'string' || (typeof item === 'number' && Number.isFinite(item)),
    )
  );
}
