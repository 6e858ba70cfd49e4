import { describe, expect, it } from 'vitest';
import {
  dayRange,
  enrollmentBars,
  eventTimeline,
  newestFirst,
  runOutcomeBars,
  slaErrorDays,
  stackedTotals,
} from '../src/lib/dashboard';

const hour = (hh: string) => `2026-03-01T${hh}:00:00.000Z`;

describe('the dashboard’s data', () => {
  it('turns an event’s hours into chart columns, time in seconds, and a row per hour', () => {
    const timeline = eventTimeline({
      capacity: 2,
      hours: [
        { hour: hour('10'), registered: 1, confirmed: 1, offered: 0, waitlisted: 0 },
        { hour: hour('11'), registered: 2, confirmed: 1, offered: 1, waitlisted: 2 },
      ],
    });

    expect(timeline.x).toEqual([Date.parse(hour('10')) / 1000, Date.parse(hour('11')) / 1000]);
    expect(timeline.confirmed).toEqual([1, 1]);
    expect(timeline.offered).toEqual([0, 1]);
    expect(timeline.waitlisted).toEqual([0, 2]);
    expect(timeline.registered).toEqual([1, 2]);
    expect(timeline.capacity).toEqual([2, 2]);
  });

  it('stacks series bottom up: each total is the sum of its own and those below', () => {
    expect(
      stackedTotals([
        [1, 0, 2],
        [0, 3, 1],
        [2, 0, 0],
      ]),
    ).toEqual([
      [1, 0, 2],
      [1, 3, 3],
      [3, 3, 3],
    ]);
    expect(stackedTotals([])).toEqual([]);
  });

  it('reads SLA error days as one column per severity, low first', () => {
    const days = slaErrorDays({
      days: [
        { day: '2026-05-19', low: 1, medium: 0, high: 2, critical: 0, total: 3 },
        { day: '2026-05-20', low: 0, medium: 1, high: 0, critical: 4, total: 5 },
      ],
    });

    expect(days.labels).toEqual(['2026-05-19', '2026-05-20']);
    expect(days.severities).toEqual(['low', 'medium', 'high', 'critical']);
    expect(days.counts).toEqual([
      [1, 0],
      [0, 1],
      [2, 0],
      [0, 4],
    ]);
  });

  it('lists workflow outcomes as bars: the successful by branch, then the other statuses', () => {
    expect(
      runOutcomeBars({
        byStatus: { RUNNING: 1, SUCCEEDED: 3, FAILED: 2, TIMED_OUT: 0, ABORTED: 0 },
        byBranch: { Inserted: 2, AlreadyExists: 1, Superseded: 0 },
      }),
    ).toEqual([
      { label: 'Inserted', count: 2 },
      { label: 'Already exists', count: 1 },
      { label: 'Superseded', count: 0 },
      { label: 'Failed', count: 2 },
      { label: 'Timed out', count: 0 },
      { label: 'Aborted', count: 0 },
      { label: 'Running', count: 1 },
    ]);
  });

  it('lists enrollments by status in the order they move through', () => {
    expect(enrollmentBars({ counts: { PROCESSED: 4, REJECTED: 1, PENDING: 2 } })).toEqual([
      { label: 'PENDING', count: 2 },
      { label: 'PROCESSED', count: 4 },
      { label: 'REJECTED', count: 1 },
    ]);
  });

  it('gives the last N UTC days up to today as days and as instants', () => {
    const range = dayRange(new Date('2026-05-20T23:30:00+01:00'), 14);

    expect(range).toEqual({
      from: '2026-05-07',
      to: '2026-05-21',
      fromInstant: '2026-05-07T00:00:00.000Z',
      toInstant: '2026-05-21T00:00:00.000Z',
    });
  });

  it('orders events newest first, by when they were created', () => {
    const events = [
      { eventId: 'a', createdAt: '2026-01-01T00:00:00.000Z' },
      { eventId: 'c', createdAt: '2026-03-01T00:00:00.000Z' },
      { eventId: 'b', createdAt: '2026-02-01T00:00:00.000Z' },
    ];

    expect(newestFirst(events).map((event) => event.eventId)).toEqual(['c', 'b', 'a']);
    expect(events.map((event) => event.eventId)).toEqual(['a', 'c', 'b']);
  });
});
