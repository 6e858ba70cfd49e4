import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { IMMUTABLE_CACHE, REVALIDATE_CACHE } from '../../src/platform/http/static-assets.js';
import { createApi, createContainer } from '../../src/runtime/container.js';
import { TEST_API_KEY, TEST_SECRETS } from '../support/app.js';
import { type Call, callerFor, expectProblem } from '../support/fixture-app.js';

/** The web console's mount (`/console`), on a folder of files made by the test. */

const INDEX =
  '<!doctype html><title>console</title><script type="module" src="/console/assets/app-3f2a.js"></script>';

function appServing(consoleAssetsDir?: string): Call {
  const container = createContainer({
    config: loadConfig({ API_KEYS: TEST_API_KEY, LOG_LEVEL: 'silent' }),
    modules: [],
    secrets: TEST_SECRETS,
  });
  return callerFor(createApi(container, consoleAssetsDir ? { consoleAssetsDir } : {}));
}

describe('the console mount', () => {
  let root: string;
  let dist: string;
  let call: Call;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'roster-static-'));
    dist = join(root, 'dist');
    await mkdir(join(dist, 'assets'), { recursive: true });
    await writeFile(join(dist, 'index.html'), INDEX);
    await writeFile(join(dist, 'config.json'), '{"apiUrl":""}');
    await writeFile(join(dist, 'assets', 'app-3f2a.js'), 'console.log("app");');
    // Dot files a build folder may hold by mistake: never served, present or not.
    await writeFile(join(dist, '.env'), 'SECRET=do not serve');
    await mkdir(join(dist, '.git'), { recursive: true });
    await writeFile(join(dist, '.git', 'config'), 'do not serve');
    // Beside the served folder: must never be reachable through it.
    await writeFile(join(root, 'secret.txt'), 'do not serve');
    call = appServing(dist);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each(['/console', '/console/'])('serves index.html at %s without an API key', async (path) => {
    const res = await call(path, { key: null });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe(REVALIDATE_CACHE);
    expect(await res.text()).toBe(INDEX);
  });

  it('sends a CSP that allows only the console’s own files and no inline script', async () => {
    const res = await call('/console/', { key: null });

    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('caches content-hashed assets for a year and everything else never without revalidation', async () => {
    const asset = await call('/console/assets/app-3f2a.js', { key: null });
    const config = await call('/console/config.json', { key: null });

    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe(IMMUTABLE_CACHE);
    expect(config.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(config.headers.get('cache-control')).toBe(REVALIDATE_CACHE);
  });

  it('answers 304 to a revalidation of an unchanged file', async () => {
    const first = await call('/console/', { key: null });
    const etag = first.headers.get('etag') ?? '';

    const again = await call('/console/', { key: null, headers: { 'if-none-match': etag } });

    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it.each([
    ['*', 304],
    ['"other", <etag>', 304],
    ['W/<etag>', 304],
    ['"other"', 200],
  ])('answers If-None-Match: %s with %i', async (condition, status) => {
    const etag = (await call('/console/config.json', { key: null })).headers.get('etag') ?? '';

    const res = await call('/console/config.json', {
      key: null,
      headers: { 'if-none-match': condition.replace('<etag>', etag) },
    });

    expect(res.status).toBe(status);
    if (status === 304) {
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('x-request-id')).toBeTruthy();
    }
  });

  it.each([
    '/console/events',
    '/console/events/tech-conf-2024',
    '/console/events/tech-conf-2024/edit',
  ])('answers the app’s index.html for the client route %s', async (path) => {
    const res = await call(path, { key: null });

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe(REVALIDATE_CACHE);
    expect(await res.text()).toBe(INDEX);
  });

  it.each([
    '/console/assets/app-0000.js',
    '/console/assets/missing',
    '/console/logo.png',
    '/console/foo.js',
    '/console/events/missing.css',
  ])('answers 404 problem for the missing file %s (no index.html in its place)', async (path) => {
    await expectProblem(await call(path, { key: null }), 404, 'REQUEST.ROUTE_NOT_FOUND');
  });

  it.each([
    '/console/.env',
    '/console/%2Eenv',
    '/console/.git/config',
    '/console/.git',
    '/console/.well-known/security.txt',
    '/console/events/.hidden',
    '/console/assets/.map',
  ])('answers 404 problem for the dot path %s, whether the file exists or not', async (path) => {
    const res = await call(path, { key: null });

    const problem = await expectProblem(res, 404, 'REQUEST.ROUTE_NOT_FOUND');
    expect(JSON.stringify(problem)).not.toContain('do not serve');
  });

  it.each([
    '/console/..%2Fsecret.txt',
    '/console/%2e%2e/secret.txt',
    '/console/assets/..%2F..%2Fsecret.txt',
    '/console/..%5Csecret.txt',
    '/console/%00index.html',
  ])('serves nothing outside its folder for %s', async (path) => {
    const res = await call(path, { key: null });

    // 401 where URL parsing already resolved the dots (the path left the public prefix).
    expect([401, 404]).toContain(res.status);
    expect(await res.text()).not.toContain('do not serve');
  });

  it('serves a file rebuilt while the server runs', async () => {
    const file = join(dist, 'config.json');
    await writeFile(file, '{"apiUrl":"https://api.example"}');
    const later = new Date(Date.now() + 5_000);
    await utimes(file, later, later);

    const res = await call('/console/config.json', { key: null });

    expect(await res.json()).toEqual({ apiUrl: 'https://api.example' });
  });

  it('still requires a key for other methods on the console’s paths', async () => {
    await expectProblem(
      await call('/console/', { method: 'POST', key: null, json: {} }),
      401,
      'AUTH.UNAUTHORIZED',
    );
  });

  it('says how to build the console when its folder is empty', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'roster-static-empty-'));
    try {
      const res = await appServing(empty)('/console/', { key: null });

      const problem = await expectProblem(res, 404, 'STATIC.NOT_BUILT');
      expect(problem.detail).toContain('npm run console:build');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('is not mounted where no folder is given (the Lambda API)', async () => {
    const lambdaLike = appServing();

    await expectProblem(await lambdaLike('/console/', { key: null }), 401, 'AUTH.UNAUTHORIZED');
    await expectProblem(await lambdaLike('/console/'), 404, 'REQUEST.ROUTE_NOT_FOUND');
  });
});
