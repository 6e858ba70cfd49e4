import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { badRequest } from '../errors.js';

/**
 * Opaque cursors: base64url JSON of DynamoDB's LastEvaluatedKey, bound to the list they came
 * from (`scope`), plus whatever small state a list needs to resume (e.g. a running count).
 * Garbage, a cursor from another list, or one naming keys outside the query is a 400.
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

export const invalidCursor = () =>
  badRequest('PAGINATION.CURSOR_INVALID', 'The cursor is not valid for this list.');

export function encodeCursor(
  scope: string,
  key: Key,
  extra?: Record<string, string | number>,
): string {
  const body: CursorBody = { v: 1, s: scope, k: key, ...(extra ? { x: extra } : {}) };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

export function decodeCursor(scope: string, cursor: string): DecodedCursor {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!isCursorBody(body) || body.s !== scope) throw invalidCursor();
  return { key: body.k, extra: body.x ?? {} };
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
