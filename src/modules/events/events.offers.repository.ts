import type { DomainEvent } from '../../platform/outbox/outbox.js';
import type { Event, Registration } from './events.model.js';

/** An offer in the expiry index: what its lapse needs to find it again. */
export interface DueOffer {
  readonly eventId: string;
  readonly userId: string;
  readonly offerId: string;
  readonly offerExpiresAt: string;
}

/**
 * What a commit on an offer found when its conditions failed: the registration row as it is now
 * (undefined: gone), and the event when its own condition failed (`absent`: gone or being deleted;
 * `unchanged`: its condition held).
 */
export type OfferCommit =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly registration: Registration | undefined;
      readonly event: Event | 'absent' | 'unchanged';
    };

/**
 * The offers port: commits that move an offer's registration row and its event's counters
 * together, under the conditions that keep `registered + held ≤ capacity` and the deadline exact.
 */
export interface OfferRepository {
  /**
   * Offers free seats to `heads` (the first waiting registrations, as read) — `offered` is each
   * head once offered — provided the event's counters, capacity and settings are still those of
   * `current` and it takes registrations. False when anything changed (read and decide again).
   */
  makeOffers(
    current: Event,
    heads: readonly Registration[],
    offered: readonly Registration[],
    announced: readonly DomainEvent[],
  ): Promise<boolean>;
  /** The registration an offer id was made to, as it is now (a consistent read). */
  findOffer(offerId: string): Promise<Registration | undefined>;
  registration(eventId: string, userId: string): Promise<Registration | undefined>;
  /** Confirms an offered registration, before its deadline (`now` < offerExpiresAt). */
  accept(offered: Registration, now: string, announced: DomainEvent): Promise<OfferCommit>;
  /**
   * Ends an offer without a seat: declined before its deadline, or expired at or after it; the
   * seat is free again (the service passes it on).
   */
  end(
    offered: Registration,
    outcome: 'declined' | 'expired',
    now: string,
    announced: DomainEvent,
  ): Promise<OfferCommit>;
  /** The event's offers out (offered registrations), as they are now (a consistent read). */
  offersOut(eventId: string): Promise<Registration[]>;
  /**
   * Lapses offers of one event together (`due`, as read, each past its deadline at `now`), their
   * seats free again. `changed` when any of them is no longer as read (read and decide again),
   * `absent` when the event is gone or being deleted.
   */
  lapseAll(
    due: readonly Registration[],
    now: string,
    announced: readonly DomainEvent[],
  ): Promise<'lapsed' | 'changed' | 'absent'>;
  /** Offers whose deadline is at or before `before`, page by page (eventually consistent). */
  dueOffers(before: string, pageSize: number): AsyncIterable<DueOffer[]>;
  /** Every offer out, page by page (to set their timers again). */
  pendingOffers(): AsyncIterable<DueOffer[]>;
}
