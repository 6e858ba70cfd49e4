import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The console project's folder and its build output (what the local runtime serves). */
export const consoleRoot = fileURLToPath(new URL('..', import.meta.url));
export const consoleDist = join(consoleRoot, 'dist');

const sources = ['index.html', 'vite.config.ts', 'public', 'src'];

async function newestMtime(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(path);
  const times = await Promise.all(entries.map((entry) => newestMtime(join(path, entry))));
  return Math.max(info.mtimeMs, ...times);
}

/** True when dist/index.html is newer than every source file of the console. */
export async function consoleIsFresh(): Promise<boolean> {
  const built = await stat(join(consoleDist, 'index.html')).catch(() => undefined);
  if (!built) return false;
  const times = await Promise.all(sources.map((source) => newestMtime(join(consoleRoot, source))));
  return built.mtimeMs >= Math.max(...times);
}

/**
 * API types (from the app's OpenAPI document), then the Vite build into console/dist. Both are
 * imported here, not above, so that a freshness check alone stays quick.
 */
export async function buildConsole(logLevel: 'info' | 'warn' = 'info'): Promise<void> {
  const { generateApiTypes } = await import('./api-types.js');
  await generateApiTypes();
  const { build } = await import('vite');
  // Vite keeps a NODE_ENV it finds set, and Vitest sets it to `test`: a build started by a test
  // harness would ship development React (~70 kB more) and be measured against the budget as
  // such. The console is always built for production.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(consoleRoot, 'vite.config.ts'), logLevel, mode: 'production' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}

/**
 * Builds the console unless its build is newer than its sources; says which it did. A new
 * module's screens change the console's sources, so a pulled module triggers a rebuild (and
 * with it fresh API types).
 */
export async function ensureConsoleBuilt(): Promise<'fresh' | 'built'> {
  if (await consoleIsFresh()) return 'fresh';
  await buildConsole('warn');
  return 'built';
}
