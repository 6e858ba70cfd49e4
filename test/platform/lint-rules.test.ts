import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The dependency rules in biome.json, proven to fire: every fixture is a file of the repository's
 * layout written into a scratch folder beside a copy of biome.json, and one Biome run must refuse
 * exactly the fixtures marked `refused`. Each rule has a fixture it must refuse and one it must
 * accept, so deleting a rule (or an allow list, which sends its role to the deny-by-default rule)
 * fails this test. Then the repository itself: no import cycle, type-only ones included.
 */

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const RESTRICTED = 'lint/style/noRestrictedImports';
const CYCLE = 'lint/suspicious/noImportCycles';

interface Fixture {
  /** What the fixture shows, for the test's name. */
  readonly rule: string;
  readonly path: string;
  readonly source: string;
  /** The diagnostic Biome must report on this file, or null when it must report none. */
  readonly refused: typeof RESTRICTED | typeof CYCLE | null;
}

const refuse = (rule: string, path: string, source: string): Fixture => ({
  rule,
  path,
  source,
  refused: RESTRICTED,
});
const accept = (rule: string, path: string, source: string): Fixture => ({
  rule,
  path,
  source,
  refused: null,
});
/** One module import per line, re-exported so the file is valid on its own. */
const imports = (...specifiers: string[]) =>
  `${specifiers.map((s, i) => `import * as m${i} from '${s}';`).join('\n')}\nexport { ${specifiers.map((_, i) => `m${i}`).join(', ')} };\n`;

const fixtures: Fixture[] = [
  // Hono: only *.routes.ts, src/platform/http and src/runtime.
  refuse('hono in a service', 'src/modules/a1/a1.service.ts', imports('hono')),
  refuse('hono in an adapter', 'src/modules/a2/a2.dynamo.ts', imports('hono')),
  refuse('@hono in schemas', 'src/modules/a3/a3.schemas.ts', imports('@hono/node-server')),
  refuse('hono in a module definition', 'src/modules/a4/a4.module.ts', imports('hono/cors')),
  refuse('@hono outside platform/http', 'src/platform/a5.ts', imports('@hono/node-server')),
  refuse('hono in infra', 'infra/a6.ts', imports('hono')),
  accept(
    'hono in routes',
    'src/modules/b1/b1.routes.ts',
    imports(
      'hono',
      'hono/http-exception',
      'zod',
      'zod/mini',
      './b1.service.js',
      './b1.schemas.js',
      './b1.model.js',
      './b1.errors.js',
      '../../platform/http/openapi.js',
      '../../platform/errors.js',
    ),
  ),
  accept(
    'hono in platform/http',
    'src/platform/http/b2.ts',
    imports(
      'hono',
      'hono/cors',
      'zod/mini',
      'zod/v4/core',
      '../errors.js',
      './context.js',
      'node:fs/promises',
    ),
  ),
  accept(
    'hono and module definitions in the runtime',
    'src/runtime/lambda/b3.ts',
    imports(
      'hono/aws-lambda',
      '@hono/node-server',
      '@aws-sdk/client-sqs',
      '../../modules/index.js',
      '../../modules/b1/b1.module.js',
      '../container.js',
      '../../platform/config.js',
    ),
  ),

  // csv-stringify writes CSV exports: in platform/http (the streamed response), not elsewhere.
  accept(
    'csv-stringify in platform/http',
    'src/platform/http/c7.ts',
    imports('csv-stringify/sync'),
  ),
  refuse('csv-stringify in the platform', 'src/platform/c8.ts', imports('csv-stringify/sync')),
  refuse(
    'csv-stringify in a service',
    'src/modules/c9/c9.service.ts',
    imports('csv-stringify/sync'),
  ),

  // ical-generator renders calendars: in routes (the response's shape), not in a service.
  accept('ical-generator in routes', 'src/modules/b4/b4.routes.ts', imports('ical-generator')),
  refuse('ical-generator in a service', 'src/modules/b5/b5.service.ts', imports('ical-generator')),

  // The AWS SDK: nowhere in src/modules, adapters included (platform/dynamo holds it).
  refuse('@aws-sdk in an adapter', 'src/modules/c1/c1.dynamo.ts', imports('@aws-sdk/lib-dynamodb')),
  refuse(
    '@aws-sdk in a port',
    'src/modules/c2/c2.repository.ts',
    imports('@aws-sdk/client-dynamodb'),
  ),
  refuse(
    '@aws-sdk in workflow steps',
    'src/modules/c3/c3.steps.ts',
    imports('@aws-sdk/client-sfn'),
  ),
  refuse('@aws-sdk in a service', 'src/modules/c4/c4.service.ts', imports('@aws-sdk/client-sqs')),
  accept(
    'an adapter on platform/dynamo',
    'src/modules/d1/d1.dynamo.ts',
    imports(
      './d1.repository.js',
      './d1.model.js',
      './d1.rules.js',
      './d1.errors.js',
      '../../platform/dynamo/table.js',
      '../../platform/dynamo/expressions.js',
      '../../platform/dynamo/transactions.js',
      '../../platform/page.js',
    ),
  ),
  accept(
    'an adapter on its module’s key design (another adapter of the same module)',
    'src/modules/d3/d3.users.dynamo.ts',
    imports('./d3.dynamo.js', './d3.users.repository.js', '../../platform/dynamo/table.js'),
  ),
  refuse(
    'an adapter importing another module’s adapter',
    'src/modules/d4/d4.dynamo.ts',
    imports('../d3/d3.dynamo.js'),
  ),
  accept(
    'the SDK in the platform',
    'src/platform/d2.ts',
    imports('@aws-sdk/client-dynamodb', '@aws-lambda-powertools/logger', './errors.js', 'zod'),
  ),

  // Rules: pure decisions on their own model, errors and schemas, and platform/errors.
  refuse(
    'rules importing another module’s adapter',
    'src/modules/e1/e1.rules.ts',
    imports('../f1/f1.dynamo.js'),
  ),
  refuse(
    'rules importing their own adapter',
    'src/modules/e2/e2.rules.ts',
    imports('./e2.dynamo.js'),
  ),
  refuse('rules importing their port', 'src/modules/e3/e3.rules.ts', imports('./e3.repository.js')),
  refuse(
    'rules importing a platform port',
    'src/modules/e4/e4.rules.ts',
    imports('../../platform/workflow/workflow.js'),
  ),
  refuse('rules importing zod', 'src/modules/e5/e5.rules.ts', imports('zod')),
  refuse(
    'rules drawing random bytes',
    'src/modules/e6/e6.rules.ts',
    "import { randomBytes } from 'node:crypto';\nexport { randomBytes };\n",
  ),
  accept(
    'rules on their model, errors, schemas and platform/errors',
    'src/modules/f1/f1.rules.ts',
    `${imports('./f1.model.js', './f1.errors.js', './f1.schemas.js', '../../platform/errors.js')}import { createHmac } from 'node:crypto';\nexport { createHmac };\n`,
  ),

  // Another module: only through its <m>.module.ts.
  refuse(
    'a service importing another module’s service',
    'src/modules/g1/g1.service.ts',
    imports('../h1/h1.service.js'),
  ),
  refuse(
    'routes importing another module’s routes',
    'src/modules/g2/g2.routes.ts',
    imports('../h1/h1.routes.js'),
  ),
  refuse(
    'a module definition importing another module’s adapter',
    'src/modules/g3/g3.module.ts',
    imports('../h1/h1.dynamo.js'),
  ),
  refuse(
    'a model importing another module’s model',
    'src/modules/g4/g4.model.ts',
    imports('../h1/h1.model.js'),
  ),
  refuse(
    'the runtime importing a module’s rules',
    'src/runtime/local/g5.ts',
    imports('../../modules/h1/h1.rules.js'),
  ),
  refuse(
    'infra importing a module’s service',
    'infra/g6.ts',
    imports('../src/modules/h1/h1.service.js'),
  ),
  accept(
    'a service and its port, reaching another module through its definition',
    'src/modules/h1/h1.service.ts',
    imports(
      './h1.repository.js',
      './h1.rules.js',
      './h1.model.js',
      './h1.errors.js',
      '../g1/g1.module.js',
      '../../platform/errors.js',
      '../../platform/limiter.js',
      '../../platform/metrics/metrics.js',
      '../../platform/queue/queue.js',
    ),
  ),
  accept(
    'a module definition wiring its files and another module',
    'src/modules/h2/h2.module.ts',
    imports(
      './h2.dynamo.js',
      './h2.routes.js',
      './h2.service.js',
      '../h1/h1.module.js',
      '../../platform/module.js',
      '../../platform/dynamo/tables.js',
      '../../platform/schedule.js',
      'node:url',
      'zod',
    ),
  ),
  accept(
    'the list of modules',
    'src/modules/index.ts',
    imports('./h1/h1.module.js', './h2/h2.module.js'),
  ),

  // infra/: not src/runtime (but the offline description of the HTTP app).
  refuse('infra importing the container', 'infra/i1.ts', imports('../src/runtime/container.js')),
  refuse(
    'a construct importing a Lambda entry',
    'infra/constructs/i2.ts',
    imports('../../src/runtime/lambda/api.js'),
  ),
  accept(
    'infra on CDK, the platform, module definitions and the API description',
    'infra/constructs/j1.ts',
    imports(
      'aws-cdk-lib',
      'aws-cdk-lib/aws-lambda',
      'constructs',
      'cdk-nag',
      '../nag.js',
      '../../src/platform/config.js',
      '../../src/platform/http/public-routes.js',
      '../../src/modules/index.js',
      '../../src/modules/h1/h1.module.js',
      '../../src/modules/h1/h1.infra.js',
      '../../src/runtime/describe.js',
    ),
  ),

  // Deny by default: a role without an allow list may import only its model and errors.
  refuse('hono in a file of an unlisted role', 'src/modules/k1/k1.mapper.ts', imports('hono')),
  refuse(
    'the SDK in a file of an unlisted role',
    'src/modules/k2/k2.mapper.ts',
    imports('@aws-sdk/client-dynamodb'),
  ),
  refuse('zod in a file of an unlisted role', 'src/modules/k3/k3.helpers.ts', imports('zod')),
  refuse(
    'a service in a file of an unlisted role',
    'src/modules/k4/k4.mapper.ts',
    imports('./k4.service.js'),
  ),
  refuse(
    'a file in a module’s subfolder',
    'src/modules/k5/internal/k5.service.ts',
    imports('hono'),
  ),
  accept(
    'a file of an unlisted role on its model and errors',
    'src/modules/l1/l1.mapper.ts',
    imports('./l1.model.js', './l1.errors.js', '../../platform/errors.js'),
  ),

  // Every listed role has its allow list (without it, the deny-by-default rule refuses these).
  accept(
    'workflow steps',
    'src/modules/m1/m1.steps.ts',
    imports(
      'zod',
      './m1.repository.js',
      './m1.rules.js',
      './m1.errors.js',
      '../../platform/dynamo/errors.js',
      '../../platform/logger.js',
    ),
  ),
  accept(
    'a model',
    'src/modules/m1/m1.model.ts',
    imports('zod', '../../platform/request-key.js', '../../platform/workflow/workflow.js'),
  ),
  accept(
    'errors',
    'src/modules/m1/m1.errors.ts',
    imports('../../platform/errors.js', './m1.model.js', './m1.rules.js'),
  ),
  accept(
    'schemas',
    'src/modules/m1/m1.schemas.ts',
    imports('zod', 'zod/mini', './m1.model.js', '../../platform/input.js', '../../platform/ids.js'),
  ),
  accept(
    'a port',
    'src/modules/m1/m1.repository.ts',
    imports('./m1.model.js', '../../platform/page.js'),
  ),
  accept(
    'password hashing',
    'src/modules/m1/m1.passwords.ts',
    imports('node:crypto', './m1.errors.js'),
  ),
  accept(
    'a throttle',
    'src/modules/m1/m1.throttle.ts',
    imports('./m1.rules.js', './m1.model.js', '../../platform/limiter.js'),
  ),
  accept(
    'an outgoing HTTP sender',
    'src/modules/m1/m1.delivery.ts',
    imports(
      'node:https',
      'node:dns',
      'standardwebhooks',
      './m1.rules.js',
      '../../platform/logger.js',
    ),
  ),
  refuse(
    'an outgoing HTTP sender importing a table',
    'src/modules/m5/m5.delivery.ts',
    imports('../../platform/dynamo/table.js'),
  ),
  accept(
    'a service announcing domain events',
    'src/modules/m1/m1.service.ts',
    imports('../../platform/outbox/outbox.js'),
  ),
  accept(
    'a module’s CDK construct',
    'src/modules/m1/m1.infra.ts',
    imports(
      'aws-cdk-lib',
      'aws-cdk-lib/aws-iam',
      '../../../infra/module-infra.js',
      './m1.module.js',
      './m1.dynamo.js',
      '../../platform/workflow/workflow.js',
    ),
  ),
  refuse(
    'errors importing their service',
    'src/modules/m0/m0.errors.ts',
    imports('./m0.service.js'),
  ),
  refuse(
    'a port importing platform/dynamo',
    'src/modules/m2/m2.repository.ts',
    imports('../../platform/dynamo/table.js'),
  ),
  refuse(
    'schemas importing platform/http',
    'src/modules/m3/m3.schemas.ts',
    imports('../../platform/http/pagination.js'),
  ),
  refuse(
    'a service importing platform/http',
    'src/modules/m4/m4.service.ts',
    imports('../../platform/http/auth.js'),
  ),
  refuse(
    'a service importing a platform adapter',
    'src/modules/m5/m5.service.ts',
    imports('../../platform/queue/sqs.js'),
  ),
  refuse(
    'routes importing their adapter',
    'src/modules/m6/m6.routes.ts',
    imports('./m6.dynamo.js'),
  ),
  refuse(
    'a module importing src/runtime',
    'src/modules/m7/m7.model.ts',
    imports('../../runtime/container.js'),
  ),
  refuse(
    'a module definition importing its construct',
    'src/modules/m8/m8.module.ts',
    imports('./m8.infra.js'),
  ),
  refuse(
    'a construct importing another module',
    'src/modules/m9/m9.infra.ts',
    imports('../m1/m1.service.js'),
  ),

  // The platform knows no module and no runtime; no Lambda bundle carries the CDK.
  refuse(
    'the platform importing a module',
    'src/platform/n1.ts',
    imports('../modules/h1/h1.module.js'),
  ),
  refuse(
    'platform/http importing the runtime',
    'src/platform/http/n2.ts',
    imports('../../runtime/local/server.js'),
  ),
  refuse('the platform importing the CDK', 'src/platform/n3.ts', imports('aws-cdk-lib')),
  refuse(
    'the runtime importing the CDK',
    'src/runtime/lambda/n4.ts',
    imports('aws-cdk-lib/aws-lambda'),
  ),
  refuse(
    'the runtime importing a module’s construct',
    'src/runtime/n5.ts',
    imports('../modules/h1/h1.infra.js'),
  ),
  refuse('the runtime importing infra/', 'src/runtime/n6.ts', imports('../../infra/nag.js')),

  // No import cycles, type-only ones included.
  {
    rule: 'a type-only import cycle',
    path: 'src/platform/p1.ts',
    source: "import type { P2 } from './p2.js';\nexport interface P1 { readonly next?: P2 }\n",
    refused: CYCLE,
  },
  {
    rule: 'a type-only import cycle',
    path: 'src/platform/p2.ts',
    source: "import type { P1 } from './p1.js';\nexport interface P2 { readonly next?: P1 }\n",
    refused: CYCLE,
  },
  accept(
    'imports one way',
    'src/platform/q1.ts',
    "import type { Q2 } from './q2.js';\nexport interface Q1 { readonly next?: Q2 }\n",
  ),
  accept('imports one way', 'src/platform/q2.ts', 'export interface Q2 { readonly id: string }\n'),
];

interface Diagnostic {
  category: string;
  message: string;
  location: { path: { file: string } | string; start?: { line: number } };
}

const fileOf = (d: Diagnostic) =>
  (typeof d.location.path === 'string' ? d.location.path : d.location.path.file).replace(
    /^\.\//,
    '',
  );

/** Biome's JSON report of `biome lint <args>` run in `cwd` (it exits non-zero on errors). */
async function lint(cwd: string, args: string[]): Promise<Diagnostic[]> {
  const biome = join(repoRoot, 'node_modules', '.bin', 'biome');
  const { stdout, stderr } = await run(
    biome,
    ['lint', '--reporter=json', '--max-diagnostics=none', ...args],
    { cwd, maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: { stdout?: string; stderr?: string }) => ({
    stdout: error.stdout ?? '',
    stderr: error.stderr ?? '',
  }));
  if (!stdout.trim()) throw new Error(`biome lint ${args.join(' ')} gave no report: ${stderr}`);
  return (JSON.parse(stdout) as { diagnostics: Diagnostic[] }).diagnostics;
}

let scratch: string;
/** file → the dependency-rule diagnostics Biome reported on it */
let reported: Map<string, Diagnostic[]>;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'roster-lint-'));
  cpSync(join(repoRoot, 'biome.json'), join(scratch, 'biome.json'));
  for (const { path, source } of fixtures) {
    mkdirSync(join(scratch, dirname(path)), { recursive: true });
    writeFileSync(join(scratch, path), source);
  }
  reported = new Map();
  for (const d of await lint(scratch, ['--vcs-enabled=false', '.'])) {
    if (d.category !== RESTRICTED && d.category !== CYCLE) continue;
    reported.set(fileOf(d), [...(reported.get(fileOf(d)) ?? []), d]);
  }
}, 60_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const named = (list: Fixture[]) => list.map((f) => [`${f.rule} (${f.path})`, f] as const);

describe('dependency rules (biome.json)', () => {
  it.each(named(fixtures.filter((f) => f.refused)))('refuses %s', (_, fixture) => {
    const categories = (reported.get(fixture.path) ?? []).map((d) => d.category);
    expect(categories).toContain(fixture.refused);
  });

  it.each(named(fixtures.filter((f) => !f.refused)))('accepts %s', (_, fixture) => {
    const found = (reported.get(fixture.path) ?? []).map((d) => `${d.category}: ${d.message}`);
    expect(found).toEqual([]);
  });
});

describe('the repository', () => {
  it('has no import cycles, type-only imports included', async () => {
    const cycles = (await lint(repoRoot, ['--only=suspicious/noImportCycles', '.']))
      .filter((d) => d.category === CYCLE)
      .map((d) => `${fileOf(d)}:${d.location.start?.line ?? '?'} ${d.message}`);
    // Each cycle's chain of imports: `npx biome lint --only=suspicious/noImportCycles <file>`.
    expect(cycles).toEqual([]);
  }, 60_000);
});
