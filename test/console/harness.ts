import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { ensureConsoleBuilt } from '../../console/scripts/console-build.js';
import { modules } from '../../src/modules/index.js';
import { type Config, loadConfig } from '../../src/platform/config.js';
import { type LocalRuntime, startLocalRuntime } from '../../src/runtime/local/server.js';
import { axeViolations, launchChromium, serious } from '../support/browser.js';
import { addLocalUser } from '../support/users.js';

/**
 * What every browser test file of the console shares: the real local runtime (`npm start`'s, in
 * process, on the test DynamoDB Local, every module's tables) and one Chromium for the file; each
 * test opens a fresh context (an empty sessionStorage: signed out). Every page fails its test on
 * a request to another origin, a credential in a URL, an uncaught error or a console error (a CSP
 * refusal is one).
 */
export interface ConsoleHarness {
  readonly key: string;
  /** A short random tag for this file's ids. */
  readonly run: string;
  readonly runtime: LocalRuntime;
  readonly dataDir: string;
  openConsole(path?: string, viewport?: { width: number; height: number }): Promise<Page>;
  /** Adds a local user through the auth service, as `npm run users -- add` does. */
  addUser(username: string, password: string): Promise<{ sub: string }>;
  /** A GET with the API key, outside the browser: what the API committed. */
  api<T>(path: string): Promise<T>;
  /** Something the test knows must never appear in a URL (a token it was given). */
  forbidInUrls(secret: string): void;
  /** Console errors the running test causes on purpose (a network it cuts), allowed until it ends. */
  allowConsoleErrors(pattern: RegExp): void;
}

export function setUpConsoleHarness(): ConsoleHarness {
  const key = `console-key-${randomBytes(8).toString('hex')}`;
  const run = randomBytes(3).toString('hex');
  const tablePrefix = `c${run}`;
  const contexts: BrowserContext[] = [];
  const secrets = [key];
  const offences: string[] = [];
  const allowedErrors: RegExp[] = [];
  let runtime: LocalRuntime | undefined;
  let browser: Browser | undefined;
  let dataDir: string | undefined;
  let config: Config | undefined;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    dataDir = await mkdtemp(join(tmpdir(), 'roster-console-'));
    config = loadConfig(
      {
        PORT: '0',
        DATA_DIR: dataDir,
        API_KEYS: key,
        DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
        TABLE_PREFIX: tablePrefix,
        LOG_LEVEL: 'silent',
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

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    allowedErrors.length = 0;
    expect(offences.splice(0)).toEqual([]);
  });

  const started = () => {
    if (!runtime || !browser || !dataDir || !config) throw new Error('beforeAll has not run');
    return { runtime, browser, dataDir, config };
  };

  return {
    key,
    run,
    get runtime() {
      return started().runtime;
    },
    get dataDir() {
      return started().dataDir;
    },
    forbidInUrls(secret) {
      secrets.push(secret);
    },
    allowConsoleErrors(pattern) {
      allowedErrors.push(pattern);
    },
    async openConsole(path = '/console/', viewport = { width: 1280, height: 900 }) {
      const { runtime, browser } = started();
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      const page = await context.newPage();
      page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith(`${runtime.url}/`)) offences.push(`request off origin: ${url}`);
        for (const secret of secrets) {
          if (url.includes(secret)) offences.push(`a credential in a URL: ${url}`);
        }
      });
      page.on('pageerror', (error) => offences.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        // A refused API call is logged by Chromium as a resource error: tests cause some on purpose.
        const text = message.text();
        if (
          message.type() === 'error' &&
          !/status of (400|401|404|409|422)/.test(text) &&
          !allowedErrors.some((pattern) => pattern.test(text))
        ) {
          offences.push(`console error: ${text}`);
        }
      });
      await page.goto(`${runtime.url}${path}`);
      return page;
    },
    async addUser(username, password) {
      const { dynamodbEndpoint } = started().config;
      if (!dynamodbEndpoint) throw new Error('the runtime has no DYNAMODB_ENDPOINT');
      return addLocalUser(dynamodbEndpoint, username, password, tablePrefix);
    },
    async api<T>(path: string): Promise<T> {
      const response = await fetch(`${started().runtime.url}${path}`, {
        headers: { 'x-api-key': key },
      });
      expect(response.status, path).toBe(200);
      return (await response.json()) as T;
    },
  };
}

/**
 * Signs in with an API key, keyboard only: the heading has the focus; Tab reaches the choice of
 * method (API key is chosen) and then the key field.
 */
export async function signInWithKey(page: Page, key: string): Promise<void> {
  await page.getByRole('heading', { name: 'Sign in to the Roster console' }).waitFor();
  await page.keyboard.press('Tab');
  await expect.poll(() => page.evaluate('document.activeElement?.value')).toBe('api-key');
  await page.keyboard.press('Tab');
  await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('field-apiKey');
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
}

/**
 * Signs in with a username and password, keyboard only: the arrow keys move the choice of method
 * to "Username and password" (unless the page already chose it), Tab reaches each field.
 */
export async function signInWithPassword(
  page: Page,
  username: string,
  password: string,
): Promise<void> {
  await page.getByRole('heading', { name: 'Sign in to the Roster console' }).waitFor();
  await page.keyboard.press('Tab');
  if ((await page.evaluate('document.activeElement?.value')) === 'api-key') {
    await page.keyboard.press('ArrowRight');
  }
  await expect.poll(() => page.evaluate('document.activeElement?.value')).toBe('password');
  await page.keyboard.press('Tab');
  await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('field-username');
  await page.keyboard.type(username);
  await page.keyboard.press('Tab');
  await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('field-password');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
}

export async function expectAccessible(page: Page): Promise<void> {
  expect(serious(await axeViolations(page))).toEqual([]);
}

export const storedCredential = (page: Page) =>
  page.evaluate("sessionStorage.getItem('roster.console.credential')") as Promise<string | null>;

/** Nothing on the page scrolls sideways: it fits a phone's width. */
export const fitsWidth = (page: Page) =>
  page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth');
