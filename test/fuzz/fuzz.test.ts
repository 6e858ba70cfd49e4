import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createFuzzer } from './fuzzer.js';
import { createFuzzApp, type FuzzApp } from './target.js';

/**
 * A short fuzz run over every operation of the OpenAPI document and every path the app serves
 * beside it (`npm run fuzz` runs 10,000). The seed is printed; `FUZZ_SEED=<n> npm test --
 * test/fuzz` replays a failure.
 */
const seed = Number(process.env.FUZZ_SEED ?? 20261122);
const count = Number(process.env.FUZZ_COUNT ?? 400);

describe(`fuzzing every route, documented or served (seed ${seed})`, () => {
  let target: FuzzApp;

  beforeAll(async () => {
    target = await createFuzzApp(inject('dynamodbEndpoint'));
  });

  afterAll(async () => {
    await target?.close();
  });

  it('aims at the pages and files served outside the OpenAPI document too', () => {
    expect(target.servedPaths).toEqual(
      expect.arrayContaining([
        '/openapi.json',
        '/docs',
        '/docs/assets/swagger-ui-bundle.js',
        '/docs/assets/swagger-ui-init.js',
        '/console',
        '/console/',
        '/console/assets/index-3f2a9c.js',
        '/console/config.json',
      ]),
    );
  });

  it('answers every GET route with each odd path segment, and each served path with other methods, without a 5xx', async () => {
    const fuzzer = createFuzzer(target.document);

    const report = await fuzzer.sweep(target);

    expect(report.failures, JSON.stringify(report.failures.slice(0, 5), null, 2)).toEqual([]);
    expect(report.requests).toBeGreaterThan(1000);
  }, 120_000);

  it('answers every generated request with a documented success or a 4xx problem that changed nothing', async () => {
    const fuzzer = createFuzzer(target.document);

    const report = await fuzzer.run(target, { seed, count });

    expect(report.requests).toBe(count);
    expect(report.failures, JSON.stringify(report.failures.slice(0, 5), null, 2)).toEqual([]);
    const served = Object.entries(report.byMutation)
      .filter(([mutation]) => mutation.startsWith('served'))
      .reduce((sum, [, n]) => sum + n, 0);
    expect(served).toBeGreaterThan(count / 10);
    // The run reached the routes, not only the validation layer.
    const successes = Object.entries(report.byStatus)
      .filter(([status]) => status.startsWith('2'))
      .reduce((sum, [, n]) => sum + n, 0);
    expect(successes).toBeGreaterThan(count / 20);
  }, 180_000);
});
