import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { enrollmentsKeys } from '../../src/modules/enrollments/enrollments.dynamo.js';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { newCpf } from '../enrollments/fixtures.js';
import { screenshot } from '../support/browser.js';
import { expectAccessible, fitsWidth, setUpConsoleHarness, signInWithKey } from './harness.js';

/**
 * The dashboard, the console's home, in headless Chromium against the real local runtime: a seeded
 * run (an event with a waitlist and a promotion, enrollments PROCESSED and one stuck PENDING, SLA
 * errors of two severities on two days, workflow runs of two outcomes); each chart is drawn, and
 * its table shows the numbers the API answers. The chart library is downloaded only with it.
 */

const harness = setUpConsoleHarness();
const { key: KEY, run } = harness;

async function call<T>(path: string, method = 'GET', json?: unknown, bearer?: string): Promise<T> {
  const response = await fetch(`${harness.runtime.url}${path}`, {
    method,
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : { 'x-api-key': KEY }),
      'content-type': 'application/json',
    },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const text = await response.text();
  expect(response.ok, `${method} ${path}: ${response.status} ${text}`).toBe(true);
  return JSON.parse(text) as T;
}

interface EventStats {
  confirmed: number;
  capacity: number;
  waitlisted: number;
  hours: { registered: number; confirmed: number; offered: number; waitlisted: number }[];
}
interface EnrollmentStats {
  counts: Record<'PENDING' | 'PROCESSED' | 'REJECTED', number>;
}
interface SlaErrorStats {
  from: string;
  to: string;
  days: {
    day: string;
    low: number;
    medium: number;
    high: number;
    critical: number;
    total: number;
  }[];
}
interface RunStats {
  byStatus: Record<'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED', number>;
  byBranch: Record<'Inserted' | 'AlreadyExists' | 'Superseded', number>;
}

const day = (offset: number) =>
  new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

async function seed(): Promise<{ eventId: string }> {
  // Two events: the dashboard starts on the one created last.
  const event = (eventId: string, title: string) =>
    call('/events', 'POST', {
      eventId,
      title,
      description: 'Seeded for the dashboard',
      date: day(30),
      location: 'Lisbon',
      capacity: 2,
      organizer: 'Roster',
      hasWaitlist: true,
    });
  await event(`older-${run}`, 'An older event');
  const eventId = `dash-${run}`;
  await event(eventId, 'Dashboard night');
  const users = [1, 2, 3, 4].map((n) => `dash-${run}-${n}`);
  for (const userId of users) await call('/users', 'POST', { userId, name: `Person ${userId}` });
  for (const userId of users) await call(`/events/${eventId}/registrations`, 'POST', { userId });
  // The first leaves: the first waiting is promoted; one still waits.
  await call(`/events/${eventId}/registrations/${users[0]}`, 'DELETE');

  // Enrollments: three processed by the runtime, and one stuck PENDING for 90 minutes (stored as
  // a request whose queue message was lost, and outside the reconciler's index).
  const group = await call<{ id: string }>('/age-groups', 'POST', { min_age: 0, max_age: 120 });
  const accepted: string[] = [];
  for (const age of [20, 30, 40]) {
    const body = { name: `Enrollee ${age}`, age, cpf: newCpf() };
    accepted.push(
      (await call<{ enrollment_id: string }>('/enrollments', 'POST', body)).enrollment_id,
    );
  }
  for (const id of accepted) {
    await expect
      .poll(async () => (await call<{ status: string }>(`/enrollments/${id}`)).status)
      .toBe('PROCESSED');
  }
  const stuck = randomUUID();
  const createdAt = new Date(Date.now() - 90 * 60_000).toISOString();
  const { doc } = createDynamoClients({
    region: 'us-east-1',
    endpoint: harness.runtime.dynamodbEndpoint,
  });
  await doc.send(
    new PutCommand({
      TableName: `c${run}-enrollments`,
      Item: {
        ...enrollmentsKeys.enrollment(stuck),
        type: 'enrollment',
        id: stuck,
        name: 'Stuck Enrollee',
        age: 50,
        cpfMasked: '***.982.247-**',
        status: 'PENDING',
        ageGroupId: group.id,
        createdAt,
        GSI3PK: enrollmentsKeys.byStatus('PENDING'),
        GSI3SK: `${createdAt}#${stuck}`,
        GSI1PK: enrollmentsKeys.byGroup(group.id, 'PENDING'),
        GSI1SK: `${createdAt}#${stuck}`,
      },
    }),
  );

  // SLA errors, filed with a token: yesterday two (high, low), today three (low, low, critical).
  const password = 'Dashboard-Horse-9-Battery';
  await harness.addUser(`reporter-${run}`, password);
  const { access_token: bearer } = await call<{ access_token: string }>('/auth/token', 'POST', {
    username: `reporter-${run}`,
    password,
  });
  harness.forbidInUrls(bearer);
  const filed = [
    [day(-1), 'high'],
    [day(-1), 'low'],
    [day(0), 'low'],
    [day(0), 'low'],
    [day(0), 'critical'],
  ];
  for (const [on, severity] of filed) {
    await call(
      '/sla-errors',
      'POST',
      {
        fileName: `settlement-${run}.csv`,
        slaDeadline: `${on}T00:00:00Z`,
        receivedAt: `${on}T00:30:00Z`,
        errorCode: 'SLA_BREACH',
        message: 'Late',
        severity,
        source: 'dashboard-test',
      },
      bearer,
    );
  }

  // Workflow runs: an id added by PUT (its CustomerCreated run finds it: AlreadyExists) and one
  // submitted for a new id (Inserted).
  await call(`/customers/known-${run}`, 'PUT');
  await call('/workflow/submit', 'POST', { id: `new-${run}` });
  await expect
    .poll(async () => {
      const runs = await call<{ branch: string | null }[]>('/workflow/executions?status=SUCCEEDED');
      return runs.map((r) => r.branch).sort();
    })
    .toEqual(expect.arrayContaining(['AlreadyExists', 'Inserted']));
  return { eventId };
}

/** A chart's table, opened: each row's cells as text, the heading cell first. */
async function tableOf(chart: Locator): Promise<string[][]> {
  const details = chart.locator('details');
  if ((await details.getAttribute('open')) === null) {
    await chart.getByText('Show the numbers').click();
  }
  const rows = chart.locator('tbody tr');
  await rows.first().waitFor();
  const cells: string[][] = [];
  for (const row of await rows.all()) {
    cells.push((await row.locator('th, td').allTextContents()).map((text) => text.trim()));
  }
  return cells;
}

const numbers = (rows: string[][]) => rows.map((row) => row.slice(1).map(Number));

/** A chart, found by its caption, drawn (a canvas in it) and named as an image. */
async function drawnChart(page: Page, name: string | RegExp): Promise<Locator> {
  const chart = page.getByRole('figure', { name });
  await chart.locator('canvas').first().waitFor();
  expect(await chart.getByRole('img').getAttribute('aria-label')).toMatch(/\d/);
  return chart;
}

describe('web console: the dashboard', { timeout: 90_000 }, () => {
  it('shows each chart from a seeded run, with the numbers the API answers', async () => {
    const { eventId } = await seed();

    // Signed in on another screen first: the dashboard's code (and its chart library) is not
    // downloaded until the dashboard is opened.
    const page = await harness.openConsole('/console/events');
    const dashboardCode: string[] = [];
    page.on('request', (request) => {
      if (/\/assets\/Dashboard-[^/]*\.js$/.test(request.url())) dashboardCode.push(request.url());
    });
    await signInWithKey(page, KEY);
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    expect(dashboardCode).toEqual([]);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Dashboard' })
      .click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    expect(dashboardCode).toHaveLength(1);

    // The event created last is the one shown.
    expect(await page.getByRole('combobox', { name: 'Event' }).inputValue()).toBe(eventId);
    const event = await call<EventStats>(`/events/${eventId}/stats`);
    expect(event).toMatchObject({ confirmed: 2, capacity: 2, waitlisted: 1 });
    const seats = await drawnChart(page, 'Seats over time');
    const registrations = await drawnChart(page, 'Registrations per hour');
    const enrollmentsChart = await drawnChart(page, 'Enrollments by status');
    const slaChart = await drawnChart(page, /^SLA errors per day/);
    const runsChart = await drawnChart(page, /^Workflow runs by outcome/);
    await expectAccessible(page);
    await screenshot(page, 'console-dashboard');

    expect(numbers(await tableOf(seats))).toEqual(
      event.hours.map((h) => [h.confirmed, h.offered, h.waitlisted]),
    );
    expect(numbers(await tableOf(registrations))).toEqual(event.hours.map((h) => [h.registered]));
    // Three registrations are stored (the first left): the hours add up to them.
    expect(event.hours.reduce((sum, h) => sum + h.registered, 0)).toBe(3);
    await expect.poll(() => page.locator('.counters').textContent()).toContain('2 of 2');

    const enrollments = await call<EnrollmentStats>('/enrollments/stats');
    expect(enrollments.counts).toEqual({ PENDING: 1, PROCESSED: 3, REJECTED: 0 });
    expect(await tableOf(enrollmentsChart)).toEqual(
      Object.entries(enrollments.counts).map(([status, count]) => [status, String(count)]),
    );
    await page.getByText(/Oldest PENDING: waiting 1 hour 30 minutes/).waitFor();

    const sla = await call<SlaErrorStats>(`/sla-errors/stats?from=${day(-13)}&to=${day(1)}`);
    const slaRows = await tableOf(slaChart);
    expect(slaRows).toEqual(
      sla.days.map((d) =>
        [d.day, d.low, d.medium, d.high, d.critical, d.total].map((cell) => String(cell)),
      ),
    );
    expect(slaRows.slice(-2).map((row) => row.slice(1))).toEqual([
      ['1', '0', '1', '0', '2'],
      ['2', '0', '0', '1', '3'],
    ]);

    const runs = await call<RunStats>(
      `/workflow/executions/stats?from=${day(-13)}T00:00:00Z&to=${day(1)}T00:00:00Z`,
    );
    expect(runs.byBranch.Inserted).toBeGreaterThanOrEqual(1);
    expect(runs.byBranch.AlreadyExists).toBeGreaterThanOrEqual(1);
    expect(await tableOf(runsChart)).toEqual(
      [
        ['Inserted', runs.byBranch.Inserted],
        ['Already exists', runs.byBranch.AlreadyExists],
        ['Superseded', runs.byBranch.Superseded],
        ['Failed', runs.byStatus.FAILED],
        ['Timed out', runs.byStatus.TIMED_OUT],
        ['Aborted', runs.byStatus.ABORTED],
        ['Running', runs.byStatus.RUNNING],
      ].map(([label, count]) => [String(label), String(count)]),
    );

    // Every table open, still accessible; then the other event, and a phone's width.
    await expectAccessible(page);
    await page.getByRole('combobox', { name: 'Event' }).selectOption(`older-${run}`);
    await page.getByText('Nobody has registered for An older event yet.').waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('combobox', { name: 'Event' }).selectOption(eventId);
    await (await drawnChart(page, 'Seats over time')).waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await expectAccessible(page);
    await screenshot(page, 'console-dashboard-phone');
  });
});
