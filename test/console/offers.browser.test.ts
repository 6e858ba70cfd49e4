import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.js';
import { expectAccessible, fitsWidth, setUpConsoleHarness, signInWithKey } from './harness.js';

/**
 * Waitlist offers in headless Chromium against the real local runtime: an event that holds a
 * freed seat as an offer; the organiser's event page shows it with its deadline and link; the
 * attendee opens that link in a browser that never signed in and accepts; the next offer is
 * declined from the event page and moves on; the event form sets offers up and shows the API's
 * refusal under its field.
 */

const harness = setUpConsoleHarness();
const { key: KEY, run } = harness;

interface Registration {
  readonly userId: string;
  readonly status: string;
  readonly offerToken?: string;
  readonly offerExpiresAt?: string;
}

interface EventBody {
  readonly promotion: string;
  readonly offerWindowSeconds: number;
  readonly offersCloseBefore: number;
  readonly offerBatch: number;
  readonly registeredCount: number;
  readonly offeredCount: number;
  readonly waitlistCount: number;
}

/** A request to the API with the key, outside the browser; fails the test unless it succeeds. */
async function call(path: string, method: string, json?: unknown): Promise<unknown> {
  const response = await fetch(`${harness.runtime.url}${path}`, {
    method,
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const body: unknown = await response.json();
  expect(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(body)}`).toBe(true);
  return body;
}

/** A date a month from now: offers stay open (they close at the event's date at the latest). */
const nextMonth = () => new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);

const registrationsOf = (eventId: string) =>
  harness.api<Registration[]>(`/events/${eventId}/registrations`);

/** The statuses the API committed, by user. */
const statuses = async (eventId: string) =>
  Object.fromEntries((await registrationsOf(eventId)).map((r) => [r.userId, r.status]));

/** Every request the page sends that carries a credential (the attendee page must send none). */
function credentialedRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request) => {
    const headers = request.headers();
    if (headers['x-api-key'] || headers.authorization) seen.push(request.url());
  });
  return seen;
}

describe('web console: waitlist offers', { timeout: 90_000 }, () => {
  it('offers a freed seat; the attendee accepts through the link; the organiser declines the next offer, which moves on', async () => {
    // Capacity 1, promotion by offer: one confirmed, three waiting; the first leaves.
    const eventId = `offers-${run}`;
    const title = `Offer night ${run}`;
    const person = (n: number) => `offer-${run}-${n}`;
    const [first, second, third, fourth] = [person(1), person(2), person(3), person(4)];
    for (const userId of [first, second, third, fourth]) {
      await call('/users', 'POST', { userId, name: `Person ${userId}` });
    }
    await call('/events', 'POST', {
      eventId,
      title,
      description: 'One seat, held as an offer when it frees up.',
      date: nextMonth(),
      location: 'Porto',
      capacity: 1,
      organizer: 'Roster',
      hasWaitlist: true,
      promotion: 'offer',
      offerWindowSeconds: 3_600,
    });
    for (const userId of [first, second, third, fourth]) {
      await call(`/events/${eventId}/registrations`, 'POST', { userId });
    }
    await call(`/events/${eventId}/registrations/${first}`, 'DELETE');
    expect(await statuses(eventId)).toEqual({
      [second]: 'offered',
      [third]: 'waitlisted',
      [fourth]: 'waitlisted',
    });
    const offer = (await registrationsOf(eventId)).find((r) => r.userId === second);
    const token = offer?.offerToken ?? '';
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The organiser's event page: the offer, its deadline (relative and absolute), the counters.
    const page = await harness.openConsole(`/console/events/${eventId}`);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: harness.runtime.url,
    });
    await signInWithKey(page, KEY);
    await page.getByRole('heading', { name: title, level: 1 }).waitFor();
    const offersOut = page.getByRole('list', { name: 'Offers out, first in line first' });
    await offersOut.getByRole('listitem').first().waitFor();
    expect(await offersOut.getByRole('listitem').count()).toBe(1);
    const row = offersOut.getByRole('listitem').filter({ hasText: second });
    expect(await row.locator('time').getAttribute('datetime')).toBe(offer?.offerExpiresAt);
    expect(await row.locator('time').textContent()).toBe('in 1 hour');
    expect(await row.textContent()).toContain(
      String(new Date(offer?.offerExpiresAt ?? '').getFullYear()),
    );
    expect(await page.getByTestId('offered-count').textContent()).toBe('1');
    expect(await page.getByTestId('confirmed-count').textContent()).toBe('0');
    expect(await page.getByTestId('waitlist-count').textContent()).toBe('2');
    expect(await page.getByText('who has 1 hour to answer').count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'console-event-offers');

    // The attendee's link: copied, and the same as the page's link.
    const link = `${harness.runtime.url}/console/offers/${token}`;
    await page.getByRole('button', { name: `Copy link to ${second}’s offer` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${second}’s offer link is copied.` })
      .waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(link);
    expect(
      await page
        .getByRole('link', { name: `Attendee page of ${second}’s offer` })
        .getAttribute('href'),
    ).toBe(link);

    // The attendee, on a phone, in a browser that never signed in: the event, the deadline
    // counting down, and nothing of the organiser's console.
    const attendee = await harness.openConsole(new URL(link).pathname, { width: 390, height: 844 });
    const credentialed = credentialedRequests(attendee);
    await attendee.getByRole('heading', { name: title, level: 1 }).waitFor();
    expect(await attendee.evaluate('document.activeElement?.textContent')).toBe(title);
    expect(await attendee.getByRole('navigation').count()).toBe(0);
    expect(await attendee.getByRole('heading', { name: /sign in/i }).count()).toBe(0);
    expect(await attendee.getByText('Porto').count()).toBe(1);
    const countdown = attendee.getByRole('timer');
    const shown = await countdown.textContent();
    expect(shown).toMatch(/^(59 minutes \d+ seconds?|1 hour) left$/);
    await expect.poll(() => countdown.textContent(), { timeout: 5_000 }).not.toBe(shown);
    expect(await attendee.locator('time').getAttribute('datetime')).toBe(offer?.offerExpiresAt);
    expect(await fitsWidth(attendee)).toBe(true);
    await expectAccessible(attendee);
    await screenshot(attendee, 'console-offer-attendee-phone');

    // Decline asks first; keeping the offer changes nothing.
    await attendee.getByRole('button', { name: 'Decline' }).click();
    await attendee.getByRole('heading', { name: 'Decline your seat?' }).waitFor();
    expect(await attendee.evaluate('document.activeElement?.textContent')).toBe(
      'Decline your seat?',
    );
    await expectAccessible(attendee);
    await attendee.getByRole('button', { name: 'Keep the offer' }).click();
    expect(await attendee.evaluate('document.activeElement?.textContent')).toBe('Decline');
    expect((await statuses(eventId))[second]).toBe('offered');

    // Accept: the page says so (live region, and the focus on the outcome); the API agrees.
    await attendee.getByRole('button', { name: 'Accept the seat' }).click();
    await attendee
      .getByRole('status')
      .filter({ hasText: `Accepted: your seat at ${title} is confirmed.` })
      .waitFor();
    const accepted = attendee.getByRole('heading', { name: 'You’re in: your seat is confirmed' });
    await accepted.waitFor();
    expect(await attendee.evaluate('document.activeElement?.id')).toBe('outcome-heading');
    expect(await attendee.getByRole('button').count()).toBe(0);
    expect(await statuses(eventId)).toEqual({
      [second]: 'confirmed',
      [third]: 'waitlisted',
      [fourth]: 'waitlisted',
    });
    expect(await fitsWidth(attendee)).toBe(true);
    await expectAccessible(attendee);
    await screenshot(attendee, 'console-offer-accepted-phone');
    // Opened again, the link says it was accepted.
    await attendee.reload();
    await accepted.waitFor();
    expect(credentialed).toEqual([]);
    expect(await attendee.evaluate('sessionStorage.length + localStorage.length')).toBe(0);

    // The seat frees up again: the third is offered it; the organiser declines for them from
    // the event page, and the offer moves on to the fourth.
    await call(`/events/${eventId}/registrations/${second}`, 'DELETE');
    const thirdToken = (await registrationsOf(eventId)).find((r) => r.userId === third)?.offerToken;
    expect(thirdToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await page.reload();
    await offersOut.getByRole('listitem').filter({ hasText: third }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: `Decline ${third}’s offer` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${third}’s offer is declined: the seat passes to the next in line.` })
      .waitFor();
    await offersOut.getByRole('listitem').filter({ hasText: fourth }).waitFor();
    expect(await offersOut.getByRole('listitem').count()).toBe(1);
    const ended = page.getByRole('list', { name: 'Offers that lapsed or were declined' });
    await ended.getByRole('listitem').filter({ hasText: third }).waitFor();
    expect(await ended.getByRole('listitem').filter({ hasText: third }).textContent()).toContain(
      'declined',
    );
    expect(await statuses(eventId)).toEqual({ [third]: 'declined', [fourth]: 'offered' });
    const event = await harness.api<EventBody>(`/events/${eventId}`);
    expect([event.registeredCount, event.offeredCount, event.waitlistCount]).toEqual([0, 1, 0]);
    await expect.poll(() => page.getByTestId('offered-count').textContent()).toBe('1');
    await expectAccessible(page);
    await screenshot(page, 'console-event-offer-declined');
    // The same page on a phone: the offer's row wraps, nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await offersOut.getByRole('listitem').first().waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await screenshot(page, 'console-event-offers-phone');

    // The third's link now says they declined; a link nobody issued leads nowhere.
    const declinedPage = await harness.openConsole(`/console/offers/${thirdToken}`);
    await declinedPage.getByRole('heading', { name: 'You declined this seat' }).waitFor();
    expect(await declinedPage.getByRole('button').count()).toBe(0);
    await expectAccessible(declinedPage);
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const unknown = await harness.openConsole(`/console/offers/${forged}`);
    await unknown
      .getByRole('heading', { name: 'This link does not lead to an offer', level: 1 })
      .waitFor();
    await expectAccessible(unknown);
    await screenshot(unknown, 'console-offer-unknown');
  });

  it('lets an offer lapse: its page says so when the countdown ends, and the seat moves on', async () => {
    // Offers close an hour before the event, which starts an hour and a few seconds from now:
    // an offer made now lapses within seconds, when offers close, and the seat then goes to the
    // next in line at once.
    const eventId = `lapse-${run}`;
    const person = (n: number) => `lapse-${run}-${n}`;
    const [first, second, third] = [person(1), person(2), person(3)];
    for (const userId of [first, second, third]) {
      await call('/users', 'POST', { userId, name: `Person ${userId}` });
    }
    await call('/events', 'POST', {
      eventId,
      title: `Closing soon ${run}`,
      description: 'Offers close in seconds.',
      date: new Date(Date.now() + 3_600_000 + 8_000).toISOString(),
      location: 'Faro',
      capacity: 1,
      organizer: 'Roster',
      hasWaitlist: true,
      promotion: 'offer',
      offersCloseBefore: 1,
    });
    for (const userId of [first, second, third]) {
      await call(`/events/${eventId}/registrations`, 'POST', { userId });
    }
    await call(`/events/${eventId}/registrations/${first}`, 'DELETE');
    const offer = (await registrationsOf(eventId)).find((r) => r.userId === second);
    expect(offer?.status).toBe('offered');

    const attendee = await harness.openConsole(`/console/offers/${offer?.offerToken}`);
    await attendee.getByRole('heading', { name: `Closing soon ${run}`, level: 1 }).waitFor();
    expect(await attendee.getByRole('timer').textContent()).toMatch(/^\d seconds? left$/);
    // The countdown ends on the page itself: the buttons go, the outcome shows.
    await attendee
      .getByRole('heading', { name: 'This offer has lapsed' })
      .waitFor({ timeout: 15_000 });
    expect(await attendee.getByRole('button').count()).toBe(0);
    await expectAccessible(attendee);
    await screenshot(attendee, 'console-offer-lapsed');

    // The API let it lapse and, offers being closed, confirmed the next in line at once.
    await expect
      .poll(() => statuses(eventId), { timeout: 15_000 })
      .toEqual({ [second]: 'expired', [third]: 'confirmed' });
    await attendee.reload();
    await attendee.getByRole('heading', { name: 'This offer has lapsed' }).waitFor();

    const page = await harness.openConsole(`/console/events/${eventId}`);
    await signInWithKey(page, KEY);
    const ended = page.getByRole('list', { name: 'Offers that lapsed or were declined' });
    const row = ended.getByRole('listitem').filter({ hasText: second });
    await row.waitFor();
    expect(await row.textContent()).toContain('lapsed');
    expect(await row.locator('time').first().getAttribute('datetime')).toBe(offer?.offerExpiresAt);
    expect(
      await page.getByRole('list', { name: 'Confirmed, in join order' }).textContent(),
    ).toContain(third);
    expect(await page.getByRole('list', { name: 'Offers out, first in line first' }).count()).toBe(
      1,
    );
    expect(await page.getByText('No seat is held for anyone.').count()).toBe(1);
    await expectAccessible(page);
  });

  it('sets up offers in the event form, shows the API’s bound under its field, and switches back', async () => {
    const page = await harness.openConsole('/console/events/new');
    await signInWithKey(page, KEY);
    await page.getByRole('heading', { name: 'New event', level: 1 }).waitFor();
    const eventId = `offer-form-${run}`;
    await page.getByLabel('Event id').fill(eventId);
    await page.getByLabel('Title').fill('Offers from the form');
    await page.getByLabel('Description').fill('Set up on screen.');
    await page.getByLabel('Date').fill(nextMonth());
    await page.getByLabel('Capacity').fill('10');
    await page.getByLabel('Location').fill('Braga');
    await page.getByLabel('Organizer').fill('Roster');

    // Instant promotion first: the offer settings are not shown.
    const window = page.getByRole('spinbutton', { name: 'Time to answer' });
    expect(await page.getByRole('radio', { name: /at once/ }).isChecked()).toBe(true);
    expect(await window.isVisible()).toBe(false);
    await page.getByRole('radio', { name: 'Hold it as an offer' }).check();
    expect(await window.inputValue()).toBe('1');
    expect(await page.getByLabel('Unit of the time to answer').inputValue()).toBe('days');

    // Half a minute is under the API's minute: refused under the field, which takes the focus.
    await window.fill('0.5');
    await page.getByLabel('Unit of the time to answer').selectOption('minutes');
    await page.getByRole('spinbutton', { name: 'Offers out at once' }).fill('2');
    await page.getByRole('spinbutton', { name: /Offers close/ }).fill('12');
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Create event' }).click();
    await expect.poll(() => window.getAttribute('aria-invalid')).toBe('true');
    const windowError = await page.locator('#field-offerWindowSeconds-error').textContent();
    expect(windowError).toMatch(/>=\s*60/);
    expect(windowError).toContain('30 seconds were sent');
    expect(await page.evaluate('document.activeElement?.id')).toBe('field-offerWindowSeconds');
    expect(await page.locator('.field-error').count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'console-event-form-offer-error');

    await window.fill('2');
    await page.getByLabel('Unit of the time to answer').selectOption('hours');
    await page.getByRole('button', { name: 'Create event' }).click();
    await page.getByRole('heading', { name: 'Offers from the form', level: 1 }).waitFor();
    await page
      .getByText(
        'who has 2 hours to answer (up to 2 offers out at once; in the last 12 hours before the event seats go to the next in line at once)',
      )
      .waitFor();
    expect(await harness.api<EventBody>(`/events/${eventId}`)).toMatchObject({
      promotion: 'offer',
      offerWindowSeconds: 7_200,
      offerBatch: 2,
      offersCloseBefore: 12,
    });

    // Edit: the window shows in hours; back to instant promotion, the settings stay stored.
    await page.getByRole('link', { name: 'Edit event' }).click();
    await page.getByRole('heading', { name: 'Edit Offers from the form', level: 1 }).waitFor();
    expect(await window.inputValue()).toBe('2');
    expect(await page.getByLabel('Unit of the time to answer').inputValue()).toBe('hours');
    await expectAccessible(page);
    await page.getByRole('radio', { name: /at once/ }).check();
    expect(await window.isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('A freed seat goes to the next in line at once.').waitFor();
    expect(await harness.api<EventBody>(`/events/${eventId}`)).toMatchObject({
      promotion: 'instant',
      offerWindowSeconds: 7_200,
    });
  });
});
