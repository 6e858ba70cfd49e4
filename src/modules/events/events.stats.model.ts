/**
 * An event's numbers for the operator's dashboard: the counts now (from the event's counters) and
 * how they got there, hour by hour, reconstructed from the timestamps on its registration rows.
 */

/** What a registration row says about when it changed, all that the series reads of it. */
export interface RegistrationTimes {
  /** Its RegistrationStatus (events.model.ts). */
  readonly status: string;
  readonly registeredAt: string;
  /** When it took a seat after waiting (a promotion, or an accepted offer). */
  readonly promotedAt?: string | undefined;
  readonly offeredAt?: string | undefined;
  readonly offerExpiresAt?: string | undefined;
  readonly declinedAt?: string | undefined;
}

/** One hour of the series: registrations made in it, and the counts at its end. */
export interface HourStats {
  /** The hour's start, ISO 8601 UTC. */
  readonly hour: string;
  readonly registered: number;
  readonly confirmed: number;
  readonly offered: number;
  readonly waitlisted: number;
}

/** The hours `[from, to)`, every one of them, oldest first. */
export interface HourlySeries {
  readonly from: string;
  readonly to: string;
  readonly hours: readonly HourStats[];
}

export interface EventStats extends HourlySeries {
  readonly eventId: string;
  readonly capacity: number;
  /** Now, from the event's counters. */
  readonly confirmed: number;
  readonly offered: number;
  readonly waitlisted: number;
}

/** At most this many hours in one answer (31 days). */
export const MAX_STATS_HOURS = 744;
