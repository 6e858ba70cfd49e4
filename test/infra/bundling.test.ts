import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type BundleResult, bundleFunction, moduleExportName } from '../../infra/bundling.js';
import { API_ENTRY, TASK_ENTRY } from '../../infra/roster-stack.js';
import { modules } from '../../src/modules/index.js';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { ensureTables } from '../../src/platform/dynamo/provision.js';
import { idempotencyTable, tableEnvVar } from '../../src/platform/dynamo/tables.js';
import { projectRoot } from '../support/template.js';
import { timerEnvironment } from '../support/timers.js';

/*
 * The bundling function the CDK construct and the bench share (infra/bundling.ts): what its
 * plugins leave out, what a task Lambda carries, and that the API's bundle boots and answers in a
 * plain `node` process, as Lambda would run it.
 */

const run = promisify(execFile);
let outdir: string;
let api: BundleResult;
let task: BundleResult;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'roster-bundles-'));
  [api, task] = await Promise.all([
    bundleFunction(
      projectRoot,
      { entry: API_ENTRY, http: true, docsAssets: true },
      join(outdir, 'api'),
    ),
    bundleFunction(
      projectRoot,
      { entry: TASK_ENTRY, http: false, modules: ['events'] },
      join(outdir, 'events-task'),
    ),
  ]);
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/**
 * Files that put code in a bundle (paths relative to the project), from esbuild's metafile: a file
 * it read and then dropped (tree-shaken, or side-effect free and unused) adds no bytes.
 */
const inputsOf = (metafile: Metafile) =>
  Object.values(metafile.outputs)
    .filter((output) => output.entryPoint)
    .flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path),
    );

describe('every bundle', () => {
  it('holds zod’s English locale and none of the other ~50', () => {
    for (const { metafile } of [api, task]) {
      const locales = inputsOf(metafile).filter((input) => input.includes('zod/v4/locales/'));
      expect(locales.map((input) => input.replace(/.*locales\//, ''))).toEqual(['en.js']);
    }
  });

  it('takes credentials from the environment (Lambda’s execution role), without the SDK’s chain of providers', () => {
    for (const { metafile } of [api, task]) {
      const inputs = inputsOf(metafile);
      expect(inputs.some((input) => input.includes('@aws-sdk/credential-provider-env'))).toBe(true);
      for (const provider of ['ini', 'sso', 'process', 'web-identity', 'node', 'login']) {
        expect(
          inputs.filter((input) => input.includes(`@aws-sdk/credential-provider-${provider}/`)),
          provider,
        ).toEqual([]);
      }
      expect(inputs.filter((input) => input.includes('@aws-sdk/nested-clients'))).toEqual([]);
    }
  });

  it('keeps only the name and version of the package.json files it imports', () => {
    const bundle = readFileSync(api.file, 'utf8');
    expect(bundle).not.toContain('"devDependencies"');
    expect(bundle).not.toContain('test:integration');
  });
});

describe('a task Lambda’s bundle', () => {
  it('holds its own module and not the others', () => {
    const inputs = inputsOf(task.metafile);
    expect(inputs.some((input) => input.startsWith('src/modules/events/'))).toBe(true);
    for (const other of modules.filter((m) => m.name !== 'events')) {
      expect(
        inputs.filter((input) => input.startsWith(`src/modules/${other.name}/`)),
        other.name,
      ).toEqual([]);
    }
  });

  it('leaves out the HTTP app: no routes, schemas, Hono or OpenAPI generator', () => {
    const inputs = inputsOf(task.metafile);
    // The routes file is there as a stub of its exports, which throw if ever called.
    const [output] = Object.values(task.metafile.outputs).filter((o) => o.entryPoint);
    const routes = output?.inputs['src/modules/events/events.routes.ts'];
    expect(routes?.bytesInOutput).toBeLessThan(400);
    for (const left of [
      'events.schemas.ts',
      'src/platform/http/app.ts',
      'node_modules/hono/',
      'node_modules/@hono/',
      'node_modules/@asteasolutions/zod-to-openapi/',
    ]) {
      expect(
        inputs.filter((input) => input.includes(left)),
        left,
      ).toEqual([]);
    }
    expect(task.bytes).toBeLessThan(api.bytes);
  });
});

describe('the API’s bundle, run by node', () => {
  const names = { idempotency: `bundle${randomBytes(4).toString('hex')}-idempotency` };

  beforeAll(async () => {
    const { client } = createDynamoClients({
      region: 'us-east-1',
      endpoint: inject('dynamodbEndpoint'),
    });
    await ensureTables(client, [{ definition: idempotencyTable, name: names.idempotency }]);
    client.destroy();
  });

  it('carries the Swagger UI files it serves /docs from', () => {
    expect(existsSync(join(outdir, 'api', 'swagger-ui', 'swagger-ui-bundle.js'))).toBe(true);
  });

  it('starts, and answers /health and /openapi.json with API Gateway’s request id', async () => {
    const requestId = randomUUID();
    const script = `
      const { handler } = await import(${JSON.stringify(api.file)});
      const call = (path) => handler({
        httpMethod: 'GET', path, resource: '/{proxy+}', headers: { host: 'x' },
        multiValueHeaders: { host: ['x'] }, queryStringParameters: null,
        multiValueQueryStringParameters: null, pathParameters: null, stageVariables: null,
        isBase64Encoded: false, body: null,
        requestContext: { requestId: ${JSON.stringify(requestId)}, stage: 'test', path,
          identity: { apiKeyId: null, sourceIp: '127.0.0.1' } },
      }, { awsRequestId: 'lambda-1', getRemainingTimeInMillis: () => 10000 });
      const health = await call('/health');
      const openapi = await call('/openapi.json');
      process.stdout.write(JSON.stringify({ health, openapi: { statusCode: openapi.statusCode, paths: Object.keys(JSON.parse(openapi.body).paths).length } }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
        [tableEnvVar(idempotencyTable)]: names.idempotency,
        APP_SECRET: Buffer.alloc(32, 3).toString('base64url'),
        ...timerEnvironment(modules),
        API_KEY_SOURCE: 'api-gateway',
        AWS_REGION: 'us-east-1',
        LOG_LEVEL: 'silent',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      timeout: 60_000,
    });
    const { health, openapi } = JSON.parse(stdout) as {
      health: { statusCode: number; multiValueHeaders: Record<string, string[]>; body: string };
      openapi: { statusCode: number; paths: number };
    };
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    expect(health.multiValueHeaders['x-request-id']).toEqual([requestId]);
    expect(openapi).toEqual({ statusCode: 200, paths: expect.any(Number) });
    expect(openapi.paths).toBeGreaterThan(20);
  });
});

describe('the modules’ naming convention the bundler relies on', () => {
  it('exports each module from <m>/<m>.module.ts as <m>Module (sla-errors → slaErrorsModule)', async () => {
    expect(moduleExportName('sla-errors')).toBe('slaErrorsModule');
    for (const module of modules) {
      const file = join(projectRoot, 'src', 'modules', module.name, `${module.name}.module.ts`);
      const exported = (await import(file)) as Record<string, unknown>;
      expect(exported[moduleExportName(module.name)], module.name).toBe(module);
    }
  });
});
