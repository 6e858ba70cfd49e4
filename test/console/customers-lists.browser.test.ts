import { describe, expect, it } from 'vitest';
import { expectAccessible, setUpConsoleHarness, signInWithKey } from './harness.js';

/**
 * The customers screen's lists, in headless Chromium against the real local runtime: the
 * registered ids newest first (a deleted one leaves), and every workflow run filtered by a status
 * that the URL keeps.
 */

const harness = setUpConsoleHarness();
const { key: KEY, run } = harness;

interface Listed {
  id: string;
}

describe('web console: the customers and workflow-run lists', { timeout: 60_000 }, () => {
  it('lists registered ids newest first, drops a deleted one, and filters runs by status from the URL', async () => {
    const page = await harness.openConsole('/console/customers');
    await signInWithKey(page, KEY);
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();

    const customerId = page.getByRole('textbox', { name: 'Customer id' });
    const status = page.getByRole('status').filter({ hasText: /\S/ });
    const registered = page.getByRole('table', { name: /Registered customer ids/ });
    const [first, second] = [`l-${run}-1`, `l-${run}-2`];
    for (const id of [first, second]) {
      await customerId.fill(id);
      await expect
        .poll(() => page.getByRole('button', { name: 'Add', exact: true }).isEnabled())
        .toBe(true);
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await status.filter({ hasText: `${id} added.` }).waitFor();
    }

    // Newest first, as the API lists them.
    await registered.getByRole('row').filter({ hasText: second }).waitFor();
    const shown = async () =>
      (await registered.getByRole('row').allTextContents()).slice(1).map((row) => row.trim());
    await expect.poll(async () => (await shown()).length).toBe(2);
    expect((await shown())[0]).toContain(second);
    expect((await shown())[1]).toContain(first);
    expect((await harness.api<Listed[]>('/customers')).map((c) => c.id)).toEqual([second, first]);

    // Deleted: it leaves the list.
    await customerId.fill(first);
    await expect.poll(() => page.getByRole('button', { name: 'Delete' }).isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Delete' }).click();
    await status.filter({ hasText: `${first} deleted.` }).waitFor();
    await expect.poll(async () => (await shown()).length).toBe(1);
    expect((await shown())[0]).toContain(second);

    // Every run, then only the SUCCEEDED ones; the filter is in the URL and survives a reload.
    // The two runs the adds' events started end AlreadyExists.
    await expect
      .poll(
        async () => (await harness.api<Listed[]>('/workflow/executions?status=SUCCEEDED')).length,
      )
      .toBe(2);
    const runs = page.getByRole('table', { name: 'Workflow runs, newest first' });
    await expect.poll(async () => runs.getByRole('row').count()).toBe(3);
    await page.getByLabel('Status', { exact: true }).selectOption('SUCCEEDED');
    await expect.poll(() => page.url()).toContain('status=SUCCEEDED');
    const succeeded = page.getByRole('table', { name: 'SUCCEEDED workflow runs, newest first' });
    await expect.poll(async () => succeeded.getByRole('row').count()).toBe(3);
    expect(await succeeded.getByText('RUNNING').count()).toBe(0);
    await page.reload();
    await page.getByRole('table', { name: 'SUCCEEDED workflow runs, newest first' }).waitFor();
    expect(await page.getByLabel('Status', { exact: true }).inputValue()).toBe('SUCCEEDED');

    await page.getByLabel('Status', { exact: true }).selectOption('FAILED');
    await page.getByText('No FAILED runs.').waitFor();
    await expectAccessible(page);
  });
});
