import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';

/**
 * Client-given ids (docs/spec.md#identifiers): 1–100 characters of [A-Za-z0-9._:-], and not
 * only dots — `.` and `..` are path segments that URL normalisation removes or resolves, so such
 * an id could never be addressed (or would address another route).
 */
export const ClientIdSchema = z.string().check(
  z.regex(/^[A-Za-z0-9._:-]{1,100}$/, 'must be 1–100 characters of A-Z a-z 0-9 . _ : -'),
  z.refine((value) => !/^\.+$/.test(value), 'must contain a character other than "."'),
);

/** An unguessable id: `bytes` random bytes, base64url (16 bytes: 22 characters). */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
