import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { repoRoot } from './process.js';

/**
 * The browser the browser tests drive headless through playwright-core, which downloads no
 * browser of its own: CHROMIUM_PATH if set, else the first of these that exists. Debian's
 * package comes first (`apt-get install chromium`; .ci/run installs it); Google Chrome is found
 * where its installers put it on Linux and macOS.
 */
const BROWSER_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** The browser's executable; throws, saying how to get one, when there is none. */
export function chromiumPath(): string {
  const chosen = process.env.CHROMIUM_PATH;
  const found = chosen ? [chosen].find(existsSync) : BROWSER_PATHS.find(existsSync);
  if (found !== undefined) return found;
  // Failing rather than skipping: a run without its browser tests must not pass as a full run.
  throw new Error(
    `no Chromium or Chrome for the browser tests: ${
      chosen ? `CHROMIUM_PATH=${chosen} does not exist` : `none of ${BROWSER_PATHS.join(', ')}`
    }. Install one (Debian/Ubuntu: \`sudo apt-get install -y chromium\`; macOS: Google Chrome) ` +
      'or set CHROMIUM_PATH to its executable.',
  );
}

/**
 * The flags keep the browser off the network: this machine has none beyond loopback and the
 * package registries.
 */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_FLAGS });
}

/** Where browser tests leave their screenshots (git-ignored). */
export const SCREENSHOT_DIR = join(repoRoot, 'test-output', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: readonly string[];
}

const axeSource = (() => {
  let source: Promise<string> | undefined;
  return async () => {
    const { readFile } = await import('node:fs/promises');
    source ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    return source;
  };
})();

/**
 * axe-core's WCAG 2.x A/AA and best-practice rules on the page as it is now. The script is
 * evaluated through DevTools, so the page's own strict CSP stays on.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(await axeSource());
  return page.evaluate(`axe
    .run(document, {
      runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
      resultTypes: ['violations'],
    })
    .then((result) =>
      result.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        targets: violation.nodes.map((node) => node.target.join(' ')),
      })),
    )`);
}

/** The violations a release may not have. */
export const serious = (violations: readonly AxeViolation[]) =>
  violations.filter(
    (violation) => violation.impact === 'serious' || violation.impact === 'critical',
  );
