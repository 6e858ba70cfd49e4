import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as esbuild from 'esbuild';
import { BUNDLE_TARGET, bundleFunction, type FunctionBundle } from '../../infra/bundling.js';
import { loadModuleInfra } from '../../infra/module-infra.js';
import { API_ENTRY, RosterStack } from '../../infra/roster-stack.js';
import { modules } from '../../src/modules/index.js';
import { median } from './measure.js';

const run = promisify(execFile);

/** One function's bundle, as deployed, and its module init in a fresh `node`. */
export interface LambdaBundleRow {
  /** `api`, `authorizer`, `<module>/<task>`, `floor` (and a reference beside it), `api (before #10)`. */
  readonly name: string;
  /** Minified bundle, bytes (the source map beside it not counted). */
  readonly bytes: number;
  /** Import of the bundle, milliseconds: each run, then the median. */
  readonly initRunsMs: readonly number[];
  readonly initMedianMs: number;
}

export interface LambdaBundles {
  readonly rows: readonly LambdaBundleRow[];
  /** The targets, checked on this run's numbers. */
  readonly targets: {
    readonly apiBytes: number;
    readonly apiBytesLimit: number;
    readonly apiInitOverFloor: number;
    readonly apiInitLimit: number;
  };
  readonly problems: readonly string[];
}

export interface LambdaBundleSettings {
  /** Imports per function; the median is reported. */
  readonly runs: number;
}

const API_BYTES_LIMIT = 400 * 1024;
const API_INIT_LIMIT = 1.5;

/**
 * Every Lambda of the stack, bundled by the function the CDK construct uses (infra/bundling.ts)
 * with the bundle description the stack gives it (read from the stack itself, built offline), plus
 * the floor (Hono and the DynamoDB document client, same bundling) and the API as it was bundled
 * before #10 (NodejsFunction's options, no plugins). Each is imported by a fresh `node` with the
 * environment the stack gives it, tokens replaced by placeholders and APP_SECRET set (no Secrets
 * Manager call); the authorizer's usage key comes from a local stand-in for Secrets Manager. The
 * runs interleave the functions, so a busy moment of the machine hits all of them.
 */
export async function lambdaBundles(
  repoRoot: string,
  settings: LambdaBundleSettings,
): Promise<LambdaBundles> {
  const workDir = await mkdtemp(join(tmpdir(), 'roster-bench-lambda-'));
  const secrets = await secretsManagerStandIn();
  try {
    const functions = await deployedFunctions(repoRoot);
    const probe = join(workDir, 'probe.mjs');
    await writeFile(
      probe,
      [
        'const started = performance.now();',
        'await import(process.argv[2]);',
        'process.stdout.write(String(performance.now() - started));',
        'process.exit(0);',
      ].join('\n'),
    );

    // One bundle per description (a module's tasks share theirs), as CDK stages them.
    const bundles = new Map<string, { file: string; bytes: number }>();
    const bundleOf = async (spec: FunctionBundle) => {
      const key = JSON.stringify(spec);
      let found = bundles.get(key);
      if (!found) {
        const built = await bundleFunction(repoRoot, spec, join(workDir, `b${bundles.size}`));
        found = { file: built.file, bytes: built.bytes };
        bundles.set(key, found);
      }
      return found;
    };

    const targets: { name: string; file: string; bytes: number; env: Record<string, string> }[] =
      [];
    const floor = await bundleOf({ entry: 'bench/support/floor-handler.ts', http: true });
    // Measured like the functions: the same NODE_OPTIONS (source maps) and credentials.
    targets.push({
      name: 'floor',
      ...floor,
      env: { ...lambdaEnvironment({}, secrets.endpoint), NODE_OPTIONS: '--enable-source-maps' },
    });
    // Not a target: the floor plus what every Roster route is declared with (see the file).
    targets.push({
      name: 'floor + zod + @hono/zod-openapi',
      ...(await bundleOf({ entry: 'bench/support/floor-zod-handler.ts', http: true })),
      env: targets[0]?.env ?? {},
    });
    const before = await bundleAsBefore(repoRoot, join(workDir, 'before', 'index.mjs'));
    for (const fn of functions) {
      const env = lambdaEnvironment(fn.environment, secrets.endpoint);
      targets.push({ name: fn.name, ...(await bundleOf(fn.bundle)), env });
      if (fn.bundle.entry === API_ENTRY) {
        targets.push({ name: 'api (before #10)', ...before, env });
        // What the source maps (NODE_OPTIONS=--enable-source-maps, for readable stack traces) cost.
        const { NODE_OPTIONS: _, ...withoutSourceMaps } = env;
        targets.push({
          name: 'api without --enable-source-maps',
          ...(await bundleOf(fn.bundle)),
          env: withoutSourceMaps,
        });
      }
    }

    const runs = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const problems: string[] = [];
    for (let round = 0; round < settings.runs; round++) {
      for (const target of targets) {
        try {
          const { stdout } = await run(process.execPath, [probe, pathToFileURL(target.file).href], {
            env: { PATH: process.env.PATH ?? '', ...target.env },
            timeout: 30_000,
          });
          runs.get(target.name)?.push(Number(stdout));
        } catch (error) {
          const message = (error as { stderr?: string }).stderr?.split('\n').slice(0, 3).join(' ');
          problems.push(`${target.name}: import failed (${message ?? String(error)})`);
        }
      }
    }
    const rows = targets.map((target) => {
      const initRunsMs = (runs.get(target.name) ?? []).map((ms) => Math.round(ms * 10) / 10);
      return {
        name: target.name,
        bytes: target.bytes,
        initRunsMs,
        initMedianMs: median(initRunsMs),
      };
    });
    const byName = new Map(rows.map((row) => [row.name, row]));
    const api = byName.get('api');
    const floorRow = byName.get('floor');
    return {
      rows,
      targets: {
        apiBytes: api?.bytes ?? Number.NaN,
        apiBytesLimit: API_BYTES_LIMIT,
        apiInitOverFloor:
          (api?.initMedianMs ?? Number.NaN) / (floorRow?.initMedianMs ?? Number.NaN),
        apiInitLimit: API_INIT_LIMIT,
      },
      problems: [...new Set(problems)],
    };
  } finally {
    await new Promise((done) => secrets.server.close(done));
    await rm(workDir, { recursive: true, force: true });
  }
}

interface DeployedFunction {
  readonly name: string;
  readonly bundle: FunctionBundle;
  /** Its environment in the template (CloudFormation values where the stack passes tokens). */
  readonly environment: Record<string, unknown>;
}

/** The stack's functions, built offline (no bundling), with their bundle specs and environments. */
async function deployedFunctions(repoRoot: string): Promise<DeployedFunction[]> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new RosterStack(app, 'Roster-bench', {
    stage: 'bench',
    projectRoot: repoRoot,
    modules,
    moduleInfra: await loadModuleInfra(modules),
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<
    string,
    { Properties: { Environment?: { Variables?: Record<string, unknown> } } }
  >;
  const taskIds = new Map([...stack.taskFunctions].map(([id, fn]) => [fn, id]));
  return stack.rosterFunctions().map((fn) => ({
    name:
      fn === stack.apiFunction
        ? 'api'
        : (taskIds.get(fn) ??
          (fn.node.path.endsWith('/GatewayAuthorizer') ? 'authorizer' : fn.node.id)),
    bundle: fn.bundle,
    environment:
      resources[stack.getLogicalId(fn.function.node.defaultChild as never)]?.Properties.Environment
        ?.Variables ?? {},
  }));
}

/**
 * A function's environment with placeholders where CloudFormation would fill values in, and the
 * master secret given directly (APP_SECRET) instead of its ARN.
 */
function lambdaEnvironment(
  variables: Record<string, unknown>,
  secretsEndpoint: string,
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    // Lambda's execution role, as Lambda gives it (never used: nothing is sent at init).
    AWS_ACCESS_KEY_ID: 'ASIABENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    APP_SECRET: Buffer.alloc(32, 5).toString('base64url'),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint,
  };
  for (const [name, value] of Object.entries(variables)) {
    if (name === 'APP_SECRET_ARN') continue;
    if (typeof value === 'string') {
      env[name] = value;
      continue;
    }
    const placeholder = placeholderFor(name);
    if (placeholder === undefined) {
      throw new Error(`no placeholder for ${name} = ${JSON.stringify(value)}`);
    }
    env[name] = placeholder;
  }
  return env;
}

function placeholderFor(name: string): string | undefined {
  if (name.endsWith('_TABLE_NAME')) return `bench-${name.toLowerCase()}`;
  if (name.endsWith('_QUEUE_URL') || name.endsWith('_DLQ_URL')) {
    return `https://sqs.us-east-1.amazonaws.com/000000000000/${name.toLowerCase()}`;
  }
  if (name.endsWith('_STATE_MACHINE_ARN')) {
    return 'arn:aws:states:us-east-1:000000000000:stateMachine:bench';
  }
  // A timer queue's (platform/timers): its ARN and its DLQ's, the role Scheduler sends with.
  if (name.endsWith('_QUEUE_ARN') || name.endsWith('_DLQ_ARN')) {
    return `arn:aws:sqs:us-east-1:000000000000:${name.toLowerCase()}`;
  }
  if (name.endsWith('_TIMER_ROLE_ARN')) return 'arn:aws:iam::000000000000:role/bench-scheduler';
  if (name === 'COGNITO_USER_POOL_ID') return 'us-east-1_Bench0000';
  if (name === 'COGNITO_CLIENT_ID') return 'benchclient0000';
  if (name === 'TOKEN_USAGE_KEY_ARN') {
    return 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-usage-key';
  }
  if (name === 'CORS_ORIGINS') return '*';
  return undefined;
}

/** Answers GetSecretValue (the authorizer reads its usage key at init) on a local port. */
async function secretsManagerStandIn(): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(
        JSON.stringify({
          ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-usage-key',
          Name: 'bench-usage-key',
          SecretString: 'bench-usage-key-value-0123456789',
          VersionId: '00000000-0000-0000-0000-000000000000',
        }),
      );
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return { server, endpoint: `http://127.0.0.1:${port}` };
}

/**
 * The API as the stack bundled it before #10: NodejsFunction's esbuild options (ESM, minified,
 * `module` first, the createRequire banner, AWS SDK bundled), without the plugins.
 */
async function bundleAsBefore(
  repoRoot: string,
  outfile: string,
): Promise<{ file: string; bytes: number }> {
  await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: [join(repoRoot, API_ENTRY)],
    outfile,
    bundle: true,
    platform: 'node',
    target: BUNDLE_TARGET,
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire as __rosterCreateRequire } from 'node:module'; const require = __rosterCreateRequire(import.meta.url);",
    },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'error',
  });
  return { file: outfile, bytes: (await stat(outfile)).size };
}
