import { fileURLToPath } from 'node:url';
import { glob } from 'tinyglobby';
import { describe, expect, inject, it } from 'vitest';
import { projects } from '../vitest.config.js';

/**
 * Every test file on disk belongs to exactly one Vitest project (vitest.config.ts): a file no
 * project claims would never run, and one claimed twice would run twice. Files are matched the
 * way Vitest matches them (tinyglobby, include minus exclude, from the repository root).
 */

// Not support/process.js's repoRoot: that module loads every module of the app.
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Vitest's default test file pattern: what anyone would expect to run as a test. */
const TEST_FILE = '**/*.{test,spec}.?(c|m)[jt]s?(x)';
/** Folders that hold no test of ours (dependencies, build and run output, local data). */
const NOT_OURS = [
  '**/node_modules/**',
  '**/.git/**',
  '.data/**',
  'cdk.out/**',
  'dist/**',
  'coverage/**',
  'test-output/**',
  'bench/results/**',
];

const filesOf = (include: readonly string[], exclude: readonly string[] = []) =>
  glob([...include], { cwd: repoRoot, ignore: [...exclude], dot: true, expandDirectories: false });

describe('the test projects', () => {
  it('put every test file in exactly one project', async () => {
    const onDisk = await filesOf([TEST_FILE], NOT_OURS);
    const owners = new Map<string, string[]>(onDisk.map((file) => [file, []]));
    for (const { test } of projects) {
      for (const file of await filesOf(test.include, test.exclude)) {
        owners.set(file, [...(owners.get(file) ?? []), test.name]);
      }
    }
    const unclaimed = [...owners].filter(([, names]) => names.length === 0).map(([file]) => file);
    const claimedTwice = [...owners]
      .filter(([, names]) => names.length > 1)
      .map(([file, names]) => `${file}: ${names.join(', ')}`);

    expect(onDisk.length).toBeGreaterThan(80);
    expect
      .soft(unclaimed, 'test files no project runs: add them to a project in vitest.config.ts')
      .toEqual([]);
    expect.soft(claimedTwice, 'test files more than one project runs').toEqual([]);
  });

  it('name no file that is not there: each include glob matches a test file', async () => {
    const unmatched: string[] = [];
    for (const { test } of projects) {
      for (const pattern of test.include) {
        if ((await filesOf([pattern], test.exclude)).length === 0) {
          unmatched.push(`${test.name}: ${pattern}`);
        }
      }
    }

    expect(unmatched).toEqual([]);
  });

  it('start no DynamoDB Local for the unit project', () => {
    // Provided only by test/support/dynamodb-global-setup.ts, in the projects that list it.
    expect(inject('dynamodbEndpoint')).toBeUndefined();
  });
});
