import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/process.js';

/**
 * The dependency rules in biome.json, proven to fire: each fixture breaks one rule (or none) in a
 * scratch copy of the repository layout, and Biome must report exactly the ones that break a rule.
 */

const run = promisify(execFile);

/** path in the scratch repo → [source, whether Biome must refuse its import] */
const fixtures: Record<string, [string, boolean]> = {
  // services, rules, models, schemas, errors and ports: no HTTP, no AWS SDK, no runtime
  'src/modules/alpha/alpha.service.ts': ["import { Hono } from 'hono';\nexport { Hono };\n", true],
  'src/modules/alpha/alpha.rules.ts': [
    "import { cors } from 'hono/cors';\nexport { cors };\n",
    true,
  ],
  'src/modules/alpha/alpha.schemas.ts': [
    "import { z } from '@hono/zod-openapi';\nexport { z };\n",
    true,
  ],
  'src/modules/alpha/alpha.repository.ts': [
    "import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport type { DynamoDBClient };\n",
    true,
  ],
  'src/modules/alpha/alpha.model.ts': [
    "import { createContainer } from '../../runtime/container.js';\nexport { createContainer };\n",
    true,
  ],
  'src/modules/alpha/alpha.steps.ts': [
    "import { SFNClient } from '@aws-sdk/client-sfn';\nexport { SFNClient };\n",
    true,
  ],
  'src/modules/alpha/alpha.errors.ts': [
    "import { beta } from '../beta/beta.dynamo.js';\nexport { beta };\n",
    true,
  ],
  // any module file: no runtime, no other module's internals, no CDK
  'src/modules/alpha/alpha.routes.ts': [
    "import { betaRoutes } from '../beta/beta.routes.js';\nexport { betaRoutes };\n",
    true,
  ],
  'src/modules/alpha/alpha.dynamo.ts': [
    "import { Stack } from 'aws-cdk-lib';\nexport { Stack };\n",
    true,
  ],
  'src/modules/alpha/alpha.module.ts': [
    "import { modules } from '../../runtime/local/server.js';\nexport { modules };\n",
    true,
  ],
  // the platform knows no module and no runtime
  'src/platform/gamma.ts': [
    "import { eventsModule } from '../modules/events/events.module.js';\nexport { eventsModule };\n",
    true,
  ],
  'src/platform/http/delta.ts': [
    "import { startLocalRuntime } from '../../runtime/local/server.js';\nexport { startLocalRuntime };\n",
    true,
  ],
  // no Lambda bundle may pull in aws-cdk-lib
  'src/runtime/lambda/epsilon.ts': [
    "import * as lambda from 'aws-cdk-lib/aws-lambda';\nexport { lambda };\n",
    true,
  ],
  // allowed: a service using its port and the platform, another module through its services,
  // adapters using the SDK, a module's CDK construct using aws-cdk-lib
  'src/modules/beta/beta.service.ts': [
    "import { AppError } from '../../platform/errors.js';\nimport { alphaModule } from '../alpha/alpha.module.js';\nimport type { BetaRepository } from './beta.repository.js';\nexport { AppError, alphaModule };\nexport type { BetaRepository };\n",
    false,
  ],
  'src/modules/beta/beta.dynamo.ts': [
    "import { GetCommand } from '@aws-sdk/lib-dynamodb';\nimport { Hono } from 'hono';\nexport { GetCommand, Hono };\n",
    false,
  ],
  'src/modules/beta/beta.infra.ts': [
    "import { Stack } from 'aws-cdk-lib';\nimport type { ModuleInfra } from '../../../infra/module-infra.js';\nexport { Stack };\nexport type { ModuleInfra };\n",
    false,
  ],
};

interface Diagnostic {
  category: string;
  location: { path: { file: string } | string };
}

let scratch: string;
let refused: Set<string>;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'roster-lint-'));
  cpSync(join(repoRoot, 'biome.json'), join(scratch, 'biome.json'));
  for (const [path, [source]] of Object.entries(fixtures)) {
    mkdirSync(join(scratch, dirname(path)), { recursive: true });
    writeFileSync(join(scratch, path), source);
  }
  const biome = join(repoRoot, 'node_modules', '.bin', 'biome');
  const { stdout } = await run(
    biome,
    ['lint', '--vcs-enabled=false', '--reporter=json', '--max-diagnostics=none', '.'],
    { cwd: scratch },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  const report = JSON.parse(stdout) as { diagnostics: Diagnostic[] };
  refused = new Set(
    report.diagnostics
      .filter((d) => d.category === 'lint/style/noRestrictedImports')
      .map((d) => {
        const file = typeof d.location.path === 'string' ? d.location.path : d.location.path.file;
        return file.replace(/^\.\//, '');
      }),
  );
}, 60_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('dependency rules (biome.json)', () => {
  it.each(Object.entries(fixtures).filter(([, [, bad]]) => bad))(
    'refuses the import in %s',
    (path) => {
      expect(refused).toContain(path);
    },
  );

  it.each(Object.entries(fixtures).filter(([, [, bad]]) => !bad))('allows %s', (path) => {
    expect(refused).not.toContain(path);
  });
});
