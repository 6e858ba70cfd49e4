import type { DomainEvent } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type { CheckinResult, CheckinType, Event, Registration } from './events.model.js';

/** An event as a check-in reader needs it: where its rows are (a sharded event's shards). */
export type CheckinEvent = Pick<Event, 'eventId' | 'shards'>;

/** A registration's admission as the door sees it. */
export interface Admission {
  readonly registrationId: string;
  readonly userId: string;
  /** Inside now: admitted and not exited (nor reverted) since. */
  readonly inside: boolean;
  /** The last admission: when, and by which device or gate. */
  readonly admittedAt?: string | undefined;
  readonly admittedBy?: string | undefined;
}

/** One line of an event's check-in log: each scan that changed something, and each revert. */
export interface CheckinEntry {
  readonly checkinId: string;
  readonly eventId: string;
  readonly registrationId: string;
  readonly userId: string;
  readonly type: CheckinType | 'revert';
  /** When it happened (a queued offline scan: when it was scanned). */
  readonly at: string;
  /** When the server recorded it. */
  readonly recordedAt: string;
  readonly device?: string | undefined;
}

/** What a scan answers: the result, who, and for `already_admitted` when and where. */
export interface ScanAnswer {
  readonly result: CheckinResult;
  readonly registrationId?: string | undefined;
  readonly userId?: string | undefined;
  readonly userName?: string | undefined;
  readonly admittedAt?: string | undefined;
  readonly admittedBy?: string | undefined;
}

/** A scan to record: its nonce makes a retry answer the same. */
export interface Scan {
  readonly eventId: string;
  /** The event's shards (undefined: 1): a sharded registration's row is in its shard. */
  readonly shards: number | undefined;
  readonly nonce: string;
  readonly type: CheckinType;
  readonly at: string;
  readonly device: string | undefined;
  /** The confirmed registration the ticket or the user id named. */
  readonly registration: Registration;
  readonly userName: string | undefined;
  readonly now: string;
}

export type ScanCommit =
  | { readonly ok: true; readonly entry: CheckinEntry }
  /** Answered before (same nonce): that answer. */
  | { readonly ok: false; readonly reason: 'replay'; readonly answer: ScanAnswer }
  /** The admission was not as the scan needs (already inside, or not inside for an exit). */
  | { readonly ok: false; readonly reason: 'state'; readonly admission: Admission | undefined }
  /** The registration is no longer this confirmed one, or the event is gone or cancelled. */
  | { readonly ok: false; readonly reason: 'revoked' };

/** A ticket in the manifest: whom it admits. */
export interface ManifestTicket {
  readonly registrationId: string;
  readonly userId: string;
  readonly userName: string | undefined;
  /** When its registration was confirmed (its place in the delta order). */
  readonly ticketAt: string;
}

/** An admission as a door device learns it: who is inside now, admitted when and where. */
export interface ManifestAdmission extends Admission {
  /** When it last changed (its place in the delta order). */
  readonly changedAt: string;
}

export interface ManifestChanges {
  readonly tickets: readonly ManifestTicket[];
  readonly revoked: readonly { readonly registrationId: string; readonly revokedAt: string }[];
  /** Admissions made, ended (exit) or reverted, by every door. */
  readonly admissions: readonly ManifestAdmission[];
}

/**
 * Tickets and check-ins on the events table: admissions guarded by conditions (one admission per
 * registration at a time, whatever runs at once), answers kept by nonce, the ticket index and the
 * revocations a door device syncs from.
 */
export interface CheckinRepository {
  /** The confirmed registration of an event with this registration id (a consistent read). */
  confirmedRegistration(
    event: CheckinEvent,
    registrationId: string,
  ): Promise<Registration | undefined>;
  /** Whether a registration with this id was revoked (unregistered after it was confirmed). */
  isRevoked(event: CheckinEvent, registrationId: string): Promise<boolean>;
  /** The answer recorded for this nonce, if any. */
  answered(eventId: string, nonce: string): Promise<ScanAnswer | undefined>;
  /** Records an answer for a nonce (the first one wins: returns the one that stands). */
  recordAnswer(
    eventId: string,
    nonce: string,
    answer: ScanAnswer,
    now: string,
  ): Promise<ScanAnswer>;
  /**
   * Commits a scan that changes the admission: the nonce's answer, the admission, the log entry and
   * `announced`, provided the registration is still this confirmed one, the event takes
   * registrations, and the admission is as the scan needs it.
   */
  commitScan(
    scan: Scan,
    answer: ScanAnswer,
    announced: (entry: CheckinEntry) => DomainEvent,
  ): Promise<ScanCommit>;
  admission(eventId: string, registrationId: string): Promise<Admission | undefined>;
  /** Takes back the admission of a registration inside, with its audit entry; false when not inside. */
  revert(
    eventId: string,
    admission: Admission,
    now: string,
    device: string | undefined,
    announced: (entry: CheckinEntry) => DomainEvent,
  ): Promise<CheckinEntry | undefined>;
  /** The log, oldest first. */
  listCheckins(eventId: string, page: PageRequest): Promise<Page<CheckinEntry>>;
  /** Every log entry, page by page (for the stats). */
  checkinPages(eventId: string): AsyncIterable<CheckinEntry[]>;
  /**
   * Puts the confirmed registrations of an event that the previous release wrote (not in the
   * ticket index) into it; returns how many (none for a sharded event: its rows always are).
   */
  backfillTicketIndex(event: CheckinEvent): Promise<number>;
  /**
   * Tickets confirmed and revoked after `since` (ISO; all when undefined), with the users' names
   * unless `names` is false (a caller that only wants the revocations); a sharded event's from
   * each shard's ticket index key.
   */
  manifestChanges(
    event: CheckinEvent,
    since: string | undefined,
    names?: boolean,
  ): Promise<ManifestChanges>;
}
