import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type {
  Admission,
  AdmissionSettings,
  Event,
  EventChanges,
  EventUpdate,
} from './events.model.js';
import { QUEUE_COUNTERS, type QueueConfig } from './events.queue.model.js';

/*
 * The waiting room as pure decisions: positions from the counters, how far admission has got at a
 * moment (a function of the clock and the settings, so nothing is written per admission), and the
 * admission token.
 */

/** The position the `n`th number (1, 2, …) of counter `k` stands for: counters interleave. */
export function positionOf(counter: number, n: number): number {
  return (n - 1) * QUEUE_COUNTERS + counter + 1;
}

/** Positions admitted through at `now` (ms): none more while the queue is switched off. */
export function admittedThrough(admission: Admission, now: number): number {
  if (!admission.enabled) return admission.anchorAdmitted;
  const elapsed = Math.max(0, now - admission.anchorAt);
  return admission.anchorAdmitted + Math.floor((admission.ratePerSecond * elapsed) / 1000);
}

/** When `position` is admitted (ms): `anchorAt + (position − anchorAdmitted) / R`. */
export function admitAt(admission: Admission, position: number): number {
  return (
    admission.anchorAt +
    Math.ceil(((position - admission.anchorAdmitted) * 1000) / admission.ratePerSecond)
  );
}

/**
 * The settings asked for, anchored at `now`: from where the current ones have got to, so that a
 * change of rate (or switching the queue off and on) neither admits again nor skips anyone — but
 * never past `issued`, the highest position handed out. Admission grows with the clock whether
 * anyone waits or not, so a queue switched on an hour before an on-sale would otherwise open the
 * door to the first hour's worth of arrivals at once: giving the settings again (a PUT) when the
 * rush starts admits those waiting already, then the rate from there.
 */
export function anchored(
  current: Admission | undefined,
  settings: AdmissionSettings,
  now: number,
  issued: number,
): Admission {
  return {
    enabled: settings.enabled,
    ratePerSecond: settings.ratePerSecond,
    tokenSeconds: settings.tokenSeconds,
    anchorAt: now,
    anchorAdmitted: current ? Math.min(admittedThrough(current, now), issued) : 0,
  };
}

/**
 * An update with its admission settings anchored on the event as read, `issued` the highest
 * position its queue had handed out (read before the event: counters only grow).
 */
export function anchoredChanges(
  current: Event,
  update: EventUpdate,
  now: Date,
  issued: number,
): EventChanges {
  const { admission, ...changes } = update;
  if (admission === undefined) return changes;
  return { ...changes, admission: anchored(current.admission, admission, now.getTime(), issued) };
}

/** The highest position of counters at `next` (the numbers each has handed out). */
export function highestPosition(next: readonly (number | undefined)[]): number {
  return Math.max(0, ...next.map((n, k) => (n ? positionOf(k, n) : 0)));
}

/*
 * The admission token: base64url(0x01 | eventTag(6) | userTag(8) | notAfter(4, Unix s) | MAC(16)),
 * 35 bytes, 47 characters. The tags are SHA-256 prefixes of the event and user ids; the MAC is
 * HMAC-SHA256 under the module's admission key over the first 19 bytes and the event's creation
 * time, so a token names one user of one incarnation of one event until notAfter. Nothing is
 * stored: the registration route checks it with the event's queue config alone.
 */

const VERSION = 1;
const TOKEN_BYTES = 35;

const tag = (label: string, id: string, bytes: number) =>
  createHash('sha256').update(`${label}:`).update(id).digest().subarray(0, bytes);

const mac = (key: Buffer, signed: Buffer, eventCreatedAt: string) =>
  createHmac('sha256', key)
    .update('admission:')
    .update(signed)
    .update(eventCreatedAt)
    .digest()
    .subarray(0, 16);

function signedPart(eventId: string, userId: string, notAfter: number): Buffer {
  const time = Buffer.alloc(4);
  time.writeUInt32BE(notAfter);
  return Buffer.concat([
    Buffer.from([VERSION]),
    tag('event', eventId, 6),
    tag('user', userId, 8),
    time,
  ]);
}

/** A token for `userId` at the event `config` describes, good until `notAfter` (Unix seconds). */
export function admissionToken(
  key: Buffer,
  config: Pick<QueueConfig, 'eventId' | 'eventCreatedAt'>,
  userId: string,
  notAfter: number,
): string {
  const signed = signedPart(config.eventId, userId, notAfter);
  return Buffer.concat([signed, mac(key, signed, config.eventCreatedAt)]).toString('base64url');
}

/** When a token issued at `now` (ms) stops being good, in Unix seconds. */
export function tokenNotAfter(config: Pick<QueueConfig, 'tokenSeconds'>, now: number): number {
  return Math.floor(now / 1000) + config.tokenSeconds;
}

export type TokenCheck = 'valid' | 'invalid' | 'expired';

/**
 * Whether `token` admits `userId` to the event at `now` (ms): `invalid` when it is missing,
 * malformed, altered, or another user's, event's or incarnation's; `expired` when genuine but
 * past its notAfter.
 */
export function checkAdmissionToken(
  key: Buffer,
  config: Pick<QueueConfig, 'eventId' | 'eventCreatedAt'>,
  userId: string,
  token: string | undefined,
  now: number,
): TokenCheck {
  if (token === undefined || !/^[A-Za-z0-9_-]{47}$/.test(token)) return 'invalid';
  const raw = Buffer.from(token, 'base64url');
  if (raw.length !== TOKEN_BYTES) return 'invalid';
  const notAfter = raw.readUInt32BE(1 + 6 + 8);
  const expected = admissionToken(key, config, userId, notAfter);
  // The whole token compared: the tags name this event and user, the MAC the rest (and the
  // canonical spelling, as base64url decoding ignores stray low bits of the last character).
  const genuine = timingSafeEqual(Buffer.from(expected), Buffer.from(token));
  if (!genuine) return 'invalid';
  return now > notAfter * 1000 ? 'expired' : 'valid';
}
