import { describe, expect, it } from 'vitest';
import { newCpf } from '../enrollments/fixtures.js';
import { expectAccessible, fitsWidth, setUpConsoleHarness, signInWithKey } from './harness.js';

/**
 * The list of enrollments on the enrollments screen, in headless Chromium against the real local
 * runtime: newest first, a second page on demand, filters by age group and status kept in the URL.
 */

const harness = setUpConsoleHarness();

async function post<T>(path: string, json: unknown): Promise<T> {
  const response = await fetch(`${harness.runtime.url}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': harness.key, 'content-type': 'application/json' },
    body: JSON.stringify(json),
  });
  expect(response.status, path).toBeLessThan(300);
  return (await response.json()) as T;
}

describe('web console: the list of enrollments', { timeout: 60_000 }, () => {
  it('lists enrollments newest first, loads more, and filters by age group and status from the URL', async () => {
    const children = await post<{ id: string }>('/age-groups', { min_age: 0, max_age: 17 });
    await post('/age-groups', { min_age: 18, max_age: 60 });
    const child = await post<{ enrollment_id: string }>('/enrollments', {
      name: 'Child Zero',
      age: 10,
      cpf: newCpf(),
    });
    // 51 more: past the first page (50).
    for (let i = 1; i <= 51; i++) {
      await post('/enrollments', { name: `Adult ${i}`, age: 30, cpf: newCpf() });
    }
    await expect
      .poll(
        async () =>
          (await harness.api<{ status: string }>(`/enrollments/${child.enrollment_id}`)).status,
      )
      .toBe('PROCESSED');

    const page = await harness.openConsole('/console/enrollments');
    await signInWithKey(page, harness.key);
    await page.getByRole('heading', { name: 'Enrollments', level: 1 }).waitFor();

    const table = page.getByRole('table', { name: 'Enrollments, newest first' });
    const names = () => table.locator('td[data-label="Name"]').allTextContents();
    await expect.poll(async () => (await names()).length).toBe(50);
    expect((await names())[0]).toBe('Adult 51');
    await page.getByRole('button', { name: 'Load more enrollments' }).click();
    await expect.poll(async () => (await names()).length).toBe(52);
    expect((await names()).at(-1)).toBe('Child Zero');
    expect(await table.locator('td[data-label="CPF"]').first().textContent()).toMatch(
      /^\*\*\*\.\d{3}\.\d{3}-\*\*$/,
    );
    await expectAccessible(page);

    await page.getByRole('combobox', { name: 'Age group' }).selectOption({ label: '0–17' });
    await expect.poll(() => page.url()).toContain(`ageGroupId=${children.id}`);
    const filtered = page.getByRole('table', {
      name: 'Enrollments in age group 0–17, newest first',
    });
    await expect
      .poll(() => filtered.locator('td[data-label="Name"]').allTextContents())
      .toEqual(['Child Zero']);

    await page.getByRole('combobox', { name: 'Status' }).selectOption('REJECTED');
    await page.getByText('No enrollments REJECTED in age group 0–17.').waitFor();
    expect(page.url()).toContain('status=REJECTED');

    // The filters are in the URL: opened again, the page shows the same list.
    const url = page.url().replace('status=REJECTED', 'status=PROCESSED');
    await page.goto(url);
    await page.getByRole('heading', { name: 'Enrollments', level: 1 }).waitFor();
    const both = page.getByRole('table', {
      name: 'Enrollments PROCESSED in age group 0–17, newest first',
    });
    await expect
      .poll(() => both.locator('td[data-label="Name"]').allTextContents())
      .toEqual(['Child Zero']);
    expect(await page.getByRole('combobox', { name: 'Status' }).inputValue()).toBe('PROCESSED');
    await expectAccessible(page);

    // On a phone, filters and list included, nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(page)).toBe(true);
  });
});
