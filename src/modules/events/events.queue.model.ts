/*
 * The waiting room of an event with `admission` (docs/decisions/sharded-capacity.md, *Admission
 * control*): its settings mirrored out of the event's partition, the position counters, and each
 * user's place. Nothing here is in an `EVENT#…` partition, so a queue at on-sale rates never
 * competes with the registrations for the event's keys.
 */

/** Position counters: a join takes a number from one at random (8 keys, 8,000 joins a second). */
export const QUEUE_COUNTERS = 8;

/**
 * The event's admission settings as the queue reads them (an `Admission` of events.model.ts),
 * with the event's incarnation.
 */
export interface QueueConfig {
  readonly eventId: string;
  readonly enabled: boolean;
  readonly ratePerSecond: number;
  readonly tokenSeconds: number;
  readonly anchorAt: number;
  readonly anchorAdmitted: number;
  /** When the event was created: a token or place of an earlier event of the same id is void. */
  readonly eventCreatedAt: string;
}

/** A user's place in an event's queue. */
export interface QueueEntry {
  readonly eventId: string;
  readonly userId: string;
  readonly position: number;
  readonly joinedAt: string;
  readonly eventCreatedAt: string;
}

/** What the queue answers a user: their place, when it is admitted, and then a token. */
export interface QueuePlace {
  readonly position: number;
  readonly admitAt: string;
  readonly admissionToken?: string | undefined;
  readonly tokenExpiresAt?: string | undefined;
}
