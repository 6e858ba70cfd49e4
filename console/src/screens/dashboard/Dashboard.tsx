import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { hasOperation } from '../../api/client';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading } from '../../components/Status';
import {
  type Bar,
  dayRange,
  enrollmentBars,
  eventTimeline,
  hourLabel,
  newestFirst,
  runOutcomeBars,
  SEVERITIES,
  slaErrorDays,
} from '../../lib/dashboard';
import { durationText, formatTime } from '../../lib/time';
import { Chart, type ChartSeries } from './Chart';
import './dashboard.css';
import { DASHBOARD_OPERATIONS } from './operations';
import {
  type EnrollmentStats,
  type Event,
  type EventStats,
  type ExecutionStats,
  type SlaErrorStats,
  useAllEvents,
  useEnrollmentStats,
  useEventStats,
  useRunStats,
  useSlaErrorStats,
} from './queries';

const PERIODS = [7, 14, 30] as const;
const DEFAULT_PERIOD = 14;

const COLORS = {
  confirmed: '#1d4ed8',
  offered: '#b45309',
  waitlisted: '#7c3aed',
  capacity: '#6b7280',
  registrations: '#0f766e',
  enrollments: '#1d4ed8',
  runs: '#0f766e',
  low: '#60a5fa',
  medium: '#f59e0b',
  high: '#ea580c',
  critical: '#b91c1c',
} as const;

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The console's home: an event's seats and registrations over time, enrollments by status with
 * the oldest still PENDING, SLA errors per day by severity, workflow runs by outcome. Loaded on
 * demand with its chart library (uPlot), so no other screen downloads either.
 */
export default function Dashboard() {
  const [search, setSearch] = useSearchParams();
  const has = (panel: keyof typeof DASHBOARD_OPERATIONS) =>
    hasOperation(DASHBOARD_OPERATIONS[panel]);
  const asked = Number(search.get('days'));
  const days = PERIODS.find((period) => period === asked) ?? DEFAULT_PERIOD;
  const range = useMemo(() => dayRange(new Date(), days), [days]);
  const events = useAllEvents(has('events'));
  const newest = useMemo(() => newestFirst(events.data ?? []), [events.data]);
  const eventId = search.get('event') ?? newest[0]?.eventId;

  const choose = (name: string, value: string) => {
    const next = new URLSearchParams(search);
    next.set(name, value);
    setSearch(next, { replace: true });
  };

  return (
    <Page title="Dashboard">
      <div className="toolbar wrap">
        {has('events') && newest.length > 0 ? (
          <>
            <label htmlFor="dashboard-event">Event</label>
            <select
              id="dashboard-event"
              value={eventId}
              onChange={(change) => choose('event', change.target.value)}
            >
              {newest.map((event) => (
                <option key={event.eventId} value={event.eventId}>
                  {event.title} ({event.eventId})
                </option>
              ))}
            </select>
          </>
        ) : null}
        {has('slaErrors') || has('runs') ? (
          <>
            <label htmlFor="dashboard-period">Period</label>
            <select
              id="dashboard-period"
              value={days}
              onChange={(change) => choose('days', change.target.value)}
            >
              {PERIODS.map((period) => (
                <option key={period} value={period}>
                  Last {period} days
                </option>
              ))}
            </select>
          </>
        ) : null}
      </div>

      {has('events') ? (
        <section aria-labelledby="event-heading" className="dashboard-panel">
          <h2 id="event-heading">Event</h2>
          {events.isPending ? <Loading what="events" /> : null}
          <ProblemMessage error={events.error} />
          {events.isSuccess && newest.length === 0 ? (
            <p>
              No events yet. <Link to="/events/new">Create one</Link>.
            </p>
          ) : null}
          {eventId ? (
            <EventPanel
              eventId={eventId}
              event={newest.find((event) => event.eventId === eventId)}
            />
          ) : null}
        </section>
      ) : null}

      <div className="dashboard-grid">
        {has('enrollments') ? <EnrollmentsPanel /> : null}
        {has('slaErrors') ? <SlaErrorsPanel from={range.from} to={range.to} days={days} /> : null}
        {has('runs') ? (
          <RunsPanel from={range.fromInstant} to={range.toInstant} days={days} />
        ) : null}
      </div>
    </Page>
  );
}

function EventPanel(props: { readonly eventId: string; readonly event: Event | undefined }) {
  const stats = useEventStats(props.eventId);
  const name = props.event?.title ?? props.eventId;
  return (
    <>
      {stats.isPending ? <Loading what="the event’s numbers" /> : null}
      <ProblemMessage error={stats.error} />
      {stats.data ? <EventCharts stats={stats.data} name={name} /> : null}
    </>
  );
}

function EventCharts(props: { readonly stats: EventStats; readonly name: string }) {
  const { stats, name } = props;
  const charts = useMemo(() => {
    const timeline = eventTimeline(stats);
    const labels = stats.hours.map((h) => hourLabel(h.hour));
    const rowsOf = (pick: (i: number) => (string | number)[]) =>
      stats.hours.map((h, i) => ({ key: h.hour, cells: [labels[i] ?? h.hour, ...pick(i)] }));
    const seats: ChartSeries[] = [
      { label: 'Confirmed', color: COLORS.confirmed, values: timeline.confirmed },
      { label: 'Offered', color: COLORS.offered, values: timeline.offered },
      { label: 'Waiting', color: COLORS.waitlisted, values: timeline.waitlisted },
      { label: 'Capacity now', color: COLORS.capacity, values: timeline.capacity, dashed: true },
    ];
    return {
      shape: { kind: 'steps', x: timeline.x, end: Date.parse(stats.to) / 1000 } as const,
      barShape: { kind: 'bars', x: timeline.x, end: Date.parse(stats.to) / 1000 } as const,
      seats,
      seatsTable: {
        columns: ['Hour', 'Confirmed', 'Offered', 'Waiting'],
        rows: rowsOf((i) => [
          timeline.confirmed[i] ?? 0,
          timeline.offered[i] ?? 0,
          timeline.waitlisted[i] ?? 0,
        ]),
      },
      registrations: [
        { label: 'Registrations', color: COLORS.registrations, values: timeline.registered },
      ],
      registrationsTable: {
        columns: ['Hour', 'Registrations'],
        rows: rowsOf((i) => [timeline.registered[i] ?? 0]),
      },
      total: timeline.registered.reduce((sum, n) => sum + n, 0),
    };
  }, [stats]);

  return (
    <>
      <dl className="counters">
        <div>
          <dt>Confirmed</dt>
          <dd>
            {stats.confirmed} of {stats.capacity}
          </dd>
        </div>
        <div>
          <dt>Offered</dt>
          <dd>{stats.offered}</dd>
        </div>
        <div>
          <dt>Waiting</dt>
          <dd>{stats.waitlisted}</dd>
        </div>
      </dl>
      {stats.hours.length === 0 ? (
        <p>Nobody has registered for {name} yet.</p>
      ) : (
        <div className="dashboard-grid">
          <Chart
            title="Seats over time"
            summary={`${name}, per hour from ${formatTime(stats.from)}: now ${stats.confirmed} of ${stats.capacity} seats confirmed, ${stats.offered} offered, ${stats.waitlisted} waiting.`}
            shape={charts.shape}
            series={charts.seats}
            table={charts.seatsTable}
          />
          <Chart
            title="Registrations per hour"
            summary={`${name}: ${charts.total} registrations over ${stats.hours.length} hours.`}
            shape={charts.barShape}
            series={charts.registrations}
            table={charts.registrationsTable}
          />
        </div>
      )}
      <p className="muted small">
        Over time, from the registrations still stored: a cancelled registration is gone from the
        hours before it too. Capacity is today’s.
      </p>
    </>
  );
}

/** A chart of one bar per category, with its table. */
function BarChart(props: {
  readonly title: string;
  readonly summary: string;
  readonly bars: readonly Bar[];
  readonly color: string;
  readonly column: string;
  readonly unit: string;
}) {
  const { bars, color, column, unit } = props;
  const chart = useMemo(
    () => ({
      shape: { kind: 'categories', labels: bars.map((bar) => bar.label) } as const,
      series: [{ label: capitalised(unit), color, values: bars.map((bar) => bar.count) }],
      table: {
        columns: [column, capitalised(unit)],
        rows: bars.map((bar) => ({ key: bar.label, cells: [bar.label, bar.count] })),
      },
    }),
    [bars, color, column, unit],
  );
  return (
    <Chart
      title={props.title}
      summary={props.summary}
      shape={chart.shape}
      series={chart.series}
      table={chart.table}
    />
  );
}

function EnrollmentsPanel() {
  const stats = useEnrollmentStats(true);
  return (
    <section aria-labelledby="enrollments-heading" className="dashboard-panel">
      <h2 id="enrollments-heading">Enrollments</h2>
      {stats.isPending ? <Loading what="enrollments" /> : null}
      <ProblemMessage error={stats.error} />
      {stats.data ? <EnrollmentCharts stats={stats.data} /> : null}
    </section>
  );
}

function EnrollmentCharts(props: { readonly stats: EnrollmentStats }) {
  const { stats } = props;
  const bars = useMemo(() => enrollmentBars(stats), [stats]);
  const oldest = stats.oldest_pending;
  return (
    <>
      <p>
        {oldest ? (
          <>
            <Link to={`/enrollments/${oldest.id}`}>Oldest PENDING</Link>: waiting{' '}
            <strong>{durationText(oldest.age_seconds * 1000)}</strong>, since{' '}
            <span className="nowrap">{formatTime(oldest.created_at)}</span>.
          </>
        ) : (
          'No enrollment is PENDING.'
        )}
      </p>
      <BarChart
        title="Enrollments by status"
        summary={`${stats.total} enrollments: ${bars.map((bar) => `${bar.count} ${bar.label}`).join(', ')}.`}
        bars={bars}
        color={COLORS.enrollments}
        column="Status"
        unit="enrollments"
      />
    </>
  );
}

function SlaErrorsPanel(props: {
  readonly from: string;
  readonly to: string;
  readonly days: number;
}) {
  const stats = useSlaErrorStats(true, props.from, props.to);
  return (
    <section aria-labelledby="sla-heading" className="dashboard-panel">
      <h2 id="sla-heading">SLA errors</h2>
      {stats.isPending ? <Loading what="SLA errors" /> : null}
      <ProblemMessage error={stats.error} />
      {stats.data ? <SlaErrorCharts stats={stats.data} days={props.days} /> : null}
    </section>
  );
}

function SlaErrorCharts(props: { readonly stats: SlaErrorStats; readonly days: number }) {
  const { stats } = props;
  const chart = useMemo(() => {
    const days = slaErrorDays(stats);
    return {
      shape: { kind: 'stacked', labels: days.labels.map((day) => day.slice(5)) } as const,
      series: SEVERITIES.map(
        (severity, i): ChartSeries => ({
          label: capitalised(severity),
          color: COLORS[severity],
          values: days.counts[i] ?? [],
        }),
      ),
      table: {
        columns: ['Day (UTC)', ...SEVERITIES.map(capitalised), 'Total'],
        rows: stats.days.map((day) => ({
          key: day.day,
          cells: [day.day, ...SEVERITIES.map((severity) => day[severity]), day.total],
        })),
      },
    };
  }, [stats]);
  return (
    <Chart
      title={`SLA errors per day, by severity (last ${props.days} days)`}
      summary={`${stats.total} SLA errors from ${stats.from} to ${stats.days.at(-1)?.day ?? stats.to}: ${SEVERITIES.map((severity) => `${stats.totals[severity]} ${severity}`).join(', ')}.`}
      shape={chart.shape}
      series={chart.series}
      table={chart.table}
    />
  );
}

function RunsPanel(props: { readonly from: string; readonly to: string; readonly days: number }) {
  const stats = useRunStats(true, props.from, props.to);
  return (
    <section aria-labelledby="runs-heading" className="dashboard-panel">
      <h2 id="runs-heading">Workflow runs</h2>
      {stats.isPending ? <Loading what="workflow runs" /> : null}
      <ProblemMessage error={stats.error} />
      {stats.data ? <RunCharts stats={stats.data} days={props.days} /> : null}
    </section>
  );
}

function RunCharts(props: { readonly stats: ExecutionStats; readonly days: number }) {
  const { stats } = props;
  const bars = useMemo(() => runOutcomeBars(stats), [stats]);
  return (
    <BarChart
      title={`Workflow runs by outcome (last ${props.days} days)`}
      summary={`${stats.total} runs started: ${bars.map((bar) => `${bar.count} ${bar.label}`).join(', ')}.`}
      bars={bars}
      color={COLORS.runs}
      column="Outcome"
      unit="runs"
    />
  );
}
