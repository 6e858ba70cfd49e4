import type { ModuleMetrics } from '../../platform/metrics/metrics.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type {
  CheckinEntry,
  CheckinRepository,
  ManifestChanges,
  ScanAnswer,
} from './events.checkins.repository.js';
import {
  arrivalBucket,
  encodeTicket,
  eventTag,
  judgeTicket,
  ticketPayload,
} from './events.checkins.rules.js';
import { EventsErrors } from './events.errors.js';
import type { CheckinType, Event, Registration } from './events.model.js';
import type { RegistrationRepository } from './events.registrations.repository.js';
import type { EventRepository } from './events.repository.js';
import type { UserRepository } from './events.users.repository.js';

/** The module's ticket keys (platform/signing `SigningKeys`, as the service needs them). */
export interface TicketKeys {
  readonly current: number;
  sign(message: Uint8Array): Buffer;
  verify(version: number, message: Uint8Array, signature: Uint8Array): boolean;
  publicKeys(): readonly { readonly version: number; readonly publicKey: Buffer }[];
}

export interface CheckinsServiceDeps {
  readonly repository: CheckinRepository;
  readonly events: EventRepository;
  readonly registrations: Pick<RegistrationRepository, 'getRegistration'>;
  readonly users: UserRepository;
  readonly keys: TicketKeys;
  readonly clock: () => Date;
  readonly outbox: Outbox;
  /** CheckinAdmitted, CheckinRefused. */
  readonly metrics: ModuleMetrics;
}

export interface ScanInput {
  readonly ticket?: string | undefined;
  readonly userId?: string | undefined;
  readonly nonce: string;
  readonly type: CheckinType;
  /** When it was scanned (an offline scan uploaded later); now when absent. */
  readonly at?: string | undefined;
  readonly device?: string | undefined;
}

/** What a door device downloads, and then asks for again with `since`. */
export interface Manifest extends ManifestChanges {
  readonly event: Event;
  readonly eventTag: string;
  readonly keys: readonly { readonly version: number; readonly publicKey: string }[];
  /** What to send as `since` next time. */
  readonly cursor: string;
}

export interface CheckinStats {
  readonly confirmed: number;
  readonly checkedIn: number;
  readonly inside: number;
  readonly arrivals: readonly { readonly from: string; readonly count: number }[];
}

/**
 * The index behind a delta is eventually consistent (typically well under a second): a cursor
 * is this far behind the time it was made, so a change being indexed as it was made is sent
 * again next time rather than missed (a device applies changes idempotently).
 */
const CURSOR_LAG_MS = 5000;

/**
 * Tickets and check-ins. A ticket is an Ed25519 signature over its registration (rules): a door
 * device verifies it offline with the public keys. A scan is judged from the ticket's own bytes
 * first, then committed under conditions that admit each registration once at a time; its nonce
 * makes a retried or re-uploaded scan answer the same and record nothing more.
 */
export class CheckinsService {
  constructor(private readonly deps: CheckinsServiceDeps) {}

  /** The ticket of a confirmed registration (404 unknown, 409 not confirmed). */
  async ticket(
    eventId: string,
    userId: string,
  ): Promise<{ ticket: string; registration: Registration }> {
    const found = await this.deps.registrations.getRegistration(eventId, userId);
    if (!found || !(await this.deps.events.getEvent(eventId))) {
      throw EventsErrors.registrationNotFound(eventId, userId);
    }
    const { registration } = found;
    if (registration.status !== 'confirmed') {
      throw EventsErrors.noTicket(eventId, userId, registration.status);
    }
    const payload = ticketPayload(this.deps.keys.current, eventId, registration.registrationId);
    if (!payload) throw EventsErrors.noTicket(eventId, userId, 'of an id that is not a UUID');
    return { ticket: encodeTicket(payload, this.deps.keys.sign(payload)), registration };
  }

  /** Records a scan (or a typed lookup) and answers what the door should do. */
  async scan(eventId: string, input: ScanInput): Promise<ScanAnswer> {
    const event = await this.deps.events.getEvent(eventId);
    if (!event) throw EventsErrors.eventNotFound(eventId);
    const now = this.deps.clock().toISOString();
    const replay = await this.deps.repository.answered(eventId, input.nonce);
    if (replay) return replay;
    const found = await this.registrationScanned(event, input);
    if ('result' in found) return this.answer(eventId, input.nonce, found, now);
    const { registration } = found;
    const user = await this.deps.users.getUser(registration.userId);
    const who = {
      registrationId: registration.registrationId,
      userId: registration.userId,
      userName: user?.name,
    };
    if (event.status === 'cancelled') {
      return this.answer(eventId, input.nonce, { result: 'revoked', ...who }, now);
    }
    const at = input.at ?? now;
    const admitted: ScanAnswer = {
      result: input.type === 'entry' ? 'admitted' : 'exited',
      ...who,
      ...(input.type === 'entry' ? { admittedAt: at, admittedBy: input.device ?? 'api' } : {}),
    };
    let announced: DomainEvent | undefined;
    const commit = await this.deps.repository.commitScan(
      {
        eventId,
        shards: event.shards,
        nonce: input.nonce,
        type: input.type,
        at,
        device: input.device,
        registration,
        userName: user?.name,
        now,
      },
      admitted,
      (entry) => {
        announced = this.announce('checkin.created', entry, now);
        return announced;
      },
    );
    if (commit.ok) {
      this.deps.metrics.count('CheckinAdmitted');
      if (announced) await this.deps.outbox.announce([announced]);
      return admitted;
    }
    if (commit.reason === 'replay') return commit.answer;
    if (commit.reason === 'revoked') {
      return this.answer(eventId, input.nonce, { result: 'revoked', ...who }, now);
    }
    const { admission } = commit;
    return this.answer(
      eventId,
      input.nonce,
      input.type === 'entry'
        ? {
            result: 'already_admitted',
            ...who,
            admittedAt: admission?.admittedAt,
            admittedBy: admission?.admittedBy,
          }
        : { result: 'not_inside', ...who },
      now,
    );
  }

  /** Takes back a registration's admission (a mistake at the door), with an audit entry. */
  async revert(eventId: string, registrationId: string, device?: string): Promise<CheckinEntry> {
    if (!(await this.deps.events.getEvent(eventId))) throw EventsErrors.eventNotFound(eventId);
    const admission = await this.deps.repository.admission(eventId, registrationId);
    if (!admission?.inside) throw EventsErrors.notCheckedIn(eventId, registrationId);
    const now = this.deps.clock().toISOString();
    let announced: DomainEvent | undefined;
    const entry = await this.deps.repository.revert(eventId, admission, now, device, (e) => {
      announced = this.announce('checkin.reverted', e, now);
      return announced;
    });
    if (!entry) throw EventsErrors.notCheckedIn(eventId, registrationId);
    if (announced) await this.deps.outbox.announce([announced]);
    return entry;
  }

  async checkins(eventId: string, page: PageRequest): Promise<Page<CheckinEntry>> {
    if (!(await this.deps.events.getEvent(eventId))) throw EventsErrors.eventNotFound(eventId);
    return this.deps.repository.listCheckins(eventId, page);
  }

  /** Checked in against confirmed, and arrivals per 5 minutes (one pass over the log). */
  async stats(eventId: string): Promise<CheckinStats> {
    const event = await this.deps.events.getEvent(eventId);
    if (!event) throw EventsErrors.eventNotFound(eventId);
    const inside = new Map<string, boolean>();
    const everAdmitted = new Set<string>();
    const arrivals = new Map<string, number>();
    for await (const page of this.deps.repository.checkinPages(eventId)) {
      for (const entry of page) {
        if (entry.type === 'entry') {
          inside.set(entry.registrationId, true);
          everAdmitted.add(entry.registrationId);
          const bucket = arrivalBucket(entry.at);
          arrivals.set(bucket, (arrivals.get(bucket) ?? 0) + 1);
        } else {
          inside.set(entry.registrationId, false);
          if (entry.type === 'revert') everAdmitted.delete(entry.registrationId);
        }
      }
    }
    return {
      confirmed: event.registeredCount,
      checkedIn: everAdmitted.size,
      inside: [...inside.values()].filter(Boolean).length,
      arrivals: [...arrivals]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([from, count]) => ({ from, count })),
    };
  }

  /** The tickets revoked since `since` (all when undefined), and the cursor for the next ask. */
  async revocations(eventId: string, since: string | undefined) {
    const event = await this.deps.events.getEvent(eventId);
    if (!event) throw EventsErrors.eventNotFound(eventId);
    const cursor = this.cursor();
    const { revoked } = await this.deps.repository.manifestChanges(event, since, false);
    return { revoked, cursor };
  }

  /** The event's tickets and revocations (changed since `since`), and how to verify tickets. */
  async manifest(eventId: string, since: string | undefined): Promise<Manifest> {
    const event = await this.deps.events.getEvent(eventId);
    if (!event) throw EventsErrors.eventNotFound(eventId);
    const cursor = this.cursor();
    const changes = await this.deps.repository.manifestChanges(event, since);
    return {
      event,
      eventTag: eventTag(eventId).toString('base64url'),
      keys: this.deps.keys
        .publicKeys()
        .map(({ version, publicKey }) => ({ version, publicKey: publicKey.toString('base64url') })),
      ...changes,
      cursor,
    };
  }

  /** A delta's cursor: read before the query, CURSOR_LAG_MS behind (see there). */
  private cursor(): string {
    return new Date(this.deps.clock().getTime() - CURSOR_LAG_MS).toISOString();
  }

  /**
   * Indexes the tickets of confirmed registrations the previous release wrote, event by event (a
   * migration: run at start-up and on its schedule until it finds nothing); returns how many.
   */
  async backfillTicketIndex(events: AsyncIterable<Event[]>): Promise<number> {
    let written = 0;
    for await (const page of events) {
      for (const event of page) {
        written += await this.deps.repository.backfillTicketIndex(event);
      }
    }
    return written;
  }

  /** The confirmed registration a scan names, or what it answers without one. */
  private async registrationScanned(
    event: Event,
    input: ScanInput,
  ): Promise<{ registration: Registration } | ScanAnswer> {
    const { eventId } = event;
    if (input.ticket !== undefined) {
      const judged = judgeTicket(input.ticket, eventId, (version, message, signature) =>
        this.deps.keys.verify(version, message, signature),
      );
      if (judged.result !== 'valid') return { result: judged.result };
      const registration = await this.deps.repository.confirmedRegistration(
        event,
        judged.registrationId,
      );
      if (registration) return { registration };
      // Genuinely signed, so once confirmed: unregistered since (or its event recreated).
      return { result: 'revoked', registrationId: judged.registrationId };
    }
    const found = await this.deps.registrations.getRegistration(eventId, input.userId as string);
    if (found?.registration.status !== 'confirmed') {
      return { result: 'unknown', userId: input.userId };
    }
    return { registration: found.registration };
  }

  /** Records an answer that changed nothing against its nonce (a retry answers the same). */
  private async answer(
    eventId: string,
    nonce: string,
    answer: ScanAnswer,
    now: string,
  ): Promise<ScanAnswer> {
    if (answer.result !== 'admitted') this.deps.metrics.count('CheckinRefused');
    return this.deps.repository.recordAnswer(eventId, nonce, answer, now);
  }

  private announce(
    type: 'checkin.created' | 'checkin.reverted',
    entry: CheckinEntry,
    now: string,
  ): DomainEvent {
    return this.deps.outbox.event(
      type,
      // Each log entry is a resource of its own, made once.
      { type: 'checkin', id: `${entry.eventId}:${entry.checkinId}`, sequence: 1 },
      entry,
      now,
    );
  }
}
