import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as esbuild from 'esbuild';
import {
  BUNDLE_TARGET,
  bundleFunction,
  type FunctionBundle,
  initPathOf,
} from '../../infra/bundling.js';
import { loadModuleInfra } from '../../infra/module-infra.js';
import { API_ENTRY, RosterStack } from '../../infra/roster-stack.js';
import { modules } from '../../src/modules/index.js';
import { secretsManagerStandIn } from '../../test/support/secrets-manager.js';
import { median } from './measure.js';

const run = promisify(execFile);

/** One function's bundle, as deployed, and its module init in a fresh `node`. */
export interface LambdaBundleRow {
  /** `api`, `authorizer`, `<module>/<task>`, `floor` (and a reference beside it), `api (before #10)`. */
  readonly name: string;
  /** Minified bundle on the init path (the entry and the chunks it imports statically), bytes. */
  readonly bytes: number;
  /** How many files the init path is: Node loads each, with its source map where it has one. */
  readonly initPathFiles: number;
  /** Every file of the package (chunks loaded on first use included), bytes. */
  readonly totalBytes: number;
  /**
   * Import of the bundle, plus the first request where the row makes one (what the first caller
   * of a cold function waits for, init aside from Lambda's own), milliseconds: each run, then
   * the median.
   */
  readonly initRunsMs: readonly number[];
  readonly initMedianMs: number;
  /** That first request alone (its median), where the row makes one. */
  readonly requestMedianMs?: number;
  /**
   * What the init path is made of (esbuild's metafile: bytes each input puts in the output files
   * on it), by package (`@smithy/core`) or source folder (`src/modules/events`), largest first.
   */
  readonly initPathInputs: readonly { readonly input: string; readonly bytes: number }[];
}

export interface LambdaBundles {
  readonly rows: readonly LambdaBundleRow[];
  /** The targets, checked on this run's numbers. */
  readonly targets: {
    readonly apiBytes: number;
    readonly apiBytesLimit: number;
    readonly apiInitOverFloor: number;
    readonly apiInitLimit: number;
    /** Import + the first validated request, over the floor's import + the same request. */
    readonly apiFirstRequestOverFloor: number;
    /** The slowest task function's import over the floor's. */
    readonly tasksInitOverFloor: number;
    readonly authorizerInitOverFloor: number;
    readonly otherFunctionsLimit: number;
  };
  readonly problems: readonly string[];
}

export interface LambdaBundleSettings {
  /** Imports per function; the median is reported. */
  readonly runs: number;
}

const API_BYTES_LIMIT = 400 * 1024;
/** Marks the probe's result line among the function's own output. */
const PROBE_MARK = 'roster-bench-probe ';
const API_INIT_LIMIT = 1.5;
/** Task functions and the authorizer: import ≤ 1.3 × the floor (issue 22). */
const OTHER_FUNCTIONS_LIMIT = 1.3;

/**
 * The first request a cold API answers in the bench: validated and refused before any table is
 * read (`POST /events` without a name, 422). The floor answers the same (floor-handler.ts).
 */
const FIRST_VALIDATED_REQUEST = restEvent('POST', '/events', { apiKeyId: 'bench', body: '{}' });

/** Per module: a list route of it, and how it refuses `?limit=0` (sla-errors answers 400). */
const FIRST_MODULE_REQUESTS: readonly (readonly [string, string, number])[] = [
  ['events', '/events', 422],
  ['enrollments', '/enrollments', 422],
  ['customers', '/customers', 422],
  ['sla-errors', '/sla-errors', 400],
  ['webhooks', '/webhooks', 422],
];

/**
 * Every Lambda of the stack, bundled by the function the CDK construct uses (infra/bundling.ts)
 * with the bundle description the stack gives it (read from the stack itself, built offline), plus
 * the floor (Hono and the DynamoDB document client, same bundling) and the API as it was bundled
 * before #10 (NodejsFunction's options, no plugins). Each is imported by a fresh `node` with the
 * environment the stack gives it, tokens replaced by placeholders; the master secret (by its ARN,
 * as deployed) comes from a local stand-in for Secrets Manager, so a function that reads a secret
 * as it starts pays for the client and a call (not the network's round trip). The authorizer reads
 * its usage key through the Parameters and Secrets Lambda Extension, as deployed: the same
 * stand-in answers as the extension does (its port in the function's environment), so the
 * `authorizer` rows pay for a local HTTP call, not for the extension's own call to Secrets Manager
 * (on AWS, inside the extension's process). The `(Secrets Manager client)` rows beside them are
 * the same bundle without the extension: the client reads the key, as before the extension.
 * The runs interleave the functions, so a busy moment of the machine hits all of them.
 */
export async function lambdaBundles(
  repoRoot: string,
  settings: LambdaBundleSettings,
): Promise<LambdaBundles> {
  const workDir = await mkdtemp(join(tmpdir(), 'roster-bench-lambda-'));
  const secrets = await benchSecrets();
  try {
    const functions = await deployedFunctions(repoRoot);
    const probe = join(workDir, 'probe.mjs');
    await writeFile(
      probe,
      [
        `const MARK = ${JSON.stringify(PROBE_MARK)};`,
        // The Node.js runtime's global, which a streaming function (exports) calls as it loads.
        'globalThis.awslambda ??= { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };',
        'const started = performance.now();',
        'const { handler } = await import(process.argv[2]);',
        'const imported = performance.now();',
        'let status;',
        'let principalId;',
        'if (process.argv[3]) {',
        '  const context = { awsRequestId: "bench-1", getRemainingTimeInMillis: () => 10000 };',
        '  const answer = await handler(JSON.parse(process.argv[3]), context);',
        '  status = answer?.statusCode;',
        '  principalId = answer?.principalId;',
        '}',
        'const done = performance.now();',
        // The function's own log lines go to stdout too: the result is the last line, marked.
        'process.stdout.write(`\\n${MARK}${JSON.stringify({ importMs: imported - started, requestMs: done - imported, totalMs: done - started, status, principalId })}\\n`);',
        'process.exit(0);',
      ].join('\n'),
    );

    // One bundle per description (a module's tasks share theirs), as CDK stages them.
    const bundles = new Map<
      string,
      {
        file: string;
        bytes: number;
        initPathFiles: number;
        totalBytes: number;
        initPathInputs: LambdaBundleRow['initPathInputs'];
      }
    >();
    const bundleOf = async (spec: FunctionBundle) => {
      const key = JSON.stringify(spec);
      let found = bundles.get(key);
      if (!found) {
        const built = await bundleFunction(repoRoot, spec, join(workDir, `b${bundles.size}`));
        // (`totalBytes ?? bytes`: a single-file bundle, as before the split, is all init path.)
        found = {
          file: built.file,
          bytes: built.bytes,
          initPathFiles: initPathOf(built.metafile, relative(repoRoot, built.file)).length,
          totalBytes: built.totalBytes ?? built.bytes,
          initPathInputs: initPathInputs(built, repoRoot),
        };
        bundles.set(key, found);
      }
      return found;
    };

    const targets: {
      name: string;
      file: string;
      bytes: number;
      initPathFiles: number;
      totalBytes: number;
      initPathInputs: LambdaBundleRow['initPathInputs'];
      env: Record<string, string>;
      /** A first request after the import, and the status (or the principal) it must get. */
      request?: { event: unknown; status?: number; principalId?: string };
    }[] = [];
    const floor = await bundleOf({ entry: 'bench/support/floor-handler.ts', http: true });
    // Measured like the functions: the same NODE_OPTIONS (source maps) and credentials.
    targets.push({
      name: 'floor',
      ...floor,
      env: { ...lambdaEnvironment({}, secrets), NODE_OPTIONS: '--enable-source-maps' },
    });
    // The same request the API's first validated request is, answered the floor's way (422).
    targets.push({
      name: 'floor + first validated request',
      ...floor,
      env: targets[0]?.env ?? {},
      request: { event: FIRST_VALIDATED_REQUEST, status: 422 },
    });
    // Not a target: the floor plus what every Roster route is declared with (see the file).
    targets.push({
      name: 'floor + zod/mini + route layer',
      ...(await bundleOf({ entry: 'bench/support/floor-zod-handler.ts', http: true })),
      env: targets[0]?.env ?? {},
    });
    const before = await bundleAsBefore(repoRoot, join(workDir, 'before', 'index.mjs'));
    for (const fn of functions) {
      const env = lambdaEnvironment(fn.environment, secrets);
      targets.push({ name: fn.name, ...(await bundleOf(fn.bundle)), env });
      if (fn.name === 'authorizer') {
        // Its first call, an API key passed on to the gateway's usage plans: what the first
        // caller of a cold authorizer waits for beyond the import.
        const firstCall = { event: authorizerEvent('bench-api-key'), principalId: 'api-key' };
        targets.push({
          name: 'authorizer + first call',
          ...(await bundleOf(fn.bundle)),
          env,
          request: firstCall,
        });
        // Without the extension: the usage key read by Secrets Manager's client (the stand-in).
        const { PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: _port, ...withoutExtension } = env;
        targets.push({
          name: 'authorizer (Secrets Manager client)',
          ...(await bundleOf(fn.bundle)),
          env: withoutExtension,
        });
        targets.push({
          name: 'authorizer (Secrets Manager client) + first call',
          ...(await bundleOf(fn.bundle)),
          env: withoutExtension,
          request: firstCall,
        });
      }
      if (fn.bundle.entry === API_ENTRY) {
        targets.push({
          name: 'api (before #10)',
          ...before,
          initPathFiles: 1,
          totalBytes: before.bytes,
          initPathInputs: [],
          env,
        });
        const api = await bundleOf(fn.bundle);
        // The first request a cold API answers: validated and refused before any table is read.
        targets.push({
          name: 'api + first validated request',
          ...api,
          env,
          request: { event: FIRST_VALIDATED_REQUEST, status: 422 },
        });
        // The first request to each module whose code loads on the first request to its routes
        // (docs/decisions/lazy-modules.md): a list asked for with a limit out of range, refused
        // before any table is read — the module's chunk loaded and its services built.
        for (const [module, path, status] of FIRST_MODULE_REQUESTS) {
          targets.push({
            name: `api + first request to ${module}`,
            ...api,
            env,
            request: {
              event: restEvent('GET', path, { apiKeyId: 'bench', query: { limit: '0' } }),
              status,
            },
          });
        }
        // A bearer token: aws-jwt-verify loads on this first use (a malformed token, no JWKS).
        targets.push({
          name: 'api + first bearer token',
          ...api,
          env,
          request: {
            event: restEvent('GET', '/events', { authorization: 'Bearer not.a.token' }),
            status: 401,
          },
        });
        // The first request that needs a key derived from the master secret: a list's cursor,
        // checked against its signature before any table is read (a forged one, 400). The secret
        // comes from the Secrets Manager stand-in (the SDK's work, not the network's).
        targets.push({
          name: 'api + first key (Secrets Manager)',
          ...api,
          env,
          request: {
            event: restEvent('GET', '/events', {
              apiKeyId: 'bench',
              query: { cursor: 'A'.repeat(43) },
            }),
            status: 400,
          },
        });
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
    const requests = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const problems: string[] = [];
    for (let round = 0; round < settings.runs; round++) {
      for (const target of targets) {
        try {
          const args = [probe, pathToFileURL(target.file).href];
          if (target.request) args.push(JSON.stringify(target.request.event));
          const { stdout } = await run(process.execPath, args, {
            env: { PATH: process.env.PATH ?? '', ...target.env },
            timeout: 30_000,
          });
          const line = stdout.split('\n').find((l) => l.startsWith(PROBE_MARK)) ?? '';
          const probed = JSON.parse(line.slice(PROBE_MARK.length)) as {
            importMs: number;
            requestMs: number;
            totalMs: number;
            status?: number;
            principalId?: string;
          };
          const expected = target.request;
          if (
            expected &&
            (probed.status !== expected.status || probed.principalId !== expected.principalId)
          ) {
            problems.push(
              `${target.name}: answered ${probed.status ?? probed.principalId}, not ${expected.status ?? expected.principalId}`,
            );
          }
          runs.get(target.name)?.push(target.request ? probed.totalMs : probed.importMs);
          if (target.request) requests.get(target.name)?.push(probed.requestMs);
        } catch (error) {
          const message = (error as { stderr?: string }).stderr?.split('\n').slice(0, 3).join(' ');
          problems.push(`${target.name}: import failed (${message ?? String(error)})`);
        }
      }
    }
    const rows = targets.map((target) => {
      const initRunsMs = (runs.get(target.name) ?? []).map((ms) => Math.round(ms * 10) / 10);
      const requestRuns = requests.get(target.name) ?? [];
      return {
        name: target.name,
        bytes: target.bytes,
        initPathFiles: target.initPathFiles,
        totalBytes: target.totalBytes,
        initRunsMs,
        initMedianMs: median(initRunsMs),
        ...(target.request ? { requestMedianMs: Math.round(median(requestRuns) * 10) / 10 } : {}),
        initPathInputs: target.initPathInputs,
      };
    });
    const byName = new Map(rows.map((row) => [row.name, row]));
    const over = (name: string, floorName = 'floor') =>
      (byName.get(name)?.initMedianMs ?? Number.NaN) /
      (byName.get(floorName)?.initMedianMs ?? Number.NaN);
    const tasks = functions.filter(
      (fn) => fn.bundle.entry !== API_ENTRY && fn.name.includes('/') && fn.name !== 'authorizer',
    );
    return {
      rows,
      targets: {
        apiBytes: byName.get('api')?.bytes ?? Number.NaN,
        apiBytesLimit: API_BYTES_LIMIT,
        apiInitOverFloor: over('api'),
        apiInitLimit: API_INIT_LIMIT,
        apiFirstRequestOverFloor: over(
          'api + first validated request',
          'floor + first validated request',
        ),
        tasksInitOverFloor: Math.max(...tasks.map((fn) => over(fn.name))),
        authorizerInitOverFloor: over('authorizer'),
        otherFunctionsLimit: OTHER_FUNCTIONS_LIMIT,
      },
      problems: [...new Set(problems)],
    };
  } finally {
    await secrets.close();
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
 * A function's environment with placeholders where CloudFormation would fill values in; the
 * secrets' ARNs (the master secret's, the usage key's) are answered by the stand-in, as Secrets
 * Manager's endpoint and, for a function given the extension, on the extension's port.
 */
function lambdaEnvironment(
  variables: Record<string, unknown>,
  secrets: { endpoint: string; port: number },
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    // Lambda's execution role, as Lambda gives it (never used: nothing is sent at init).
    AWS_ACCESS_KEY_ID: 'ASIABENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: BENCH_SESSION_TOKEN,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
  };
  for (const [name, value] of Object.entries(variables)) {
    if (name === 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT') {
      env[name] = String(secrets.port);
      continue;
    }
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
  if (name === 'TOKEN_USAGE_KEY_ARN') return USAGE_KEY_ARN;
  if (name === 'APP_SECRET_ARN') return MASTER_SECRET_ARN;
  if (name === 'CORS_ORIGINS') return '*';
  return undefined;
}

const MASTER_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-master';
const USAGE_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-usage-key';
const BENCH_SESSION_TOKEN = 'bench';

/**
 * Answers GetSecretValue on a local port: the authorizer's usage key, and the master secret — as
 * Secrets Manager (the SDK's JSON protocol) and as the Parameters and Secrets Lambda Extension
 * (with the session token).
 */
const benchSecrets = () =>
  secretsManagerStandIn(
    {
      [USAGE_KEY_ARN]: 'bench-usage-key-value-0123456789',
      [MASTER_SECRET_ARN]: Buffer.alloc(32, 5).toString('base64url'),
    },
    { sessionToken: BENCH_SESSION_TOKEN },
  );

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

/** A REST API (v1) proxy event, as API Gateway sends the API function one. */
function restEvent(
  method: string,
  path: string,
  options: {
    apiKeyId?: string;
    body?: string;
    authorization?: string;
    query?: Record<string, string>;
  } = {},
): unknown {
  const headers: Record<string, string> = {
    host: 'bench.execute-api.us-east-1.amazonaws.com',
    ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(options.authorization ? { authorization: options.authorization } : {}),
  };
  return {
    httpMethod: method,
    path,
    resource: '/{proxy+}',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: options.query
      ? Object.fromEntries(Object.entries(options.query).map(([k, v]) => [k, [v]]))
      : null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    isBase64Encoded: false,
    body: options.body ?? null,
    requestContext: {
      requestId: 'bench-request',
      stage: 'bench',
      path,
      identity: { apiKeyId: options.apiKeyId ?? null, sourceIp: '127.0.0.1' },
    },
  };
}

/** API Gateway's REQUEST authorizer event for a call that presents an API key. */
function authorizerEvent(apiKey: string): unknown {
  return {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:000000000000:bench/prod/GET/events',
    resource: '/events',
    path: '/events',
    httpMethod: 'GET',
    headers: { 'x-api-key': apiKey },
    multiValueHeaders: { 'x-api-key': [apiKey] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'bench-authorizer', stage: 'prod' },
  };
}

/**
 * Bytes on the init path by package (`node_modules/<package>`) or source folder
 * (`src/<area>/<name>`), from the bundle's metafile, largest first; the ten largest.
 */
function initPathInputs(
  built: Awaited<ReturnType<typeof bundleFunction>>,
  repoRoot: string,
): LambdaBundleRow['initPathInputs'] {
  const { metafile } = built;
  const byInput = new Map<string, number>();
  for (const output of initPathOf(metafile, relative(repoRoot, built.file))) {
    for (const [input, { bytesInOutput }] of Object.entries(
      metafile.outputs[output]?.inputs ?? {},
    )) {
      const name = input.includes('node_modules/')
        ? input.replace(/.*node_modules\/((?:@[^/]+\/)?[^/]+).*/, '$1')
        : input.replace(/^(src\/[^/]+\/[^/]+).*/, '$1');
      byInput.set(name, (byInput.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...byInput]
    .map(([input, bytes]) => ({ input, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 10);
}
