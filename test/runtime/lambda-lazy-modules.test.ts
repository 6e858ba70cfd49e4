import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleResult, bundleFunction, initPathOf } from '../../infra/bundling.js';
import { API_ENTRY, TASK_ENTRY } from '../../infra/roster-stack.js';
import { modules } from '../../src/modules/index.js';

/*
 * The API Lambda as deployed (infra/bundling.ts, `moduleCode: 'on-first-request'`): each module's
 * code — `<m>.code.ts`, its services and routers — is a chunk of its own, off the init path, and
 * the first request to one of the module's routes loads that module's chunk alone. A task
 * function loads its module's code as it starts: its bundle holds it on the init path.
 */

const run = promisify(execFile);
const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

let workDir: string;
let api: BundleResult;
let task: BundleResult;

/** The API function's environment, as the stack gives it (placeholders), the secret set directly. */
const API_ENVIRONMENT: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'ASIATEST',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_SESSION_TOKEN: 'test',
  API_KEY_SOURCE: 'api-gateway',
  APP_SECRET: Buffer.alloc(32, 3).toString('base64url'),
  TIMER_SCHEDULE_GROUP: 'test-timers',
  OFFER_EXPIRIES_QUEUE_ARN: 'arn:aws:sqs:us-east-1:000000000000:offer-expiries',
  OFFER_EXPIRIES_DLQ_ARN: 'arn:aws:sqs:us-east-1:000000000000:offer-expiries-dlq',
  OFFER_EXPIRIES_TIMER_ROLE_ARN: 'arn:aws:iam::000000000000:role/test-scheduler',
  LOG_LEVEL: 'silent',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** Runs the bundled API's handler in a fresh node (probe.mjs, written by the test below). */
async function probeApi(requests: unknown[], env: Record<string, string>): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [join(workDir, 'probe.mjs'), pathToFileURL(api.file).href, JSON.stringify(requests)],
    { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
  );
  return stdout;
}

/** Each deferring module's chunk (its `<m>.code.ts` entry), by module name. */
function codeChunks(bundle: BundleResult): Map<string, string> {
  const chunks = new Map<string, string>();
  for (const [path, output] of Object.entries(bundle.metafile.outputs)) {
    const name = output.entryPoint?.match(/src\/modules\/([^/]+)\/\1\.code\.ts$/)?.[1];
    if (name) chunks.set(name, resolve(projectRoot, path));
  }
  return chunks;
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'roster-lazy-modules-'));
  [api, task] = await Promise.all([
    bundleFunction(
      projectRoot,
      { entry: API_ENTRY, http: true, moduleCode: 'on-first-request' },
      join(workDir, 'api'),
    ),
    bundleFunction(
      projectRoot,
      { entry: TASK_ENTRY, http: false, modules: ['events'] },
      join(workDir, 'task'),
    ),
  ]);
  await writeFile(
    join(workDir, 'probe.mjs'),
    `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    let handler;
    try {
      ({ handler } = await import(process.argv[2]));
    } catch (error) {
      process.stdout.write(JSON.stringify({ started: false, error: error.message }));
      process.exit(0);
    }
    const atStart = [...loaded];
    const answers = [];
    for (const [method, path, body] of JSON.parse(process.argv[3])) {
      const event = {
        httpMethod: method, path, resource: '/{proxy+}',
        headers: { host: 'test.example', 'content-type': 'application/json' },
        multiValueHeaders: { host: ['test.example'], 'content-type': ['application/json'] },
        queryStringParameters: null, multiValueQueryStringParameters: null,
        pathParameters: { proxy: path.slice(1) }, stageVariables: null, isBase64Encoded: false,
        body,
        requestContext: { requestId: 'r-1', stage: 'test', path, identity: { apiKeyId: 'k-1', sourceIp: '127.0.0.1' } },
      };
      const answer = await handler(event, { awsRequestId: 'a-1', getRemainingTimeInMillis: () => 10000 });
      answers.push({ status: answer.statusCode, loaded: [...loaded] });
    }
    process.stdout.write(JSON.stringify({ started: true, atStart, answers }));
    process.exit(0);
    `,
  );
}, 120_000);

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('the API Lambda’s bundle', () => {
  it('has each deferring module’s code in a chunk of its own, off the init path', () => {
    const chunks = codeChunks(api);
    expect([...chunks.keys()].sort()).toEqual(
      modules
        .filter((module) => module.load)
        .map((module) => module.name)
        .sort(),
    );
    const init = initPathOf(api.metafile, relative(projectRoot, api.file)).map((path) =>
      resolve(projectRoot, path),
    );
    for (const [name, chunk] of chunks) expect(init, name).not.toContain(chunk);
    const inputs = init.flatMap((path) =>
      Object.keys(api.metafile.outputs[relative(projectRoot, path)]?.inputs ?? {}),
    );
    // Its services and routes: none of them as the function starts.
    expect(
      inputs.filter(
        (input) =>
          /src\/modules\/[^/]+\/[^/]+\.(service|routes|schemas)\.ts$/.test(input) &&
          !input.startsWith('src/modules/auth/'),
      ),
    ).toEqual([]);
  });

  it('loads no module’s code as it starts, and a module’s alone on the first request to its routes', async () => {
    const chunks = codeChunks(api);
    const requests = [
      ['GET', '/nowhere', null],
      ['POST', '/events', '{}'],
      ['POST', '/enrollments', '{}'],
    ];
    const stdout = await probeApi(requests, API_ENVIRONMENT);
    const { atStart, answers } = JSON.parse(stdout) as {
      started: boolean;
      atStart: string[];
      answers: { status: number; loaded: string[] }[];
    };
    const modulesIn = (urls: string[]) =>
      [...chunks]
        .filter(([, chunk]) => urls.includes(pathToFileURL(chunk).href))
        .map(([name]) => name);
    expect(modulesIn(atStart)).toEqual([]);
    expect(answers.map(({ status, loaded }) => [status, modulesIn(loaded)])).toEqual([
      [404, []],
      [422, ['events']],
      [422, ['events', 'enrollments']],
    ]);
  });

  it('still fails as it starts when its timers’ configuration is missing (building the services did)', async () => {
    const { TIMER_SCHEDULE_GROUP: _, ...withoutTimers } = API_ENVIRONMENT;
    const result = JSON.parse(await probeApi([], withoutTimers)) as {
      started: boolean;
      error?: string;
    };
    expect(result).toEqual({
      started: false,
      error: expect.stringContaining('timers on queue "offer-expiries" need TIMER_SCHEDULE_GROUP'),
    });
  });
});

describe('a task Lambda’s bundle', () => {
  it('holds its module’s code on its init path, which it loads as it starts, in no chunk of its own', () => {
    expect([...codeChunks(task).keys()]).toEqual([]);
    const inputs = initPathOf(task.metafile, relative(projectRoot, task.file)).flatMap((path) =>
      Object.keys(task.metafile.outputs[path]?.inputs ?? {}),
    );
    expect(inputs).toContain('src/modules/events/events.code.ts');
    expect(inputs).toContain('src/modules/events/events.service.ts');
  });
});
