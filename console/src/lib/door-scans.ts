import type { DoorList } from './door-list';
import { ticketOfUser } from './door-list';
import { bytesToBase64url } from './door-ticket';

/**
 * Scans at the door: each one a record with its own nonce, kept on the device (IndexedDB) before
 * its result shows. Online, the API decides (it is the truth); offline, or when the API does not
 * answer in time, the device decides from its door list and what it admitted itself, and the scan
 * waits in the queue. Uploaded later with its nonce and the time it was scanned, a scan is
 * recorded once however often it is sent; an offline admission the API answers otherwise (the
 * ticket was admitted at another door meanwhile) is a conflict someone should look at.
 */

export type ScanType = 'entry' | 'exit';

export type ScanResult =
  | 'admitted'
  | 'already_admitted'
  | 'revoked'
  | 'unknown'
  | 'wrong_event'
  | 'exited'
  | 'not_inside';

/** What a scan answered (the API's `CheckinAnswer`, or the device's own decision). */
export interface ScanAnswer {
  readonly result: ScanResult;
  readonly registrationId?: string;
  readonly userId?: string;
  readonly userName?: string;
  readonly admittedAt?: string;
  readonly admittedBy?: string;
  /** Decided offline on a genuine ticket that the door list doesn't have yet (no name known). */
  readonly unlisted?: boolean;
}

export interface ScanRecord {
  readonly nonce: string;
  readonly eventId: string;
  readonly ticket?: string;
  readonly userId?: string;
  readonly type: ScanType;
  /** When it was scanned (ISO 8601, this device's clock): the `at` of its upload. */
  readonly at: string;
  readonly device: string;
  /** The device's decision, when it had to decide (offline, or no answer in time). */
  readonly local?: ScanAnswer;
  /** The API's answer, once it gave one. */
  readonly server?: ScanAnswer;
  /** queued: still to upload; sent: the API answered; refused: the API refused the request. */
  readonly state: 'queued' | 'sent' | 'refused';
  readonly problem?: string;
}

/** What a scan shows: the API's answer when there is one, else the device's. */
export const answerOf = (record: ScanRecord): ScanAnswer | undefined =>
  record.server ?? record.local;

/** 16 random bytes, base64url: 22 characters of the API's nonce alphabet. */
export const newNonce = (): string => bytesToBase64url(crypto.getRandomValues(new Uint8Array(16)));

const DEVICE_NAME = /^[\w .:-]{1,64}$/u;

/** A device name the API accepts (1–64 letters, digits, spaces or `. _ : -`), or undefined. */
export const validDeviceName = (name: string): string | undefined => {
  const trimmed = name.trim();
  return DEVICE_NAME.test(trimmed) ? trimmed : undefined;
};

export const newDeviceName = (): string =>
  `door-${Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, '0')).join('')}`;

export interface Admission {
  readonly inside: boolean;
  readonly admittedAt?: string;
  readonly admittedBy?: string;
  /** When this was learnt: the scan's time, or the door list's `changedAt`. */
  readonly at?: string;
}

/**
 * Who is inside as far as this device can know: every door's admissions from the door list,
 * overlaid by this device's own scans where they are newer (an admission made here since the
 * last sync; an exit at another door after it, once synced, wins).
 */
export function knownAdmissions(
  listed: ReadonlyMap<string, Admission>,
  local: ReadonlyMap<string, Admission>,
): Map<string, Admission> {
  const merged = new Map(listed);
  for (const [registrationId, admission] of local) {
    const other = merged.get(registrationId);
    if (!other || (admission.at ?? '') >= (other.at ?? '')) merged.set(registrationId, admission);
  }
  return merged;
}

/**
 * What this device knows of who is inside, by registration id: its own scans' answers (and what
 * the API told it of other doors' admissions), the latest scan last. Offline it can't know of
 * admissions at other doors since: hence the banner, and the conflicts after the upload.
 */
export function admissionsOf(records: readonly ScanRecord[]): Map<string, Admission> {
  const admissions = new Map<string, Admission>();
  const ordered = [...records].sort((a, b) => a.at.localeCompare(b.at));
  for (const record of ordered) noteAdmission(admissions, record);
  return admissions;
}

/** Adds one scan's answer to `admissions` (a scan newer than every one noted before). */
export function noteAdmission(admissions: Map<string, Admission>, record: ScanRecord): void {
  const answer = answerOf(record);
  if (!answer?.registrationId) return;
  switch (answer.result) {
    case 'admitted':
      admissions.set(answer.registrationId, {
        inside: true,
        admittedAt: answer.admittedAt ?? record.at,
        admittedBy: answer.admittedBy ?? record.device,
        at: record.at,
      });
      return;
    case 'already_admitted':
      admissions.set(answer.registrationId, {
        inside: true,
        ...(answer.admittedAt ? { admittedAt: answer.admittedAt } : {}),
        ...(answer.admittedBy ? { admittedBy: answer.admittedBy } : {}),
        at: record.at,
      });
      return;
    case 'exited':
    case 'not_inside':
      admissions.set(answer.registrationId, { inside: false, at: record.at });
      return;
    default:
      return;
  }
}

/** What was scanned, once the ticket's own bytes were judged (see door-ticket `judgeTicket`). */
export type Scanned =
  | { readonly result: 'unknown' | 'wrong_event' }
  | { readonly result: 'valid'; readonly registrationId: string }
  | { readonly userId: string };

/**
 * The device's own answer to a scan, as the API would give it from what the device knows: a
 * revoked registration never admits; a genuine ticket of this event that the list doesn't have
 * yet (confirmed after the last sync) admits on its signature, marked `unlisted`; a typed user id
 * must be listed.
 */
export function decideLocally(input: {
  readonly scanned: Scanned;
  readonly type: ScanType;
  readonly list: DoorList;
  readonly admissions: ReadonlyMap<string, Admission>;
  readonly at: string;
  readonly device: string;
}): ScanAnswer {
  const { scanned, type, list, admissions } = input;
  let registrationId: string;
  if ('userId' in scanned) {
    const listed = ticketOfUser(list, scanned.userId);
    if (!listed) return { result: 'unknown', userId: scanned.userId };
    registrationId = listed.registrationId;
  } else if (scanned.result === 'valid') {
    registrationId = scanned.registrationId;
  } else {
    return { result: scanned.result };
  }
  if (list.revoked.has(registrationId)) return { result: 'revoked', registrationId };
  const listed = list.tickets.get(registrationId);
  const who: ScanAnswer = {
    result: 'unknown',
    registrationId,
    ...(listed ? { userId: listed.userId } : { unlisted: true }),
    ...(listed?.userName ? { userName: listed.userName } : {}),
  };
  const admission = admissions.get(registrationId);
  if (type === 'exit') return { ...who, result: admission?.inside ? 'exited' : 'not_inside' };
  if (admission?.inside) {
    return {
      ...who,
      result: 'already_admitted',
      ...(admission.admittedAt ? { admittedAt: admission.admittedAt } : {}),
      ...(admission.admittedBy ? { admittedBy: admission.admittedBy } : {}),
    };
  }
  return { ...who, result: 'admitted', admittedAt: input.at, admittedBy: input.device };
}

/** The body of a scan's upload: its nonce, and when it was scanned. */
export const uploadBody = (record: ScanRecord) => ({
  ...(record.ticket !== undefined ? { ticket: record.ticket } : { userId: record.userId ?? '' }),
  nonce: record.nonce,
  type: record.type,
  at: record.at,
  device: record.device,
});

/**
 * The queued scans in the order they are uploaded: as they were scanned, so that an entry and a
 * later exit of the same ticket reach the API in that order.
 */
export const queuedScans = (records: readonly ScanRecord[]): ScanRecord[] =>
  records
    .filter((record) => record.state === 'queued')
    .sort((a, b) => a.at.localeCompare(b.at) || a.nonce.localeCompare(b.nonce));

/** What a scan is about, for keeping one upload of each at a time (in scan order). */
export const scanSubject = (record: ScanRecord): string =>
  record.ticket !== undefined ? `t:${record.ticket}` : `u:${record.userId}`;

/**
 * The next uploads to start: queued scans in order, none already in flight, and none whose
 * subject (the same ticket or user) has an earlier scan still queued or in flight.
 */
export function nextUploads(
  records: readonly ScanRecord[],
  inFlight: ReadonlySet<string>,
  slots: number,
): ScanRecord[] {
  const busy = new Set(
    records.filter((record) => inFlight.has(record.nonce)).map((record) => scanSubject(record)),
  );
  const chosen: ScanRecord[] = [];
  for (const record of queuedScans(records)) {
    if (chosen.length >= slots) break;
    const subject = scanSubject(record);
    if (inFlight.has(record.nonce)) continue;
    if (!busy.has(subject)) chosen.push(record);
    busy.add(subject);
  }
  return chosen;
}

/**
 * Whether a failed upload is tried again: the network or the API was unavailable (status 0,
 * 408, 429, 5xx), or the sign-in ended (401: after signing in again). Any other refusal is final
 * (the request itself was wrong) and is shown, not retried forever.
 */
export const retryUpload = (status: number): boolean =>
  status === 0 || status === 401 || status === 408 || status === 429 || status >= 500;

export const answered = (record: ScanRecord, server: ScanAnswer): ScanRecord => ({
  ...record,
  server,
  state: 'sent',
});

export const refused = (record: ScanRecord, problem: string): ScanRecord => ({
  ...record,
  state: 'refused',
  problem,
});

export type ConflictKind = 'admitted_elsewhere' | 'revoked' | 'not_valid';

export interface Conflict {
  readonly record: ScanRecord;
  readonly kind: ConflictKind;
}

/**
 * Admissions this device made on its own that the API, once told, did not make: the ticket was
 * admitted at another door meanwhile (`already_admitted`: the double admission the offline banner
 * warns of), or its registration was cancelled, or it was not one.
 */
export function conflictsOf(records: readonly ScanRecord[]): Conflict[] {
  const conflicts: Conflict[] = [];
  for (const record of records) {
    if (record.type !== 'entry' || record.local?.result !== 'admitted' || !record.server) continue;
    const result = record.server.result;
    if (result === 'admitted') continue;
    conflicts.push({
      record,
      kind:
        result === 'already_admitted'
          ? 'admitted_elsewhere'
          : result === 'revoked'
            ? 'revoked'
            : 'not_valid',
    });
  }
  return conflicts.sort((a, b) => b.record.at.localeCompare(a.record.at));
}
