import {
  type HourlySeries,
  type HourStats,
  MAX_STATS_HOURS,
  type RegistrationTimes,
} from './events.stats.model.js';

/**
 * How an event's counts moved, read back from its registration rows. Each row still stored says
 * when it joined, and — by its status and timestamps — when it moved on: waiting until offered or
 * promoted, holding an offered seat until it was accepted, declined or lapsed. A cancelled
 * registration's row is deleted, so what it did is in no row: the series are those of the
 * registrations still stored (exact for the counts now, an undercount of the past by whoever
 * left since).
 */

const HOUR_MS = 3_600_000;

/** A change of the counts at one instant (deltas). */
export interface CountChange {
  readonly at: string;
  readonly registered: number;
  readonly confirmed: number;
  readonly offered: number;
  readonly waitlisted: number;
}

const change = (at: string, fields: Partial<Omit<CountChange, 'at'>>): CountChange => ({
  at,
  registered: 0,
  confirmed: 0,
  offered: 0,
  waitlisted: 0,
  ...fields,
});

/** The changes one registration row accounts for, in time order. */
export function registrationChanges(row: RegistrationTimes): CountChange[] {
  const joined = (fields: Partial<CountChange>) =>
    change(row.registeredAt, { registered: 1, ...fields });
  // Confirmed at once: no promotion and never offered.
  if (row.status === 'confirmed' && !row.promotedAt) return [joined({ confirmed: 1 })];
  // Everyone else waited first.
  const changes = [joined({ waitlisted: 1 })];
  if (row.offeredAt) changes.push(change(row.offeredAt, { waitlisted: -1, offered: 1 }));
  const left = row.offeredAt ? { offered: -1 } : { waitlisted: -1 };
  if (row.status === 'confirmed' && row.promotedAt) {
    changes.push(change(row.promotedAt, { ...left, confirmed: 1 }));
  }
  // An offer that ended held its seat until declined, or until its deadline (a lapse is recorded
  // at most a couple of minutes after it; the deadline is when the seat stopped being held).
  const ended = row.status === 'declined' ? (row.declinedAt ?? row.offerExpiresAt) : undefined;
  const lapsed = row.status === 'expired' ? row.offerExpiresAt : undefined;
  const end = ended ?? lapsed;
  if (end && row.offeredAt) changes.push(change(end, { offered: -1 }));
  return changes;
}

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
const ceilHour = (ms: number) => Math.ceil(ms / HOUR_MS) * HOUR_MS;
const iso = (ms: number) => new Date(ms).toISOString();

interface Deltas {
  registered: number;
  confirmed: number;
  offered: number;
  waitlisted: number;
}

/**
 * Changes summed per hour as they are read, page by page: memory grows with the hours that saw a
 * change, not with the registrations.
 */
export class HourlyTally {
  private readonly byHour = new Map<number, Deltas>();

  add(changes: readonly CountChange[]): void {
    for (const { at, ...deltas } of changes) {
      const hour = floorHour(Date.parse(at));
      const sum = this.byHour.get(hour) ?? {
        registered: 0,
        confirmed: 0,
        offered: 0,
        waitlisted: 0,
      };
      sum.registered += deltas.registered;
      sum.confirmed += deltas.confirmed;
      sum.offered += deltas.offered;
      sum.waitlisted += deltas.waitlisted;
      this.byHour.set(hour, sum);
    }
  }

  /**
   * Every hour of `[from, to)` (widened to whole hours), each with the registrations made in it
   * and the counts at its end, starting from the counts reached before `from`. Without `from`,
   * from the first change; without `to`, to the hour after the last one; at most MAX_STATS_HOURS:
   * the last ones, or with only `from` given, the first. With no change and no window, no hours,
   * at `anchor`.
   */
  series(
    window: { from?: string | undefined; to?: string | undefined },
    anchor: string,
  ): HourlySeries {
    const hours = [...this.byHour.keys()].sort((a, b) => a - b);
    const first = hours[0];
    const last = hours.at(-1);
    const askedFrom = window.from === undefined ? undefined : floorHour(Date.parse(window.from));
    const askedTo = window.to === undefined ? undefined : ceilHour(Date.parse(window.to));
    if (askedFrom === undefined && askedTo === undefined && first === undefined) {
      const at = iso(floorHour(Date.parse(anchor)));
      return { from: at, to: at, hours: [] };
    }
    let from: number;
    let to: number;
    if (askedFrom !== undefined) {
      from = askedFrom;
      to = askedTo ?? Math.max((last ?? from) + HOUR_MS, from + HOUR_MS);
      if (askedTo === undefined) to = Math.min(to, from + MAX_STATS_HOURS * HOUR_MS);
    } else {
      to = askedTo ?? (last ?? 0) + HOUR_MS;
      from = first !== undefined && first < to ? first : to - HOUR_MS;
    }
    from = Math.max(from, to - MAX_STATS_HOURS * HOUR_MS);

    const totals = { confirmed: 0, offered: 0, waitlisted: 0 };
    const apply = (deltas: Deltas) => {
      totals.confirmed += deltas.confirmed;
      totals.offered += deltas.offered;
      totals.waitlisted += deltas.waitlisted;
    };
    let next = 0;
    for (; next < hours.length && (hours[next] ?? 0) < from; next++) {
      apply(this.byHour.get(hours[next] ?? 0) as Deltas);
    }
    const series: HourStats[] = [];
    for (let hour = from; hour < to; hour += HOUR_MS) {
      const deltas = hours[next] === hour ? this.byHour.get(hour) : undefined;
      if (deltas) {
        apply(deltas);
        next++;
      }
      series.push({ hour: iso(hour), registered: deltas?.registered ?? 0, ...totals });
    }
    return { from: iso(from), to: iso(to), hours: series };
  }
}
