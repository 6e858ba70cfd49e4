/**
 * A ticket as a door device reads it, offline: base64url of 88 bytes,
 *
 *   format (1) = 1 | key version (1) | event tag (6) | registration id, a UUID (16) | Ed25519 signature (64)
 *
 * the signature covering the first 24 bytes (118 characters in all). The API's door manifest
 * gives the event's tag and the public keys in service; nothing else is needed to tell a genuine
 * ticket of this event from a forged one or another event's.
 */

export const TICKET_LENGTH = 118;
const FORMAT = 1;
const TAG_BYTES = 6;
const SIGNED_BYTES = 2 + TAG_BYTES + 16;
const SIGNATURE_BYTES = 64;
const TICKET_TEXT = /^[A-Za-z0-9_-]{118}$/;

export interface ParsedTicket {
  readonly keyVersion: number;
  readonly tag: Uint8Array<ArrayBuffer>;
  readonly registrationId: string;
  /** What the signature covers. */
  readonly signed: Uint8Array<ArrayBuffer>;
  readonly signature: Uint8Array<ArrayBuffer>;
}

export function base64urlToBytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const base64 = text.replaceAll('-', '+').replaceAll('_', '/');
  const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** A ticket's parts, or undefined when the text is not one (length, alphabet, format byte). */
export function parseTicket(text: string): ParsedTicket | undefined {
  const trimmed = text.trim();
  if (!TICKET_TEXT.test(trimmed)) return undefined;
  const bytes = base64urlToBytes(trimmed);
  if (!bytes || bytes.length !== SIGNED_BYTES + SIGNATURE_BYTES || bytes[0] !== FORMAT) {
    return undefined;
  }
  const id = hex(bytes.subarray(2 + TAG_BYTES, SIGNED_BYTES));
  return {
    keyVersion: bytes[1] as number,
    tag: bytes.slice(2, 2 + TAG_BYTES),
    registrationId: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`,
    signed: bytes.slice(0, SIGNED_BYTES),
    signature: bytes.slice(SIGNED_BYTES),
  };
}

/** Whether the text looks like a ticket at all (a scanner's or a paste's), not a name typed. */
export const looksLikeTicket = (text: string): boolean => TICKET_TEXT.test(text.trim());

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

/** Checks signatures with the public keys in service, by version. */
export interface TicketVerifier {
  verify(ticket: ParsedTicket): Promise<boolean>;
}

/** Thrown when this browser's WebCrypto has no Ed25519 (it can't check tickets offline). */
export class Ed25519UnavailableError extends Error {
  override name = 'Ed25519UnavailableError';
}

/**
 * A verifier over the manifest's keys (raw 32-byte Ed25519 public keys, base64url), imported
 * once into WebCrypto: a check then costs well under a millisecond. A version not among the keys
 * (retired, or never issued) verifies nothing.
 */
export async function createVerifier(
  keys: readonly { readonly version: number; readonly publicKey: string }[],
  subtle: SubtleCrypto = crypto.subtle,
): Promise<TicketVerifier> {
  const imported = new Map<number, CryptoKey>();
  for (const { version, publicKey } of keys) {
    const raw = base64urlToBytes(publicKey);
    if (raw?.length !== 32) continue;
    try {
      imported.set(
        version,
        await subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']),
      );
    } catch (error) {
      if (error instanceof DOMException && error.name === 'NotSupportedError') {
        throw new Ed25519UnavailableError('this browser cannot verify Ed25519 signatures');
      }
      throw error;
    }
  }
  return {
    async verify(ticket) {
      const key = imported.get(ticket.keyVersion);
      if (!key) return false;
      return subtle.verify({ name: 'Ed25519' }, key, ticket.signature, ticket.signed);
    },
  };
}

/**
 * What a ticket's own bytes decide, in the order the API decides it: `unknown` (not a ticket, or
 * a signature no key in service made), `wrong_event` (genuine, for another event), or the
 * registration it names.
 */
export async function judgeTicket(
  text: string,
  eventTag: Uint8Array,
  verifier: TicketVerifier,
): Promise<
  | { readonly result: 'unknown' | 'wrong_event' }
  | { readonly result: 'valid'; readonly registrationId: string }
> {
  const ticket = parseTicket(text);
  if (!ticket || !(await verifier.verify(ticket))) return { result: 'unknown' };
  if (!sameBytes(ticket.tag, eventTag)) return { result: 'wrong_event' };
  return { result: 'valid', registrationId: ticket.registrationId };
}
