import { createHash } from 'node:crypto';

/*
 * Tickets and check-in as pure decisions: what a ticket is made of, how it is read back, and what
 * a scan answers. A ticket is the bytes
 *
 *   format (1) | key version (1) | event tag (6) | registration id (16) | Ed25519 signature (64)
 *
 * base64url-encoded: 118 characters, small enough for a QR code of version 6 or so. The signature
 * covers the first 24 bytes. The event tag is the first 6 bytes of SHA-256("event:" + eventId): a
 * door device knows its event's tag and tells a ticket for another event from a forged one. The
 * registration id is the registration's UUID, so a ticket names one registration — registering
 * again gives a new ticket, and the old one is revoked with the old registration.
 */

export const TICKET_FORMAT = 1;
const TAG_BYTES = 6;
const ID_BYTES = 16;
const SIGNED_BYTES = 2 + TAG_BYTES + ID_BYTES;
const SIGNATURE_BYTES = 64;
export const TICKET_LENGTH = Math.ceil(((SIGNED_BYTES + SIGNATURE_BYTES) * 4) / 3);

/** The event's tag: what a ticket carries of its event (see above). */
export function eventTag(eventId: string): Buffer {
  return createHash('sha256').update(`event:${eventId}`).digest().subarray(0, TAG_BYTES);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidBytes(id: string): Buffer | undefined {
  return UUID.test(id) ? Buffer.from(id.replaceAll('-', ''), 'hex') : undefined;
}

function uuidOf(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * What a ticket signs; undefined for a registration id that is not a UUID (every id this code
 * and the previous release issued is one).
 */
export function ticketPayload(
  keyVersion: number,
  eventId: string,
  registrationId: string,
): Buffer | undefined {
  const id = uuidBytes(registrationId);
  if (!id) return undefined;
  return Buffer.concat([Buffer.from([TICKET_FORMAT, keyVersion]), eventTag(eventId), id]);
}

export function encodeTicket(payload: Buffer, signature: Buffer): string {
  return Buffer.concat([payload, signature]).toString('base64url');
}

export interface ReadTicket {
  readonly keyVersion: number;
  readonly tag: Buffer;
  readonly registrationId: string;
  readonly signed: Buffer;
  readonly signature: Buffer;
}

/** A ticket's parts, or undefined when it is not one (wrong length, alphabet or format). */
export function readTicket(ticket: string): ReadTicket | undefined {
  if (ticket.length !== TICKET_LENGTH || !/^[A-Za-z0-9_-]+$/.test(ticket)) return undefined;
  const bytes = Buffer.from(ticket, 'base64url');
  if (bytes.length !== SIGNED_BYTES + SIGNATURE_BYTES || bytes[0] !== TICKET_FORMAT) {
    return undefined;
  }
  return {
    keyVersion: bytes[1] as number,
    tag: bytes.subarray(2, 2 + TAG_BYTES),
    registrationId: uuidOf(bytes.subarray(2 + TAG_BYTES, SIGNED_BYTES)),
    signed: bytes.subarray(0, SIGNED_BYTES),
    signature: bytes.subarray(SIGNED_BYTES),
  };
}

/**
 * What a ticket's own bytes decide before anything is read: `unknown` (not a ticket, or a
 * signature no key in service made), `wrong_event`, or the registration it names.
 */
export function judgeTicket(
  ticket: string,
  eventId: string,
  verify: (version: number, message: Buffer, signature: Buffer) => boolean,
):
  | { readonly result: 'unknown' | 'wrong_event' }
  | { readonly result: 'valid'; readonly registrationId: string } {
  const read = readTicket(ticket);
  if (!read || !verify(read.keyVersion, read.signed, read.signature)) return { result: 'unknown' };
  if (!read.tag.equals(eventTag(eventId))) return { result: 'wrong_event' };
  return { result: 'valid', registrationId: read.registrationId };
}

/** Arrivals are counted in buckets of this many minutes. */
export const ARRIVAL_BUCKET_MINUTES = 5;

/** The start of the bucket `at` falls in (ISO 8601 UTC). */
export function arrivalBucket(at: string): string {
  const ms = ARRIVAL_BUCKET_MINUTES * 60_000;
  return new Date(Math.floor(Date.parse(at) / ms) * ms).toISOString();
}
