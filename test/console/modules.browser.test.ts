import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { SIGNING_KEY_FILE } from '../../src/runtime/local/token-issuer.js';
import { accessClaims, forge } from '../auth/fixtures.js';
import { formatCpf, newCpf } from '../enrollments/fixtures.js';
import { screenshot } from '../support/browser.js';
import {
  expectAccessible,
  fitsWidth,
  setUpConsoleHarness,
  signInWithKey,
  signInWithPassword,
  storedCredential,
} from './harness.js';

/**
 * The enrollments, customers and SLA-errors screens and the username/password sign-in, in
 * headless Chromium against the real local runtime: the customers flow, an enrollment reaching
 * PROCESSED on screen, an SLA error filed with a token, and a token's end.
 */

const harness = setUpConsoleHarness();
const { key: KEY, run } = harness;

const nav = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

interface Execution {
  executionId: string;
  status: string;
  branch: string | null;
}

describe('web console: enrollments, customers, SLA errors, token sign-in', {
  timeout: 60_000,
}, () => {
  it('plays the customers flow: an added id is run through AlreadyExists, a submitted new id is Inserted', async () => {
    const page = await harness.openConsole('/console/customers');
    await signInWithKey(page, KEY);
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    await expectAccessible(page);

    const customerId = page.getByRole('textbox', { name: 'Customer id' });
    const status = page.getByRole('status').filter({ hasText: /\S/ });
    const runs = page.getByRole('table', { name: /Workflow runs of/ });

    // Add an id: the PUT stores it, its CustomerCreated event starts a run, which finds it there.
    const added = `c-${run}-added`;
    await customerId.fill(added);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await status.filter({ hasText: `${added} added.` }).waitFor();
    const addedRun = runs.getByRole('row').filter({ hasText: 'AlreadyExists' });
    await addedRun.waitFor();
    expect(await addedRun.getByText('SUCCEEDED').count()).toBe(1);
    expect(page.url()).toBe(`${harness.runtime.url}/console/customers?id=${added}`);

    // Adding it again changes nothing; checking says it is there.
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await status.filter({ hasText: `${added} was already registered` }).waitFor();
    // The form's first button, Check, once the form takes input again (it is disabled until the
    // lists have refreshed after the previous action; Enter then submits nothing).
    await expect.poll(() => page.getByRole('button', { name: 'Check' }).isEnabled()).toBe(true);
    await customerId.press('Enter');
    await status.filter({ hasText: `${added} is registered.` }).waitFor();

    // Start the workflow for a new id: it inserts it.
    const fresh = `c-${run}-fresh`;
    await customerId.fill(fresh);
    await page.getByRole('button', { name: 'Start workflow' }).click();
    await status.filter({ hasText: `Workflow started for ${fresh}` }).waitFor();
    await page.getByRole('heading', { name: `Workflow runs of ${fresh}` }).waitFor();
    const insertedRun = runs.getByRole('row').filter({ hasText: 'Inserted' });
    await insertedRun.waitFor();
    expect(await insertedRun.getByText('SUCCEEDED').count()).toBe(1);
    expect(await runs.getByRole('row').count()).toBe(2); // the header and the one run
    await expectAccessible(page);
    await screenshot(page, 'console-customers');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(page)).toBe(true);
    await screenshot(page, 'console-customers-phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    // What the page showed is what the API recorded.
    const [inserted] = await harness.api<Execution[]>(`/workflow/executions?id=${fresh}`);
    expect(inserted).toMatchObject({ status: 'SUCCEEDED', branch: 'Inserted' });
    expect(await insertedRun.textContent()).toContain(inserted?.executionId);
    const [already] = await harness.api<Execution[]>(`/workflow/executions?id=${added}`);
    expect(already).toMatchObject({ status: 'SUCCEEDED', branch: 'AlreadyExists' });

    // The workflow stored the new id; delete it, and it is gone.
    await page.getByRole('button', { name: 'Check' }).click();
    await status.filter({ hasText: `${fresh} is registered.` }).waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    await status.filter({ hasText: `${fresh} deleted.` }).waitFor();
    await page.getByRole('button', { name: 'Check' }).click();
    await status.filter({ hasText: `${fresh} is not registered.` }).waitFor();
    expect(await harness.api(`/customers/${fresh}`)).toEqual({ id: fresh, exists: false });

    // Deleting it again: the API's 404 problem, on the page.
    await page.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('does not exist');
  });

  it('takes age groups in order and shows an enrollment reach PROCESSED, the CPF masked', async () => {
    const page = await harness.openConsole();
    await signInWithKey(page, KEY);
    await nav(page, 'Age groups');
    await page.getByRole('heading', { name: 'Age groups', level: 1 }).waitFor();

    const from = page.getByRole('spinbutton', { name: 'From age' });
    const to = page.getByRole('spinbutton', { name: 'To age' });
    const create = page.getByRole('button', { name: 'Create age group' });
    const status = page.getByRole('status').filter({ hasText: /\S/ });
    for (const [min, max] of [
      [40, 60],
      [18, 25],
    ] as const) {
      await from.fill(String(min));
      await to.fill(String(max));
      await create.click();
      await status.filter({ hasText: `Age group ${min}–${max} created.` }).waitFor();
    }
    const table = page.getByRole('table', { name: 'Age groups, youngest first' });
    await expect
      .poll(() => table.locator('td[data-label="Ages"]').allTextContents())
      .toEqual(['18–25', '40–60']);

    // A range the API refuses: the message sits under the field it names.
    await from.fill('30');
    await to.fill('20');
    await create.click();
    await expect.poll(() => to.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#field-max_age-error').textContent()).toContain(
      'must not be below min_age',
    );
    // An overlap: the API's 409 problem, title and detail.
    await from.fill('20');
    await to.fill('30');
    await create.click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('overlap');
    await expectAccessible(page);

    // Deleting one leaves the other.
    await page.getByRole('button', { name: 'Delete age group 40–60' }).click();
    await status.filter({ hasText: 'Age group 40–60 deleted.' }).waitFor();
    await expect
      .poll(() => table.locator('td[data-label="Ages"]').allTextContents())
      .toEqual(['18–25']);

    // An enrollment for 22: accepted, then PROCESSED, on the same page without a reload.
    await nav(page, 'Enrollments');
    await page.getByRole('heading', { name: 'Enrollments', level: 1 }).waitFor();
    await page.evaluate('window.stillTheSamePage = true');
    const digits = newCpf();
    const cpf = { digits, formatted: formatCpf(digits) };
    await page.getByLabel('Name').fill('Maria Silva');
    await page.getByRole('spinbutton', { name: 'Age' }).fill('22');
    await page.getByRole('textbox', { name: 'CPF' }).fill(cpf.formatted);
    await page.getByRole('button', { name: 'Submit enrollment' }).click();
    await status.filter({ hasText: /Enrollment \S+ accepted \(PENDING\)/ }).waitFor();
    const row = page
      .getByRole('table', { name: 'Enrollments submitted in this tab, newest first' })
      .getByRole('row')
      .filter({ hasText: 'Maria Silva' });
    await row.getByText('PROCESSED', { exact: true }).waitFor();
    expect(await page.evaluate('window.stillTheSamePage')).toBe(true);

    // The CPF: gone from the form, masked wherever it shows, kept nowhere in the tab.
    const masked = `***.${cpf.digits.slice(3, 6)}.${cpf.digits.slice(6, 9)}-**`;
    expect(await row.textContent()).toContain(masked);
    expect(await page.getByRole('textbox', { name: 'CPF' }).inputValue()).toBe('');
    const everything = (await page.evaluate(
      'document.documentElement.outerHTML + JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage })',
    )) as string;
    expect(everything).not.toContain(cpf.formatted);
    expect(everything.replace(/\D/g, ' ')).not.toMatch(new RegExp(`\\b${cpf.digits}\\b`));
    await expectAccessible(page);
    await screenshot(page, 'console-enrollments');

    // Its own page: PROCESSED, masked, and what the API holds.
    await row.getByRole('link', { name: 'Maria Silva' }).click();
    await page.getByRole('heading', { name: 'Enrollment of Maria Silva', level: 1 }).waitFor();
    expect(await page.getByTestId('enrollment-status').textContent()).toContain('PROCESSED');
    const enrollmentId = decodeURIComponent(page.url().split('/').pop() ?? '');
    const committed = await harness.api<{ status: string; cpf: string; age: number }>(
      `/enrollments/${enrollmentId}`,
    );
    expect(committed).toMatchObject({ status: 'PROCESSED', cpf: masked, age: 22 });
    expect(await page.locator('main').textContent()).toContain(masked);
    await expectAccessible(page);

    // On a phone: nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goBack();
    await page.getByRole('heading', { name: 'Enrollments', level: 1 }).waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await screenshot(page, 'console-enrollments-phone');
  });

  it('files an SLA error with a token after a wrong password; an expired token signs out', async () => {
    const username = `reporter-${run}`;
    const password = 'Correct-Horse-9-Battery';
    const { sub } = await harness.addUser(username, password);

    // With an API key the list works, and filing explains itself and leads to signing in.
    const page = await harness.openConsole('/console/sla-errors');
    await signInWithKey(page, KEY);
    await page.getByRole('heading', { name: 'SLA errors', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'File an SLA error' }).click();
    await page.getByRole('heading', { name: 'Filing needs a signed-in user' }).waitFor();
    expect(await page.getByRole('button', { name: 'File SLA error' }).count()).toBe(0);
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Sign in with a username and password' }).click();
    await page.getByRole('heading', { name: 'Sign in to the Roster console' }).waitFor();
    expect(await page.getByRole('radio', { name: 'Username and password' }).isChecked()).toBe(true);
    expect(await storedCredential(page)).toBeNull();

    // A wrong password: the API's answer, both fields marked, nothing kept.
    await signInWithPassword(page, username, 'Wrong-Horse-9-Battery');
    const alert = page.getByRole('alert');
    await expect
      .poll(() => alert.textContent())
      .toContain('The username or the password is wrong.');
    expect(await page.getByRole('textbox', { name: 'Password' }).getAttribute('aria-invalid')).toBe(
      'true',
    );
    expect(await storedCredential(page)).toBeNull();
    await expectAccessible(page);
    await screenshot(page, 'console-password-sign-in-failure');

    // The right one: a bearer token for this tab, and the form it was asked for.
    await page.getByRole('textbox', { name: 'Password' }).fill(password);
    await page.getByRole('textbox', { name: 'Password' }).press('Enter');
    await page.getByRole('heading', { name: 'File an SLA error', level: 1 }).waitFor();
    const stored = JSON.parse((await storedCredential(page)) ?? '{}') as { token?: string };
    expect(stored).toMatchObject({ kind: 'token', username });
    harness.forbidInUrls(stored.token ?? 'no token was stored');
    expect(await page.getByRole('banner').textContent()).toContain(username);

    // A field the API refuses (a 400 here: docs/spec.md#sla-errors) shows under that field.
    const fileName = `settlement-${run}.csv`;
    await page.getByLabel('File name').fill(fileName);
    await page.getByLabel('SLA deadline').fill('2026-11-21T10:00');
    await page.getByLabel('Received at').fill('2026-11-21T10:42');
    await page.getByLabel('Error code').fill('SLA BREACH!');
    await page.getByLabel('Severity').selectOption('high');
    await page.getByLabel('Message').fill('File arrived 42 minutes late');
    await page.getByLabel('Source').fill('sftp-ingest');
    await page.getByRole('button', { name: 'File SLA error' }).click();
    const errorCode = page.getByLabel('Error code');
    await expect.poll(() => errorCode.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#field-errorCode-error').textContent()).toContain('A-Z a-z 0-9');
    expect(await page.evaluate('document.activeElement?.id')).toBe('field-errorCode');

    await errorCode.fill('SLA_BREACH');
    await page.getByRole('button', { name: 'File SLA error' }).click();
    const filed = page.getByRole('status').filter({ hasText: 'Filed as' });
    await filed.waitFor();
    const id = /Filed as (\S+)\./.exec((await filed.textContent()) ?? '')?.[1] ?? '';
    await expectAccessible(page);
    await screenshot(page, 'console-sla-error-filed');

    // The API stored it as this user's.
    const record = await harness.api<Record<string, string>>(`/sla-errors/${id}`);
    expect(record).toMatchObject({
      fileName,
      errorCode: 'SLA_BREACH',
      severity: 'high',
      submittedBy: sub,
      receivedAt: new Date(2026, 10, 21, 10, 42).toISOString(),
    });

    // The list, by file and by time range.
    await filed.getByRole('link', { name: `See the records of ${fileName}` }).click();
    await page.getByRole('heading', { name: 'SLA errors', level: 1 }).waitFor();
    const rows = page
      .getByRole('table', { name: 'SLA error records, newest first' })
      .getByRole('row');
    await rows.filter({ hasText: 'File arrived 42 minutes late' }).waitFor();
    expect(await rows.count()).toBe(2);
    await page.getByLabel('Received from').fill('2026-11-21T10:43');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('No SLA errors match.').waitFor();
    await page.getByLabel('Received from').fill('2026-11-21T10:00');
    await page.getByLabel('Received before').fill('2026-11-21T11:00');
    await page.getByRole('button', { name: 'Show' }).click();
    await rows.filter({ hasText: 'File arrived 42 minutes late' }).waitFor();
    expect(new URL(page.url()).searchParams.get('from')).toBe(
      new Date(2026, 10, 21, 10, 0).toISOString(),
    );
    await expectAccessible(page);
    await screenshot(page, 'console-sla-errors');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(page)).toBe(true);
    await screenshot(page, 'console-sla-errors-phone');

    // Sign-out: the token leaves the tab.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to the Roster console' }).waitFor();
    expect(await storedCredential(page)).toBeNull();

    // A token the API says has expired (signed by the local issuer, an hour past its exp) ends
    // the session at the first request, with a message and the password sign-in offered.
    const jwks = await (await fetch(`${harness.runtime.url}/.well-known/jwks.json`)).json();
    const privateKey = createPrivateKey(
      await readFile(join(harness.dataDir, SIGNING_KEY_FILE), 'utf8'),
    );
    const expired = await forge(
      privateKey,
      accessClaims(sub, Math.floor(Date.now() / 1000) - 7200),
      {
        alg: 'RS256',
        kid: (jwks as { keys: { kid: string }[] }).keys[0]?.kid,
      },
    );
    harness.forbidInUrls(expired);
    const credential = {
      kind: 'token',
      token: expired,
      username,
      expiresAt: Date.now() + 3_600_000,
    };
    await page.evaluate(
      `sessionStorage.setItem('roster.console.credential', ${JSON.stringify(JSON.stringify(credential))})`,
    );
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to the Roster console' }).waitFor();
    await page.getByText('Your sign-in has expired. Sign in again to continue.').waitFor();
    expect(await page.getByRole('radio', { name: 'Username and password' }).isChecked()).toBe(true);
    expect(await storedCredential(page)).toBeNull();
    await expectAccessible(page);
    await screenshot(page, 'console-token-expired');
  });
});
