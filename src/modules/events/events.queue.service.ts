import { EventsErrors } from './events.errors.js';
import { QUEUE_COUNTERS, type QueueConfig, type QueuePlace } from './events.queue.model.js';
import type { QueueRepository } from './events.queue.repository.js';
import {
  admissionToken,
  admitAt,
  admittedThrough,
  checkAdmissionToken,
  positionOf,
  tokenNotAfter,
} from './events.queue.rules.js';
import type { EventRepository } from './events.repository.js';
import type { UserRepository } from './events.users.repository.js';

export interface QueueServiceDeps {
  readonly queue: QueueRepository;
  /** Read only to tell an unknown event (404) from one without a queue (409). */
  readonly events: Pick<EventRepository, 'getEvent'>;
  readonly users: Pick<UserRepository, 'getUser'>;
  /** The admission token key (answers synchronously: the service is gated on the keys). */
  readonly admissionKey: Buffer;
  readonly clock: () => Date;
  /** Picks a position counter, 0 to QUEUE_COUNTERS − 1 (random). */
  readonly counter?: (() => number) | undefined;
}

/** How long a process trusts the queue settings it read: a PUT takes effect within this. */
export const QUEUE_SETTINGS_TTL_MS = 5000;

/** Settings cached per event at most (a process sees few events at once; past this it starts over). */
const MAX_CACHED = 10_000;

/** A user's place is kept this long after joining (a TTL: the event is long over by then). */
const ENTRY_DAYS = 30;

/**
 * The waiting room (docs/decisions/sharded-capacity.md, *Admission control*): a place for each
 * user, admission at the event's rate, and the token the registration route asks for while the
 * queue is on. It reads the event's queue config (cached a few seconds), the user and their
 * place, and takes numbers from the position counters: never an `EVENT#…` key, but to tell an
 * unknown event from one that has no queue.
 */
export class QueueService {
  private readonly settings = new Map<
    string,
    { readonly at: number; readonly read: Promise<QueueConfig | undefined> }
  >();

  constructor(private readonly deps: QueueServiceDeps) {}

  /** Takes a place in the queue, or answers the one the user holds (`created` false). */
  async join(eventId: string, userId: string): Promise<{ place: QueuePlace; created: boolean }> {
    const config = await this.enabledConfig(eventId);
    const [user, held] = await Promise.all([
      this.deps.users.getUser(userId),
      this.deps.queue.entry(eventId, userId),
    ]);
    if (!user) throw EventsErrors.userNotFound(userId);
    if (held && held.eventCreatedAt === config.eventCreatedAt) {
      return { place: this.answer(config, held.position, userId), created: false };
    }
    const counter = this.deps.counter?.() ?? Math.floor(Math.random() * QUEUE_COUNTERS);
    const n = await this.deps.queue.takeNumber(eventId, counter);
    const now = this.deps.clock();
    const entry = {
      eventId,
      userId,
      position: positionOf(counter, n),
      joinedAt: now.toISOString(),
      eventCreatedAt: config.eventCreatedAt,
    };
    const purgeAt = Math.floor(now.getTime() / 1000) + ENTRY_DAYS * 86_400;
    // A concurrent join of the same user may have put theirs first: that one stands (the number
    // taken here is a position nobody holds, admitted in its turn to no one).
    const stands = await this.deps.queue.putEntry(entry, purgeAt);
    return {
      place: this.answer(config, stands.position, userId),
      created: stands.position === entry.position,
    };
  }

  /** The user's place and, once admitted, a token. */
  async place(eventId: string, userId: string): Promise<QueuePlace> {
    const config = await this.enabledConfig(eventId);
    const held = await this.deps.queue.entry(eventId, userId);
    if (!held || held.eventCreatedAt !== config.eventCreatedAt) {
      throw EventsErrors.notInQueue(eventId, userId);
    }
    return this.answer(config, held.position, userId);
  }

  private answer(config: QueueConfig, position: number, userId: string): QueuePlace {
    const now = this.deps.clock().getTime();
    const place = { position, admitAt: new Date(admitAt(config, position)).toISOString() };
    if (position > admittedThrough(config, now)) return place;
    const notAfter = tokenNotAfter(config, now);
    return {
      ...place,
      admissionToken: admissionToken(this.deps.admissionKey, config, userId, notAfter),
      tokenExpiresAt: new Date(notAfter * 1000).toISOString(),
    };
  }

  /**
   * Refuses a registration the queue has not admitted: while the event's queue is on (as cached),
   * `token` must be a genuine one of this user for this event, not past its notAfter.
   */
  async admit(eventId: string, userId: string, token: string | undefined): Promise<void> {
    const config = await this.cachedConfig(eventId);
    if (!config?.enabled) return;
    const now = this.deps.clock().getTime();
    const check = checkAdmissionToken(this.deps.admissionKey, config, userId, token, now);
    if (check === 'expired') throw EventsErrors.admissionExpired(eventId);
    if (check === 'invalid') throw EventsErrors.admissionRequired(eventId);
  }

  /** The config of an event whose queue is on; 404 for no event, 409 for no queue. */
  private async enabledConfig(eventId: string): Promise<QueueConfig> {
    const config = await this.cachedConfig(eventId);
    if (config?.enabled) return config;
    // Off the queue's path: only an event without a (switched-on) queue gets here.
    if (!(await this.deps.events.getEvent(eventId))) throw EventsErrors.eventNotFound(eventId);
    throw EventsErrors.queueOff(eventId);
  }

  private cachedConfig(eventId: string): Promise<QueueConfig | undefined> {
    const now = this.deps.clock().getTime();
    const cached = this.settings.get(eventId);
    if (cached && now - cached.at < QUEUE_SETTINGS_TTL_MS && now >= cached.at) return cached.read;
    if (this.settings.size >= MAX_CACHED) this.settings.clear();
    const read = this.deps.queue.config(eventId);
    this.settings.set(eventId, { at: now, read });
    // A failed read is not kept: the next request reads again.
    read.catch(() => {
      if (this.settings.get(eventId)?.read === read) this.settings.delete(eventId);
    });
    return read;
  }
}
