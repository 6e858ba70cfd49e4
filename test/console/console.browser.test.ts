import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.js';
import {
  expectAccessible,
  fitsWidth,
  setUpConsoleHarness,
  signInWithKey,
  storedCredential,
} from './harness.js';

/**
 * The web console in headless Chromium against the real local runtime: what a person at
 * /console sees and does with the events module, and the API-key sign-in. The other modules'
 * screens are in modules.browser.test.ts.
 */

const harness = setUpConsoleHarness();
const { key: KEY, run } = harness;
const openConsole = harness.openConsole;
const signIn = (page: Page, key = KEY) => signInWithKey(page, key);
const api = <T>(path: string) => harness.api<T>(path);

describe('web console', { timeout: 60_000 }, () => {
  it('refuses a wrong API key with the API’s explanation and keeps nothing', async () => {
    const page = await openConsole();

    await signIn(page, 'not-the-key');

    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('The API key is not valid.');
    expect(await alert.textContent()).toContain('Unauthorized');
    expect(await page.getByRole('textbox', { name: 'API key' }).getAttribute('aria-invalid')).toBe(
      'true',
    );
    expect(await storedCredential(page)).toBeNull();
    expect(await page.evaluate('localStorage.length')).toBe(0);
    await expectAccessible(page);
    await screenshot(page, 'console-sign-in-failure');
  });

  it('plays the waitlist flow: capacity 2, three users, one leaves, the third is promoted', async () => {
    const page = await openConsole();
    await signIn(page);
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await expectAccessible(page);

    // Three users, through the users screen.
    const users = [1, 2, 3].map((n) => ({ userId: `user-${run}-${n}`, name: `User ${n}` }));
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Users' })
      .click();
    for (const user of users) {
      await page.getByLabel('User id').fill(user.userId);
      await page.getByLabel('Name').fill(user.name);
      await page.getByRole('button', { name: 'Create user' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `User ${user.userId}` })
        .waitFor();
    }
    await page.getByRole('link', { name: users[2]?.userId }).waitFor();
    await expectAccessible(page);

    // An event with two seats and a waitlist.
    const eventId = `conf-${run}`;
    await page.getByRole('link', { name: 'Events' }).first().click();
    await page.getByRole('link', { name: 'New event' }).click();
    await page.getByLabel('Event id').fill(eventId);
    await page.getByLabel('Title').fill('Waitlist conference');
    await page.getByLabel('Description').fill('Two seats, a waitlist, three people.');
    await page.getByLabel('Date').fill('2026-12-15');
    await page.getByLabel('Capacity').fill('2');
    await page.getByLabel('Location').fill('Lisbon');
    await page.getByLabel('Organizer').fill('Roster');
    expect(await page.getByLabel('Waitlist').isChecked()).toBe(true);
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Create event' }).click();
    await page.getByRole('heading', { name: 'Waitlist conference', level: 1 }).waitFor();
    expect(page.url()).toBe(`${harness.runtime.url}/console/events/${eventId}`);

    // Three registrations, typed and submitted with the keyboard. The lists' refresh after each
    // is held back: the form is ready for the next one as soon as the API has answered.
    const status = page.getByRole('status').filter({ hasText: /registered|waitlist/ });
    const registerButton = page.getByRole('button', { name: 'Register', exact: true });
    const heldRefreshes: Array<() => void> = [];
    const listUrl = (url: URL) => url.pathname === `/events/${eventId}/registrations`;
    await page.route(listUrl, async (route) => {
      if (route.request().method() === 'GET') {
        await new Promise<void>((release) => heldRefreshes.push(release));
      }
      await route.continue().catch(() => {}); // a refresh superseded by the next one is aborted
    });
    for (const user of users) {
      await page.getByLabel('User id').fill(user.userId);
      await page.getByLabel('User id').press('Enter');
      await status.filter({ hasText: user.userId }).waitFor({ timeout: 10_000 });
      await expect.poll(() => registerButton.isEnabled(), { timeout: 2_000 }).toBe(true);
    }
    expect(heldRefreshes.length).toBeGreaterThan(0);
    await page.unroute(listUrl);
    for (const release of heldRefreshes) release();
    expect(await status.textContent()).toBe(`${users[2]?.userId} is on the waitlist, position 1.`);
    const confirmed = page.getByRole('list', { name: 'Confirmed, in join order' });
    const waitlist = page.getByRole('list', { name: 'Waitlist, first in line first' });
    await expect.poll(() => waitlist.getByRole('listitem').count()).toBe(1);
    expect(await confirmed.getByRole('link').allTextContents()).toEqual([
      users[0]?.userId,
      users[1]?.userId,
    ]);

    // The first user leaves: the page says who was promoted and shows the new order.
    await page.getByRole('button', { name: `Unregister ${users[0]?.userId}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Promoted from the waitlist: ${users[2]?.userId}.` })
      .waitFor();
    await expect.poll(() => waitlist.getByRole('listitem').count()).toBe(0);
    expect(await confirmed.getByRole('link').allTextContents()).toEqual([
      users[1]?.userId,
      users[2]?.userId,
    ]);
    expect(await confirmed.getByText('promoted').count()).toBe(1);
    expect(await page.getByTestId('confirmed-count').textContent()).toBe('2');
    expect(await page.getByTestId('waitlist-count').textContent()).toBe('0');
    await expectAccessible(page);
    await screenshot(page, 'console-event-page');
    // The Register button stands level with its input, not with the hint below it.
    const inputBox = await page.getByLabel('User id').boundingBox();
    const buttonBox = await page
      .getByRole('button', { name: 'Register', exact: true })
      .boundingBox();
    expect(Math.abs((buttonBox?.y ?? 0) - (inputBox?.y ?? Number.NaN))).toBeLessThanOrEqual(2);

    // What the API committed is what the page shows.
    const committed = await api<{ userId: string; status: string }[]>(
      `/events/${eventId}/registrations`,
    );
    expect(committed.map(({ userId, status }) => ({ userId, status }))).toEqual([
      { userId: users[1]?.userId, status: 'confirmed' },
      { userId: users[2]?.userId, status: 'confirmed' },
    ]);
    const event = await api<{ registeredCount: number; waitlistCount: number }>(
      `/events/${eventId}`,
    );
    expect([event.registeredCount, event.waitlistCount]).toEqual([2, 0]);

    // The same page on a phone: everything fits the width, nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.getByRole('heading', { name: 'Waitlist conference', level: 1 }).waitFor();
    await confirmed.getByRole('listitem').first().waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await expectAccessible(page);
    await screenshot(page, 'console-event-page-phone');
  });

  it('shows a validation error next to the field the API refused', async () => {
    const page = await openConsole('/console/events/new');
    await signIn(page);
    await page.getByRole('heading', { name: 'New event', level: 1 }).waitFor();

    await page.getByLabel('Title').fill('Nobody can come');
    await page.getByLabel('Description').fill('Capacity zero');
    await page.getByLabel('Date').fill('2026-12-15');
    await page.getByLabel('Capacity').fill('0');
    await page.getByLabel('Location').fill('Nowhere');
    await page.getByLabel('Organizer').fill('Roster');
    await page.getByRole('button', { name: 'Create event' }).click();

    const capacity = page.getByLabel('Capacity');
    await expect.poll(() => capacity.getAttribute('aria-invalid')).toBe('true');
    const error = page.locator('#field-capacity-error');
    expect(await error.textContent()).toMatch(/>=\s*1|at least 1|too small/i);
    expect(await capacity.getAttribute('aria-describedby')).toContain('field-capacity-error');
    // The error sits under its own field, and the refused field has the focus.
    expect(await page.locator('.field', { has: capacity }).locator('.field-error').count()).toBe(1);
    expect(await page.evaluate('document.activeElement?.id')).toBe('field-capacity');
    expect(await page.locator('.field-error').count()).toBe(1);
    expect(await page.getByRole('alert').textContent()).toContain('Unprocessable Content');
    await expectAccessible(page);
    await screenshot(page, 'console-validation-error');

    const events = await api<{ title: string }[]>('/events');
    expect(events.map((event) => event.title)).not.toContain('Nobody can come');
  });

  it('signs out: the key leaves the tab and the console asks to sign in again', async () => {
    const page = await openConsole('/console/users');
    await signIn(page);
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    expect(await storedCredential(page)).toContain(KEY);
    expect(page.url()).not.toContain(KEY);

    await page.getByRole('button', { name: 'Sign out' }).click();

    await page.getByRole('heading', { name: 'Sign in to the Roster console' }).waitFor();
    expect(await storedCredential(page)).toBeNull();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to the Roster console' }).waitFor();
    expect(await page.getByRole('navigation').count()).toBe(0);
    await screenshot(page, 'console-signed-out');
  });
});
