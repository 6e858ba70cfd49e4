import { describe, expect, it } from 'vitest';
import { BUNDLE_TARGET } from '../../infra/bundling.js';
import { API_RUNTIME } from '../../infra/constructs/roster-function.js';

/*
 * The suite runs on the Node.js major the Lambdas run on, so a test passing here says something
 * about production. The `node` devDependency provides that Node to every npm script, whatever the
 * machine's own node is (docs/decisions/node-runtime.md); this fails when it is missing or when
 * the Lambda runtime moves on without it.
 */

const major = process.versions.node.split('.')[0];

describe('the Node.js the tests run on', () => {
  it('is the major of the Lambda runtime and of the bundles’ target', () => {
    expect(
      `nodejs${major}.x`,
      `tests run on Node ${process.version}: run them through npm (npm test, npx vitest), which puts the pinned node of node_modules/.bin first on PATH`,
    ).toBe(API_RUNTIME.name);
    expect(`node${major}`).toBe(BUNDLE_TARGET);
  });
});
