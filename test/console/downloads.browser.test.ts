import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newCpf } from '../enrollments/fixtures.js';
import { expectAccessible, setUpConsoleHarness, signInWithKey } from './harness.js';

/**
 * The CSV download button of each console list that has a CSV twin in the API (an event's
 * registrations, the enrollments, the SLA errors), in headless Chromium against the real local
 * runtime: the file saved is the API's CSV for the list as filtered on screen, under its name.
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

/** The API's CSV of `path` (with the key, outside the browser): its text and offered name. */
async function apiCsv(path: string): Promise<{ text: string; filename: string | undefined }> {
  const response = await fetch(`${harness.runtime.url}${path}`, { headers: { 'x-api-key': KEY } });
  expect(response.status, path).toBe(200);
  const filename = response.headers.get('content-disposition')?.match(/filename="([^"]+)"/)?.[1];
  return { text: await response.text(), filename };
}

/** Clicks a download button; the file the browser saved, and the name it was offered under. */
async function download(page: Page, button: string) {
  const [saved] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: button }).click(),
  ]);
  return { text: await readFile(await saved.path(), 'utf8'), filename: saved.suggestedFilename() };
}

const FORMULA = '=HYPERLINK("http://x","y")';

describe('web console: lists as CSV', { timeout: 90_000 }, () => {
  it('downloads an event’s registrations, the enrollments and the SLA errors as the API’s CSV', async () => {
    // An event with a confirmed, a waiting and a formula-named registrant.
    const eventId = `csv-${run}`;
    await call('/events', 'POST', {
      eventId,
      title: 'CSV evening',
      description: 'Seeded for the downloads',
      date: '2030-06-01',
      location: 'Porto',
      capacity: 1,
      organizer: 'Roster',
      hasWaitlist: true,
    });
    for (const [n, name] of [
      [1, 'Ana'],
      [2, FORMULA],
    ] as const) {
      const userId = `csv-${run}-${n}`;
      await call('/users', 'POST', { userId, name });
      await call(`/events/${eventId}/registrations`, 'POST', { userId });
    }
    // Adults in one group, a child in another: the download follows the list's filter.
    await call('/age-groups', 'POST', { min_age: 0, max_age: 17 });
    const group = await call<{ id: string }>('/age-groups', 'POST', { min_age: 18, max_age: 120 });
    for (const age of [10, 20, 30]) {
      await call('/enrollments', 'POST', { name: `Enrollee ${age}`, age, cpf: newCpf() });
    }
    const password = 'Download-Horse-9-Battery';
    await harness.addUser(`filer-${run}`, password);
    const { access_token: bearer } = await call<{ access_token: string }>('/auth/token', 'POST', {
      username: `filer-${run}`,
      password,
    });
    harness.forbidInUrls(bearer);
    const fileName = `downloads-${run}.csv`;
    for (const severity of ['low', 'critical']) {
      await call(
        '/sla-errors',
        'POST',
        {
          fileName,
          slaDeadline: '2030-01-01T00:00:00Z',
          errorCode: 'SLA_BREACH',
          message: 'Late',
          severity,
          source: 'downloads-test',
        },
        bearer,
      );
    }

    const page = await harness.openConsole(`/console/events/${eventId}`);
    await signInWithKey(page, KEY);
    await page.getByRole('heading', { name: 'CSV evening', level: 1 }).waitFor();
    const registrations = await download(page, 'Download registrations (CSV)');
    const expected = await apiCsv(`/events/${eventId}/registrations.csv`);
    expect(registrations).toEqual(expected);
    const rows = parse(registrations.text, { columns: true }) as { userName: string }[];
    expect(rows.map((row) => row.userName)).toEqual(['Ana', `'${FORMULA}`]);
    await expectAccessible(page);

    await page.goto(`${harness.runtime.url}/console/enrollments?ageGroupId=${group.id}`);
    await page.getByRole('heading', { name: 'Enrollments', level: 1 }).waitFor();
    const enrollments = await download(page, 'Download these enrollments (CSV)');
    expect(enrollments).toEqual(await apiCsv(`/enrollments.csv?ageGroupId=${group.id}`));
    expect(parse(enrollments.text, { columns: true })).toHaveLength(2);
    await expectAccessible(page);

    await page.goto(`${harness.runtime.url}/console/sla-errors?fileName=${fileName}`);
    await page.getByRole('heading', { name: 'SLA errors', level: 1 }).waitFor();
    const slaErrors = await download(page, 'Download these records (CSV)');
    expect(slaErrors).toEqual(await apiCsv(`/sla-errors.csv?fileName=${fileName}`));
    expect(
      (parse(slaErrors.text, { columns: true }) as { severity: string }[]).map((r) => r.severity),
    ).toEqual(['critical', 'low']);
    await expectAccessible(page);
  });
});
