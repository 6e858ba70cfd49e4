import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { repoRoot } from './process.js';

/**
 * Headless Chromium from Debian's package (`apt-get install chromium`; .ci/run installs it),
 * driven by playwright-core, which downloads no browser of its own. The flags keep Chromium off
 * the network: this machine has none beyond loopback and the package registries.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

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

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
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
