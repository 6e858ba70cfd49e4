/**
 * The dashboard's data shaping: what the API's stats answers become as chart columns (uPlot takes
 * one array per series, x first) and as the rows of each chart's table. No chart library here.
 */

/** One bar of a chart by category. */
export interface Bar {
  readonly label: string;
  readonly count: number;
}

interface HourLike {
  readonly hour: string;
  readonly registered: number;
  readonly confirmed: number;
  readonly offered: number;
  readonly waitlisted: number;
}

/** An event's hours as columns: x in Unix seconds (uPlot's time scale), one array per count. */
export function eventTimeline(stats: { capacity: number; hours: readonly HourLike[] }) {
  const column = (pick: (hour: HourLike) => number) => stats.hours.map(pick);
  return {
    x: column((h) => Date.parse(h.hour) / 1000),
    registered: column((h) => h.registered),
    confirmed: column((h) => h.confirmed),
    offered: column((h) => h.offered),
    waitlisted: column((h) => h.waitlisted),
    // The capacity the event has now, for every hour (the API keeps no history of it).
    capacity: column(() => stats.capacity),
  };
}

/**
 * Stacked bars drawn as overlapping ones: each series becomes the sum of itself and the series
 * before it (bottom up), and the tallest is drawn first, so each shows as its own segment.
 */
export function stackedTotals(series: readonly (readonly number[])[]): number[][] {
  const totals: number[][] = [];
  for (const values of series) {
    const below = totals.at(-1);
    totals.push(values.map((value, i) => value + (below?.[i] ?? 0)));
  }
  return totals;
}

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** SLA errors per day: the days as labels, and per severity (low first) a count per day. */
export function slaErrorDays(stats: {
  days: readonly ({ day: string; total: number } & Record<Severity, number>)[];
}) {
  return {
    labels: stats.days.map((day) => day.day),
    severities: SEVERITIES,
    counts: SEVERITIES.map((severity) => stats.days.map((day) => day[severity])),
  };
}

/** Workflow runs by outcome: the successful ones by branch, then the other statuses. */
export function runOutcomeBars(stats: {
  byStatus: Record<'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED', number>;
  byBranch: Record<'Inserted' | 'AlreadyExists' | 'Superseded', number>;
}): Bar[] {
  return [
    { label: 'Inserted', count: stats.byBranch.Inserted },
    { label: 'Already exists', count: stats.byBranch.AlreadyExists },
    { label: 'Superseded', count: stats.byBranch.Superseded },
    { label: 'Failed', count: stats.byStatus.FAILED },
    { label: 'Timed out', count: stats.byStatus.TIMED_OUT },
    { label: 'Aborted', count: stats.byStatus.ABORTED },
    { label: 'Running', count: stats.byStatus.RUNNING },
  ];
}

/** Enrollments by status, in the order a request moves through them. */
export function enrollmentBars(stats: {
  counts: Record<'PENDING' | 'PROCESSED' | 'REJECTED', number>;
}): Bar[] {
  return (['PENDING', 'PROCESSED', 'REJECTED'] as const).map((status) => ({
    label: status,
    count: stats.counts[status],
  }));
}

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The last `days` UTC days up to today, as the SLA-error stats take them (`from`, and `to` the day
 * after the last) and as instants for the workflow's.
 */
export function dayRange(now: Date, days: number) {
  const to = Math.floor(now.getTime() / DAY_MS) * DAY_MS + DAY_MS;
  const from = to - days * DAY_MS;
  return {
    from: dayOf(from),
    to: dayOf(to),
    fromInstant: new Date(from).toISOString(),
    toInstant: new Date(to).toISOString(),
  };
}

/** Events newest first, by creation (a new array: the list as loaded stays as it is). */
export function newestFirst<T extends { readonly createdAt: string }>(events: readonly T[]): T[] {
  return [...events].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** An hour as a table row shows it: the reader's local date and time. */
export function hourLabel(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}
