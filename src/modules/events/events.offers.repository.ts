import type { DomainEvent } from '../../platform/outbox/outbox.js';
import type { Event, Registration, ShardedView } from './events.model.js';

/**
 * A registration as the offers port reads it: a sharded event's carries the shard its row is in,
 * which the commits on it write to (never shown to clients: the rules drop it).
 */
export type OfferRow = Registration & { readonly shard?: number | undefined };

/** An offer in the expiry index: what its lapse needs to find it again. */
export interface DueOffer {
  readonly eventId: string;
  readonly userId: string;
  readonly offerId: string;
  readonly offerExpiresAt: string;
}

/** Heads offered seats of a sharded event, with the bookkeeping after them. */
export interface ShardOffers {
  /** The event as read: its shards' free seats, and the offers out the batch is capped by. */
  readonly view: ShardedView;
  readonly heads: readonly Registration[];
  /** The frontier once the heads are offered, and holes it passed. */
  readonly frontier: number;
  readonly passedHoles: readonly number[];
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
      readonly registration: OfferRow | undefined;
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
  /**
   * The same for a sharded event: the heads (the lowest tickets over every shard) offered in
   * their shards, the seats moved there as a promotion moves them, provided the offers out are
   * still those read (`promotion.view`: the waitlist item's count, which caps the batch exactly)
   * and the shards' settings unchanged. False when anything changed.
   */
  makeShardOffers(
    promotion: ShardOffers,
    offered: readonly Registration[],
    announced: readonly DomainEvent[],
  ): Promise<boolean>;
  /** The registration an offer id was made to, as it is now (a consistent read). */
  findOffer(offerId: string): Promise<OfferRow | undefined>;
  /** The user's registration for the event (a sharded event's through its guard), as it is now. */
  registration(eventId: string, userId: string): Promise<OfferRow | undefined>;
  /** Confirms an offered registration, before its deadline (`now` < offerExpiresAt). */
  accept(offered: OfferRow, now: string, announced: DomainEvent): Promise<OfferCommit>;
  /**
   * Ends an offer without a seat: declined before its deadline, or expired at or after it; the
   * seat is free again (the service passes it on).
   */
  end(
    offered: OfferRow,
    outcome: 'declined' | 'expired',
    now: string,
    announced: DomainEvent,
  ): Promise<OfferCommit>;
  /**
   * The event's offers out (offered registrations), as they are now (consistent reads; a sharded
   * event's from every shard).
   */
  offersOut(eventId: string): Promise<OfferRow[]>;
  /**
   * Lapses offers of one event together (`due`, as read, each past its deadline at `now`), their
   * seats free again. `changed` when any of them is no longer as read (read and decide again),
   * `absent` when the event is gone or being deleted.
   */
  lapseAll(
    due: readonly OfferRow[],
    now: string,
    announced: readonly DomainEvent[],
  ): Promise<'lapsed' | 'changed' | 'absent'>;
  /** Offers whose deadline is at or before `before`, page by page (eventually consistent). */
  dueOffers(before: string, pageSize: number): AsyncIterable<DueOffer[]>;
  /** Every offer out, page by page (to set their timers again). */
  pendingOffers(): AsyncIterable<DueOffer[]>;
}
