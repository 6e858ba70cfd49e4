import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { modules } from '../../src/modules/index.js';
import { loadConfig } from '../../src/platform/config.js';
import { type LocalRuntime, startLocalRuntime } from '../../src/runtime/local/server.js';
import { TEST_API_KEY } from '../support/app.js';
import { launchChromium } from '../support/browser.js';

/** The docs page in headless Chromium, under its own Content-Security-Policy, offline. */

describe('/docs in a browser', () => {
  let runtime: LocalRuntime;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'roster-docs-'));
    const config = loadConfig(
      {
        PORT: '0',
        DATA_DIR: dataDir,
        DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
        API_KEYS: TEST_API_KEY,
        LOG_LEVEL: 'silent',
        TABLE_PREFIX: `d${randomBytes(6).toString('hex')}`,
      },
      modules,
    );
    [runtime, browser] = await Promise.all([startLocalRuntime(config, modules), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('renders every operation and runs "Try it out" with no CSP refusal or request elsewhere', async () => {
    const openapi = (await (await fetch(`${runtime.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
      webhooks?: Record<string, Record<string, unknown>>;
    };
    // Swagger UI renders the routes and, in a section of their own, the webhooks.
    const operations = [openapi.paths, openapi.webhooks ?? {}]
      .flatMap((section) => Object.values(section))
      .flatMap((ops) => Object.keys(ops)).length;
    const page = await browser.newPage();
    const offences: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(`${runtime.url}/`))
        offences.push(`off origin: ${request.url()}`);
    });
    page.on('pageerror', (error) => offences.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') offences.push(`console error: ${message.text()}`);
    });
    // Added through DevTools, so the page's own policy stays as served.
    await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) =>
      console.error('CSP refused ' + event.blockedURI + ' (' + event.violatedDirective + ')'))`);

    const res = await page.goto(`${runtime.url}/docs`);
    await page.locator('.opblock').first().waitFor();
    const rendered = await page.locator('.opblock').count();
    const health = page.locator('#operations-system-get_health');
    await health.locator('.opblock-summary').click();
    await health.getByRole('button', { name: 'Try it out' }).click();
    await health.getByRole('button', { name: 'Execute' }).click();
    const status = health.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();

    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(rendered).toBe(operations);
    expect(await status.innerText()).toBe('200');
    expect(offences).toEqual([]);
    await page.close();
  });
});
