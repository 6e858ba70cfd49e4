import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { formatCpf, newCpf } from '../enrollments/fixtures.js';
import { screenshot } from '../support/browser.js';
import { expectAccessible, fitsWidth, setUpConsoleHarness, signInWithKey } from './harness.js';

/**
 * The webhooks screens in headless Chromium against the real local runtime: an endpoint created
 * on screen for a receiver on 127.0.0.1, its secret shown once (and gone after a reload), a
 * domain event of the enrollments module delivered, signed with that secret and listed in the
 * delivery log, a replay by id and by window, a rotation, disabling, editing and deleting.
 */

const harness = setUpConsoleHarness();
const { key: KEY, run } = harness;

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

type Answer = {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
};

/** A webhook receiver on 127.0.0.1 that records each request and answers as told. */
async function startReceiver() {
  const received: Received[] = [];
  const receiver = {
    url: '',
    received,
    answer: (): Answer => ({ status: 204, body: '' }),
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString() });
      const { status, body, headers } = receiver.answer();
      response.writeHead(status, { 'content-type': 'text/plain', ...headers });
      response.end(body);
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  afterAll(() => new Promise<void>((done) => server.close(() => done())));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}

/** A request to the API with the key, outside the browser. */
const call = (path: string, init: { method: string; json?: unknown }) =>
  fetch(`${harness.runtime.url}${path}`, {
    method: init.method,
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  });

const nav = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

/** What the tab holds where the secret must never be: the page, both storages, the URL. */
const everythingInTheTab = (page: Page) =>
  page.evaluate(
    'document.documentElement.outerHTML + JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + location.href',
  ) as Promise<string>;

/** The tab's storages and its URL. */
const storedAnywhere = (page: Page) =>
  page.evaluate(
    'JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + location.href',
  ) as Promise<string>;

/** A `datetime-local` value, in this machine's zone (the browser's too). */
const localInput = (date: Date) => {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(
    date.getHours(),
  )}:${pad(date.getMinutes())}`;
};

/** The payload of a received request, verified against `secret` with the unmodified library. */
const verified = (secret: string, received: Received | undefined) =>
  new Webhook(secret).verify(received?.body ?? '', received?.headers as Record<string, string>) as {
    type: string;
  };

describe('web console: webhooks', { timeout: 90_000 }, () => {
  it('creates an endpoint, shows its secret once, and follows a delivery through replay, rotation and disabling', async () => {
    const receiver = await startReceiver();
    // Refused at first, with a retry asked for in an hour: no retry comes during the test.
    receiver.answer = () => ({
      status: 503,
      body: 'receiver not ready',
      headers: { 'retry-after': '3600' },
    });

    const page = await harness.openConsole();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: harness.runtime.url,
    });
    await signInWithKey(page, KEY);
    await nav(page, 'Webhooks');
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No webhook endpoints yet.').waitFor();
    await expectAccessible(page);

    // The form: the URL, one type of the catalogue, a description.
    await page.getByRole('link', { name: 'New endpoint' }).click();
    await page.getByRole('heading', { name: 'New webhook endpoint', level: 1 }).waitFor();
    await page.getByRole('textbox', { name: 'URL' }).fill(receiver.url);
    await page.getByRole('radio', { name: 'Only the types chosen below' }).check();
    await page.getByRole('checkbox', { name: 'enrollment.accepted' }).check();
    await page.getByRole('textbox', { name: 'Description' }).fill(`Receiver ${run}`);
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Create endpoint' }).click();

    // The secret, once: prominent, copyable, with the warning; nowhere but on the page.
    const panel = page.getByRole('region', { name: 'Signing secret: shown only now' });
    await panel.waitFor();
    const secret = await panel.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32,}$/);
    harness.forbidInUrls(secret);
    expect(await panel.textContent()).toContain('You will not see it again');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe(
      'Signing secret: shown only now',
    );
    await panel.getByRole('button', { name: 'Copy secret' }).click();
    await panel.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    // The panel's input holds it; nothing else in the tab does.
    expect((await everythingInTheTab(page)).split(secret.slice(6)).length).toBeLessThanOrEqual(2);
    expect(await storedAnywhere(page)).not.toContain(secret.slice(6));
    expect(page.url()).toBe(`${harness.runtime.url}/console/webhooks/new`);
    await expectAccessible(page);
    await screenshot(page, 'console-webhook-secret');

    const [endpoint] =
      await harness.api<{ id: string; url: string; eventTypes: string[] }[]>('/webhooks');
    expect(endpoint).toMatchObject({ url: receiver.url, eventTypes: ['enrollment.accepted'] });
    const endpointId = endpoint?.id ?? '';

    // After a reload the secret is gone for good.
    await page.reload();
    await page.getByRole('heading', { name: 'New webhook endpoint', level: 1 }).waitFor();
    expect(await everythingInTheTab(page)).not.toContain(secret.slice(6));

    // The list: the endpoint, its type, enabled.
    await nav(page, 'Webhooks');
    const endpoints = page.getByRole('table', { name: 'Webhook endpoints, oldest first' });
    const row = endpoints.getByRole('row').filter({ hasText: receiver.url });
    await row.waitFor();
    expect(await row.textContent()).toContain('enrollment.accepted');
    expect(await row.textContent()).toContain('enabled');
    await row.getByRole('link', { name: receiver.url }).click();
    await page.getByRole('heading', { name: /^Webhook to 127\.0\.0\.1:\d+$/, level: 1 }).waitFor();
    expect(page.url()).toBe(`${harness.runtime.url}/console/webhooks/${endpointId}`);
    await page.getByText('No delivery attempts yet.').waitFor();

    // A domain event (an enrollment accepted) reaches the receiver, signed with the shown secret;
    // the receiver refuses it at first.
    expect(
      (await call('/age-groups', { method: 'POST', json: { min_age: 18, max_age: 60 } })).status,
    ).toBe(201);
    const cpf = formatCpf(newCpf());
    expect(
      (await call('/enrollments', { method: 'POST', json: { name: 'Ana Webhook', age: 30, cpf } }))
        .status,
    ).toBe(202);
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
    expect(verified(secret, receiver.received[0]).type).toBe('enrollment.accepted');
    const eventId = String(receiver.received[0]?.headers['webhook-id']);

    // The delivery log shows the failed attempt: status, excerpt, the next attempt.
    const log = page.getByRole('table', { name: 'Delivery attempts, newest first' });
    const attempts = log.getByRole('row').filter({ hasText: eventId });
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh the delivery log' }).click();
        return attempts.count();
      })
      .toBe(1);
    const failed = attempts.first();
    expect(await failed.locator('td[data-label="Result"]').textContent()).toContain('503');
    expect(await failed.locator('td[data-label="Response"]').textContent()).toContain(
      'receiver not ready',
    );
    const [logged] = await harness.api<{ nextAttemptAt?: string }[]>(
      `/webhooks/${endpointId}/deliveries`,
    );
    expect(Date.parse(logged?.nextAttemptAt ?? '') - Date.now()).toBeGreaterThan(3_000_000);
    expect(await failed.locator('td[data-label="Next attempt"]').textContent()).toBe(
      await page.evaluate(`new Date(${JSON.stringify(logged?.nextAttemptAt)}).toLocaleString()`),
    );
    expect(await failed.locator('td[data-label="Event"]').textContent()).toContain(
      'enrollment.accepted',
    );
    await expectAccessible(page);

    // Replay it by id: a new round, answered 200 this time, listed without a reload.
    receiver.answer = () => ({ status: 200, body: 'thanks' });
    const oneEvent = page.getByRole('form', { name: 'One event' });
    await oneEvent.getByRole('textbox', { name: 'Event id' }).fill(eventId);
    await oneEvent.getByRole('button', { name: 'Replay event' }).click();
    await page.getByRole('status').filter({ hasText: 'Replayed 1 event.' }).waitFor();
    const succeeded = attempts.filter({ has: page.getByText('200', { exact: true }) });
    await succeeded.waitFor({ timeout: 15_000 });
    expect(await succeeded.locator('td[data-label="Response"]').textContent()).toContain('thanks');
    expect(await succeeded.locator('td[data-label="Attempt"]').textContent()).toContain('round 2');
    await oneEvent.getByRole('button', { name: 'Show its delivery' }).click();
    const delivery = page.getByRole('region', { name: `Delivery of ${eventId}` });
    await delivery.getByText('succeeded', { exact: true }).waitFor();
    await screenshot(page, 'console-webhook-endpoint');

    // Rotate: a new secret, shown once; the next delivery is signed with it.
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await panel.waitFor();
    const rotated = await panel.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    harness.forbidInUrls(rotated);
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    expect(await panel.textContent()).toContain('keeps signing for 24 hours');
    await expectAccessible(page);
    await panel.getByRole('button', { name: 'I have stored it' }).click();
    await panel.waitFor({ state: 'detached' });
    expect(await everythingInTheTab(page)).not.toContain(rotated.slice(6));

    // Replay a window (a day either side): the one event of the subscribed type comes again.
    const window = page.getByRole('form', { name: 'A time window' });
    await window.getByLabel('Since').fill(localInput(new Date(Date.now() - 86_400_000)));
    await window.getByLabel('Until').fill(localInput(new Date(Date.now() + 86_400_000)));
    await window.getByRole('button', { name: 'Replay window' }).click();
    await page.getByRole('status').filter({ hasText: 'Replayed 1 event.' }).waitFor();
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(3);
    expect(receiver.received[2]?.headers['webhook-id']).toBe(eventId);
    expect(verified(rotated, receiver.received[2]).type).toBe('enrollment.accepted');

    // Disable: the page says so and why; a replay is refused with the API's problem.
    await page.getByRole('button', { name: 'Disable endpoint' }).click();
    const state = page.getByTestId('endpoint-state');
    await expect.poll(() => state.textContent()).toContain('disabled');
    expect(await state.textContent()).toContain('by its owner');
    await page.getByRole('button', { name: 'Enable endpoint' }).waitFor();
    await oneEvent.getByRole('button', { name: 'Replay event' }).click();
    await expect.poll(() => oneEvent.getByRole('alert').textContent()).toContain('is disabled');
    expect(await harness.api(`/webhooks/${endpointId}`)).toMatchObject({
      enabled: false,
      disabledReason: 'owner',
    });
    await expectAccessible(page);
    await nav(page, 'Webhooks');
    await expect.poll(() => row.textContent()).toContain('disabled');
    expect(await row.textContent()).toContain('by its owner');
  });

  it('edits an endpoint (a refused URL under its field first), then deletes it after a confirm', async () => {
    const created = await call('/webhooks', {
      method: 'POST',
      json: { url: 'http://127.0.0.1:9/first', eventTypes: ['enrollment.processed'] },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const page = await harness.openConsole(`/console/webhooks/${id}`);
    await signInWithKey(page, KEY);
    await page.getByRole('heading', { name: 'Webhook to 127.0.0.1:9', level: 1 }).waitFor();
    // The secret of a created endpoint is never shown again.
    expect(await page.getByRole('region', { name: /Signing secret/ }).count()).toBe(0);

    const edit = page.getByRole('form', { name: 'Edit endpoint' });
    const url = edit.getByRole('textbox', { name: 'URL' });
    expect(await url.inputValue()).toBe('http://127.0.0.1:9/first');
    expect(await edit.getByRole('checkbox', { name: 'enrollment.processed' }).isChecked()).toBe(
      true,
    );
    await url.fill('ftp://127.0.0.1/nope');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => url.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#field-url-error').textContent()).toContain('http(s) URL');
    expect(await page.evaluate('document.activeElement?.id')).toBe('field-url');
    await expectAccessible(page);

    await url.fill('http://127.0.0.1:9/second');
    await edit.getByRole('radio', { name: 'All events, also types added later' }).check();
    await edit.getByRole('textbox', { name: 'Description' }).fill('Everything');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Changes saved.' }).waitFor();
    expect(await page.getByTestId('endpoint-types').textContent()).toBe('All events');
    expect(await harness.api(`/webhooks/${id}`)).toMatchObject({
      url: 'http://127.0.0.1:9/second',
      eventTypes: ['*'],
      description: 'Everything',
    });

    // On a phone: nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsWidth(page)).toBe(true);
    await expectAccessible(page);
    await screenshot(page, 'console-webhook-endpoint-phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    // Delete: a dismissed confirm keeps it; an accepted one deletes it and goes to the list.
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    expect((await call(`/webhooks/${id}`, { method: 'GET' })).status).toBe(200);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    expect((await call(`/webhooks/${id}`, { method: 'GET' })).status).toBe(404);
    expect(
      await page
        .getByRole('table', { name: 'Webhook endpoints, oldest first' })
        .getByRole('row')
        .filter({ hasText: 'http://127.0.0.1:9/second' })
        .count(),
    ).toBe(0);
  });
});
