import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { Context, Hono } from 'hono';
import { AppError } from '../errors.js';
import { entityTag } from './conditional.js';
import type { AppEnv } from './context.js';
import type { PublicRoute } from './public-routes.js';

/**
 * A folder of built files (a single-page app) served under a path prefix, without an API key:
 * the browser loads the page before anyone has signed in. Files under `immutableDir` carry a
 * content hash in their names (a bundler's output), so they are cached for a year; everything
 * else, index.html first, is revalidated on every load (`no-cache` + ETag; the app's conditional
 * GET answers the 304), so a rebuild shows at the next reload. A path with no file extension that
 * matches no file is a client-side route of the app: it gets index.html. A path with a segment
 * that starts with a dot (`.env`, `.git/config`) is never served, whatever the folder holds.
 */
export interface StaticAssetsOptions {
  /** URL path prefix, e.g. `/console`. */
  readonly prefix: string;
  /** The folder holding index.html and the built assets. */
  readonly dir: string;
  /** Sub-folder of content-hashed files. @default 'assets' */
  readonly immutableDir?: string;
  /** Headers on every answer (a Content-Security-Policy, …). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Said in the 404 when `dir` has no index.html (how to build it). */
  readonly missingHint?: string;
}

/** The routes a mount serves, for the auth middleware's public list. */
export function staticAssetRoutes(prefix: string): PublicRoute[] {
  return [
    { method: 'GET', path: prefix },
    { method: 'GET', path: `${prefix}/` },
    { method: 'GET', path: `${prefix}/{path+}` },
  ];
}

// A Map, not an object literal: a lookup must not find what every object inherits.
const contentTypes = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.mjs', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.json', 'application/json; charset=utf-8'],
  ['.map', 'application/json; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.ico', 'image/x-icon'],
  ['.webp', 'image/webp'],
  ['.woff2', 'font/woff2'],
  ['.txt', 'text/plain; charset=utf-8'],
  ['.webmanifest', 'application/manifest+json'],
]);

export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
export const REVALIDATE_CACHE = 'no-cache';

interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly etag: string;
  readonly mtimeMs: number;
}

export function mountStaticAssets(app: Hono<AppEnv>, options: StaticAssetsOptions): void {
  const root = resolve(options.dir);
  const immutablePrefix = `${options.immutableDir ?? 'assets'}/`;
  // Re-read only when a file changes on disk (a rebuild while the server runs).
  const cache = new Map<string, Asset>();

  const load = async (file: string): Promise<Asset | undefined> => {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const cached = cache.get(file);
    if (cached && cached.mtimeMs === info.mtimeMs) return cached;
    const body = new Uint8Array(await readFile(file));
    const asset = { body, etag: entityTag(body), mtimeMs: info.mtimeMs };
    cache.set(file, asset);
    return asset;
  };

  const serve = async (c: Context<AppEnv>): Promise<Response> => {
    const relative = relativePath(c.req.path, options.prefix);
    if (relative === undefined) return c.notFound();
    const index = resolve(root, 'index.html');
    let file = relative === '' ? index : resolve(root, relative);
    if (file !== root && !file.startsWith(root + sep)) return c.notFound();

    let asset = await load(file);
    if (!asset && extname(relative) === '' && !relative.startsWith(immutablePrefix)) {
      file = index;
      asset = await load(file);
    }
    if (!asset) {
      if (file === index || !(await load(index))) {
        throw new AppError('not_found', 'STATIC.NOT_BUILT', 'Not Found', {
          detail: `Nothing is built in ${root}.${options.missingHint ? ` ${options.missingHint}` : ''}`,
        });
      }
      return c.notFound();
    }

    const headers: Record<string, string> = {
      ...options.headers,
      'content-type': contentTypes.get(extname(file)) ?? 'application/octet-stream',
      'cache-control': relative.startsWith(immutablePrefix) ? IMMUTABLE_CACHE : REVALIDATE_CACHE,
      etag: asset.etag,
      'x-content-type-options': 'nosniff',
    };
    return c.body(asset.body, 200, headers);
  };

  app.get(options.prefix, serve);
  app.get(`${options.prefix}/*`, serve);
}

/**
 * The decoded path below `prefix` ('' for the app's root), or undefined when it must not be
 * served: outside the folder, or through a dot segment (a dot file or folder, `..`).
 */
function relativePath(path: string, prefix: string): string | undefined {
  let rest = path.slice(prefix.length).replace(/^\/+/, '');
  try {
    rest = decodeURIComponent(rest);
  } catch {
    return undefined;
  }
  if (rest.includes('\0') || rest.includes('\\')) return undefined;
  if (rest.split('/').some((segment) => segment.startsWith('.'))) return undefined;
  return rest;
}
