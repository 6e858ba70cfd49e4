import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type BundleResult, bundleFunction, moduleExportName } from '../../infra/bundling.js';
import { API_ENTRY, EXPORTS_ENTRY, TASK_ENTRY } from '../../infra/roster-stack.js';
import { AUTHORIZER_ENTRY } from '../../src/modules/auth/auth.infra.js';
import { modules } from '../../src/modules/index.js';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { ensureTables } from '../../src/platform/dynamo/provision.js';
import { idempotencyTable, tableEnvVar } from '../../src/platform/dynamo/tables.js';
import { describeApi } from '../../src/runtime/describe.js';
import { type SecretsManagerStandIn, secretsManagerStandIn } from '../support/secrets-manager.js';
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
let exportsFn: BundleResult;
let task: BundleResult;
let authorizer: BundleResult;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'roster-bundles-'));
  [api, exportsFn, task, authorizer] = await Promise.all([
    bundleFunction(
      projectRoot,
      { entry: API_ENTRY, http: true, docsAssets: true },
      join(outdir, 'api'),
    ),
    bundleFunction(projectRoot, { entry: EXPORTS_ENTRY, http: true }, join(outdir, 'exports')),
    bundleFunction(
      projectRoot,
      { entry: TASK_ENTRY, http: false, modules: ['events'] },
      join(outdir, 'events-task'),
    ),
    bundleFunction(
      projectRoot,
      { entry: AUTHORIZER_ENTRY, http: false, modules: ['auth'] },
      join(outdir, 'authorizer'),
    ),
  ]);
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/** Files that put code in `outputs` (paths relative to the project): a file esbuild read and then
 * dropped (tree-shaken, or side-effect free and unused) adds no bytes. */
const inputsIn = (outputs: readonly Metafile['outputs'][string][]) => [
  ...new Set(
    outputs.flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path),
    ),
  ),
];

/** Every file of the package (the entry and all its chunks), source maps aside. */
const assetOutputs = (metafile: Metafile) =>
  Object.entries(metafile.outputs).filter(([path]) => !path.endsWith('.map'));

/**
 * What Lambda loads when it imports the handler: the entry and the chunks it imports statically,
 * and theirs; not the chunks behind an `import()`, loaded when a call first needs them.
 */
const initPathOf = (metafile: Metafile): string[] => {
  // Chunks behind an `import()` are entry points too, in the metafile: the handler's is index.mjs.
  const entry = Object.keys(metafile.outputs).find((path) => path.endsWith('/index.mjs'));
  const seen = new Set<string>();
  const visit = (path: string | undefined) => {
    if (!path || seen.has(path)) return;
    seen.add(path);
    for (const imported of metafile.outputs[path]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  visit(entry);
  return [...seen];
};

/** Files that put code anywhere in the package. */
const inputsOf = (metafile: Metafile) => inputsIn(assetOutputs(metafile).map(([, o]) => o));

/** Files that put code on the init path. */
const initInputsOf = (metafile: Metafile) =>
  inputsIn(initPathOf(metafile).flatMap((path) => metafile.outputs[path] ?? []));

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

/** Packages a function loads when a call first needs them, never as it starts. */
const ON_FIRST_USE = [
  '@aws-sdk/client-sqs/',
  '@aws-sdk/client-sfn/',
  '@aws-sdk/client-eventbridge/',
  '@aws-sdk/client-scheduler/',
  '@aws-sdk/client-secrets-manager/',
  '@aws-sdk/client-cognito-identity-provider/',
  '@aws-lambda-powertools/metrics/',
  'aws-jwt-verify/',
  // The calendar routes' renderer, the ticket route's QR codes, and what a request with an
  // Idempotency-Key needs (Powertools idempotency and the JMESPath engine its config compiles).
  'ical-generator/',
  'qrcode/',
  'pngjs/',
  '@aws-lambda-powertools/idempotency/',
  '@aws-lambda-powertools/jmespath/',
  // Webhook signing (Standard Webhooks and what it hashes and encodes with), loaded with the
  // sender by the first delivery; CSV writing, by the first CSV answer.
  'standardwebhooks/',
  'fast-sha256/',
  '@stablelib/base64/',
  'csv-stringify/',
];

/** Packages no function carries at all (no longer a dependency). */
const NOWHERE = [
  '@aws-lambda-powertools/parameters/',
  // The route layer and the OpenAPI document are Roster's own (src/platform/http/routes.ts).
  '@hono/zod-openapi/',
  '@hono/zod-validator/',
  '@asteasolutions/zod-to-openapi/',
  'openapi3-ts/',
];

describe('what a function loads as it starts (its init path)', () => {
  it('holds the DynamoDB client (but for the authorizer) and none of the other clients, Powertools Metrics and idempotency, aws-jwt-verify, the route-only renderers, webhook signing or CSV writing', () => {
    for (const [name, bundle] of Object.entries({ api, exports: exportsFn, task, authorizer })) {
      const inputs = initInputsOf(bundle.metafile);
      expect(
        inputs.some((input) => input.includes('@aws-sdk/client-dynamodb/')),
        name,
      ).toBe(bundle !== authorizer);
      for (const lazy of ON_FIRST_USE) {
        expect(
          inputs.filter((input) => input.includes(`node_modules/${lazy}`)),
          `${name}: ${lazy}`,
        ).toEqual([]);
      }
      for (const gone of NOWHERE) {
        expect(
          inputsOf(bundle.metafile).filter((input) => input.includes(`node_modules/${gone}`)),
          `${name}: ${gone}`,
        ).toEqual([]);
      }
    }
  });

  it('holds no classic zod: every schema it builds is zod/mini', () => {
    for (const [name, bundle] of Object.entries({ api, exports: exportsFn, task, authorizer })) {
      expect(
        initInputsOf(bundle.metafile).filter((input) =>
          input.includes('node_modules/zod/v4/classic/'),
        ),
        name,
      ).toEqual([]);
    }
  });

  it('leaves them in chunks of the package, which the asset carries', () => {
    const inputs = inputsOf(api.metafile);
    for (const lazy of ON_FIRST_USE) {
      expect(
        inputs.filter((input) => input.includes(`node_modules/${lazy}`)).length,
        lazy,
      ).toBeGreaterThan(0);
    }
    for (const bundle of [api, task, authorizer]) {
      const files = assetOutputs(bundle.metafile).map(([path]) => resolve(projectRoot, path));
      expect(files.length).toBeGreaterThan(1);
      for (const file of files) {
        expect(file.startsWith(join(bundle.file, '..')), file).toBe(true);
        expect(existsSync(file), file).toBe(true);
      }
    }
    // The init path is what `bytes` counts; the package holds more.
    expect(api.bytes).toBeLessThan(api.totalBytes);
  });
});

describe('the authorizer’s init path', () => {
  it('holds what checking an API key or a bearer token needs, not the container: no DynamoDB, no module’s services, no logger', () => {
    const inputs = initInputsOf(authorizer.metafile);
    for (const left of [
      'node_modules/@aws-sdk/',
      'node_modules/@smithy/',
      'node_modules/@aws-lambda-powertools/logger/',
      'src/modules/',
      'src/runtime/container.ts',
      'src/platform/dynamo/client.ts',
      'src/platform/dynamo/table.ts',
    ]) {
      expect(
        inputs.filter((input) => input.includes(left)),
        left,
      ).toEqual([]);
    }
    expect(inputs).toContain('src/platform/http/gateway-authorizer.ts');
  });
});

describe('the authorizer’s bundle, run by node', () => {
  const USAGE_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bundle-usage-key';
  const USAGE_KEY = 'bundle-usage-key-0123456789abcdef';
  // Lambda's execution role's session token: the extension takes it as its caller's credential.
  const SESSION_TOKEN = 'bundle-session-token';
  /** Secrets Manager, answering GetSecretValue with the usage key (or refusing, when told to). */
  let usageKeys: SecretsManagerStandIn;
  beforeAll(async () => {
    usageKeys = await secretsManagerStandIn({ [USAGE_KEY_ARN]: USAGE_KEY });
  });
  afterAll(() => usageKeys.close());

  /**
   * Starts the bundle in a fresh node (as Lambda's init would) and makes `calls` to it; `loaded`:
   * the files of the bundle node had loaded when the import ended. `env` is added to the
   * function's environment as the stack gives it.
   */
  const startAndCall = async (
    calls: Record<string, string>[],
    env: Record<string, string> = {},
  ) => {
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({
        load(url, context, nextLoad) {
          loaded.push(url);
          return nextLoad(url, context);
        },
      });
      let handler;
      try {
        ({ handler } = await import(${JSON.stringify(pathToFileURL(authorizer.file).href)}));
      } catch (error) {
        process.stdout.write(JSON.stringify({ started: false, error: String(error) }));
        process.exit(0);
      }
      const loadedAtStart = loaded.filter((url) => url.startsWith('file:'));
      const answers = [];
      for (const headers of ${JSON.stringify(calls)}) {
        try {
          const result = await handler({ type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:000000000000:api/prod/GET/events', headers });
          answers.push({ principalId: result.principalId, usageIdentifierKey: result.usageIdentifierKey });
        } catch (error) {
          answers.push({ thrown: error.message });
        }
      }
      process.stdout.write(JSON.stringify({ started: true, answers, loaded: loadedAtStart }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        // As the stack gives it (auth.infra.ts): the pool, its app client, the usage key's ARN.
        COGNITO_USER_POOL_ID: 'us-east-1_Test0000',
        COGNITO_CLIENT_ID: 'testclient0000',
        TOKEN_USAGE_KEY_ARN: USAGE_KEY_ARN,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: usageKeys.endpoint,
        AWS_ACCESS_KEY_ID: 'ASIATEST',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_SESSION_TOKEN: SESSION_TOKEN,
        AWS_REGION: 'us-east-1',
        LOG_LEVEL: 'silent',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      timeout: 30_000,
    });
    return JSON.parse(stdout) as {
      started: boolean;
      error?: string;
      answers?: { principalId?: string; usageIdentifierKey?: string; thrown?: string }[];
      loaded?: string[];
    };
  };

  it('reads the usage key once, as it starts; passes an API key on, refuses the usage key as one, and falls back to the key when a bearer token is not valid', async () => {
    usageKeys.refuse = 0;
    const before = usageKeys.calls;
    const { started, answers } = await startAndCall([
      { 'x-api-key': 'client-key' },
      { 'x-api-key': USAGE_KEY },
      { authorization: 'Bearer not.a.token' },
      { authorization: 'Bearer not.a.token', 'x-api-key': 'client-key' },
    ]);
    expect(started).toBe(true);
    expect(usageKeys.calls - before).toBe(1);
    expect(answers).toEqual([
      { principalId: 'api-key', usageIdentifierKey: 'client-key' },
      { thrown: 'Unauthorized' },
      { thrown: 'Unauthorized' },
      { principalId: 'api-key', usageIdentifierKey: 'client-key' },
    ]);
  });

  it('fails to start when the usage key cannot be read (API Gateway answers 503 AUTH.UNAVAILABLE), and the next start reads it again', async () => {
    usageKeys.refuse = Number.POSITIVE_INFINITY;
    const refused = await startAndCall([{ 'x-api-key': 'client-key' }]);
    expect(refused.started).toBe(false);
    expect(refused.error).toContain('AccessDeniedException');

    usageKeys.refuse = 0;
    const again = await startAndCall([{ 'x-api-key': 'client-key' }]);
    expect(again.answers).toEqual([{ principalId: 'api-key', usageIdentifierKey: 'client-key' }]);
  });

  describe('with the Parameters and Secrets Lambda Extension (as the stack deploys it)', () => {
    /**
     * Stands in for the extension: answers `GET /secretsmanager/get?secretId=` as it does (the
     * GetSecretValue JSON) when the caller presents the function's session token; refuses (400, as
     * the extension relays a Secrets Manager error) when told to.
     */
    const extension = (port?: number) =>
      secretsManagerStandIn(
        { [USAGE_KEY_ARN]: USAGE_KEY },
        { sessionToken: SESSION_TOKEN, ...(port === undefined ? {} : { port }) },
      );
    /** A port nothing listens on (yet). */
    const freePort = async () => {
      const server = createServer();
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const { port } = server.address() as { port: number };
      await new Promise((done) => server.close(done));
      return port;
    };
    /** The bundle's files behind an `import()` that hold the Secrets Manager client. */
    const secretsManagerChunks = () =>
      assetOutputs(authorizer.metafile)
        .filter(([, output]) =>
          Object.keys(output.inputs).some((input) =>
            input.includes('node_modules/@aws-sdk/client-secrets-manager/'),
          ),
        )
        .map(([path]) => pathToFileURL(resolve(projectRoot, path)).href);
    const bundleFiles = (loaded: readonly string[] | undefined) => {
      const dir = pathToFileURL(join(outdir, 'authorizer')).href;
      return (loaded ?? []).filter((url) => url.startsWith(dir)).sort();
    };
    const initPath = () =>
      initPathOf(authorizer.metafile)
        .map((path) => pathToFileURL(resolve(projectRoot, path)).href)
        .sort();

    it('reads the usage key from the extension, once, as it starts, and loads no file of the bundle beyond its init path (no Secrets Manager client)', async () => {
      expect(secretsManagerChunks().length).toBeGreaterThan(0);
      const server = await extension();
      const { port } = server;
      try {
        const [extensionBefore, sdkBefore] = [server.calls, usageKeys.calls];
        const { started, answers, loaded, error } = await startAndCall(
          [{ 'x-api-key': 'client-key' }, { 'x-api-key': USAGE_KEY }],
          { PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(port) },
        );
        expect(error).toBeUndefined();
        expect(started).toBe(true);
        expect(server.calls - extensionBefore).toBe(1);
        expect(usageKeys.calls - sdkBefore).toBe(0);
        expect(answers).toEqual([
          { principalId: 'api-key', usageIdentifierKey: 'client-key' },
          { thrown: 'Unauthorized' },
        ]);
        expect(bundleFiles(loaded)).toEqual(initPath());
        for (const chunk of secretsManagerChunks()) expect(loaded).not.toContain(chunk);
      } finally {
        await server.close();
      }
    });

    it('waits for an extension that is not listening yet as the function starts', async () => {
      const port = await freePort();
      const starting = startAndCall([{ 'x-api-key': 'client-key' }], {
        PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(port),
      });
      // Well inside the bound the function waits for (and whatever node's start takes).
      await new Promise((done) => setTimeout(done, 300));
      const server = await extension(port);
      try {
        const { started, answers } = await starting;
        expect(started).toBe(true);
        expect(server.calls).toBe(1);
        expect(answers).toEqual([{ principalId: 'api-key', usageIdentifierKey: 'client-key' }]);
      } finally {
        await server.close();
      }
    });

    it('fails to start when the extension answers anything but the secret, or never listens (API Gateway answers 503 AUTH.UNAVAILABLE)', async () => {
      const server = await extension();
      const { port } = server;
      try {
        server.refuse = Number.POSITIVE_INFINITY;
        const refused = await startAndCall([{ 'x-api-key': 'client-key' }], {
          PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(port),
        });
        expect(refused.started).toBe(false);
        expect(refused.error).toContain('400');
        expect(refused.error).not.toContain(USAGE_KEY);

        // Without the session token the extension refuses (401): the function sends it.
        const unauthorized = await startAndCall([{ 'x-api-key': 'client-key' }], {
          PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(port),
          AWS_SESSION_TOKEN: 'another-token',
        });
        expect(unauthorized.started).toBe(false);
        expect(unauthorized.error).toContain('401');

        server.refuse = 0;
        const again = await startAndCall([{ 'x-api-key': 'client-key' }], {
          PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(port),
        });
        expect(again.answers).toEqual([
          { principalId: 'api-key', usageIdentifierKey: 'client-key' },
        ]);
      } finally {
        await server.close();
      }

      const never = await startAndCall([{ 'x-api-key': 'client-key' }], {
        PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(await freePort()),
      });
      expect(never.started).toBe(false);
      expect(never.error).toContain('ECONNREFUSED');
    });
  });
});

describe('source maps', () => {
  it('come with each file that holds code of ours, and with no other (Node reads a file’s map as it loads it)', () => {
    for (const [name, bundle] of Object.entries({ api, task, authorizer })) {
      for (const [path, output] of assetOutputs(bundle.metafile)) {
        const ours = Object.entries(output.inputs).some(
          ([input, { bytesInOutput }]) =>
            bytesInOutput > 0 && !input.includes('node_modules/') && !input.startsWith('roster-'),
        );
        const file = resolve(projectRoot, path);
        const linked = /\/\/# sourceMappingURL=\S+\s*$/.test(readFileSync(file, 'utf8'));
        expect({ name, path, linked, map: existsSync(`${file}.map`) }).toEqual({
          name,
          path,
          linked: ours,
          map: ours,
        });
      }
    }
  });
});

/** The webhook sender: DNS, sockets and signing (node:dns, node:net, node:http(s), standardwebhooks). */
const WEBHOOK_SENDER = 'src/modules/webhooks/webhooks.delivery.ts';

describe('the webhook sender', () => {
  let webhooksTask: BundleResult;

  beforeAll(async () => {
    webhooksTask = await bundleFunction(
      projectRoot,
      { entry: TASK_ENTRY, http: false, modules: ['webhooks'] },
      join(outdir, 'webhooks-task'),
    );
  }, 120_000);

  it('is loaded on first use (a delivery; an endpoint created, changed or given a new secret): in the package of the API, the exports function and the webhooks tasks, on none of their init paths', () => {
    for (const [name, bundle] of Object.entries({
      api,
      exports: exportsFn,
      webhooks: webhooksTask,
    })) {
      expect(inputsOf(bundle.metafile), name).toContain(WEBHOOK_SENDER);
      const init = initInputsOf(bundle.metafile);
      expect(init, name).not.toContain(WEBHOOK_SENDER);
      // The events task bundled above has no webhooks module: the packages, checked here too.
      for (const lazy of ON_FIRST_USE) {
        expect(
          init.filter((input) => input.includes(`node_modules/${lazy}`)),
          `${name}: ${lazy}`,
        ).toEqual([]);
      }
    }
  });
});

/** zod's conversion of schemas to JSON Schema, which builds the OpenAPI document. */
const JSON_SCHEMA_CONVERSION = [
  'node_modules/zod/v4/core/to-json-schema.js',
  'node_modules/zod/v4/core/json-schema-processors.js',
  'node_modules/zod/v4/core/json-schema-generator.js',
];

describe('the OpenAPI document of a function that serves HTTP', () => {
  const generator = 'src/platform/http/openapi-document.ts';

  it('is the document built when the function was bundled, in a chunk loaded by the first request for it, which brings no code of its own', () => {
    for (const [name, bundle] of Object.entries({ api, exports: exportsFn })) {
      const init = initPathOf(bundle.metafile);
      const chunks = assetOutputs(bundle.metafile).filter(
        ([, output]) => generator in output.inputs,
      );
      expect(
        chunks.map(([path]) => init.includes(path)),
        name,
      ).toEqual([false]);
      const [path, chunk] = chunks[0] ?? [];
      expect(Object.keys(chunk?.inputs ?? {}), name).toEqual([generator]);
      // What it imports is on the init path already: loading it loads no other code.
      for (const imported of chunk?.imports ?? []) {
        expect(init, `${name}: ${imported.path}`).toContain(imported.path);
      }
      const text = readFileSync(resolve(projectRoot, path ?? ''), 'utf8');
      expect(text, name).toContain('{"openapi":"3.1.0","info":{"title":"Roster"');
    }
  });

  it('leaves zod’s JSON Schema conversion off the init path, but for what classic zod builds into its schemas', () => {
    for (const [name, bundle] of Object.entries({ api, exports: exportsFn })) {
      const inputs = initInputsOf(bundle.metafile);
      const conversion = inputs.filter((input) => JSON_SCHEMA_CONVERSION.includes(input));
      // Classic zod gives every schema a `toJSONSchema()` method: the conversion comes along with
      // classic zod's schemas, and leaves with them once the schemas are zod/mini.
      const classic = inputs.some((input) => input.startsWith('node_modules/zod/v4/classic/'));
      expect({ name, conversion: conversion.length > 0 && !classic }).toEqual({
        name,
        conversion: false,
      });
    }
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

  it('carries none of what the HTTP layer loads on first use: no CSV writer, Powertools idempotency or OpenAPI document chunk', () => {
    for (const [name, bundle] of Object.entries({ task, authorizer })) {
      const inputs = inputsOf(bundle.metafile);
      for (const left of [
        'node_modules/csv-stringify/',
        'node_modules/@aws-lambda-powertools/idempotency/',
        'node_modules/@aws-lambda-powertools/jmespath/',
        'src/platform/http/openapi-document.ts',
      ]) {
        expect(
          inputs.filter((input) => input.includes(left)),
          `${name}: ${left}`,
        ).toEqual([]);
      }
    }
  });

  it('leaves out the HTTP app: no routes, schemas, Hono or OpenAPI generator', () => {
    const inputs = inputsOf(task.metafile);
    // The routes file is there as a stub of its exports, which throw if ever called.
    const routes = assetOutputs(task.metafile).reduce(
      (bytes, [, output]) =>
        bytes + (output.inputs['src/modules/events/events.routes.ts']?.bytesInOutput ?? 0),
      0,
    );
    expect(routes).toBeGreaterThan(0);
    expect(routes).toBeLessThan(400);
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

  it('starts, answers /health and /openapi.json (the document built with it) with API Gateway’s request id, and loads its chunks on first use', async () => {
    const requestId = randomUUID();
    const script = `
      const { handler } = await import(${JSON.stringify(api.file)});
      const call = (path, headers = {}, { method = 'GET', body = null, apiKeyId = null, query = null } = {}) => handler({
        httpMethod: method, path, resource: '/{proxy+}', headers: { host: 'x', ...headers },
        multiValueHeaders: Object.fromEntries(Object.entries({ host: 'x', ...headers }).map(([k, v]) => [k, [v]])),
        queryStringParameters: query,
        multiValueQueryStringParameters: query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
        pathParameters: null, stageVariables: null,
        isBase64Encoded: false, body,
        requestContext: { requestId: ${JSON.stringify(requestId)}, stage: 'test', path,
          identity: { apiKeyId, sourceIp: '127.0.0.1' } },
      }, { awsRequestId: 'lambda-1', getRemainingTimeInMillis: () => 10000 });
      const health = await call('/health');
      const openapi = await call('/openapi.json');
      const bearer = await call('/events', { authorization: 'Bearer not.a.token' });
      const keyed = () => call(
        '/calendar/feed-link',
        { 'content-type': 'application/json', 'idempotency-key': ${JSON.stringify(randomUUID())} },
        { method: 'POST', body: '{"expiresInDays":"soon"}', apiKeyId: 'bundle-key' },
      );
      const first = await keyed();
      const again = await keyed();
      const askedBefore = await (await fetch(${JSON.stringify(secretsManager.endpoint)} + '/asked')).json();
      // A cursor is checked against its signature before any table is read: the first key.
      const forgedCursor = await call('/events', {}, { apiKeyId: 'bundle-key', query: { cursor: 'A'.repeat(43) } });
      process.stdout.write(JSON.stringify({ health, bearer, askedBefore, forgedCursor: { statusCode: forgedCursor.statusCode, code: JSON.parse(forgedCursor.body).code }, keyed: [first, again].map((r) => ({ statusCode: r.statusCode, replayed: r.multiValueHeaders['idempotent-replayed'] ?? null })), openapi: { statusCode: openapi.statusCode, body: openapi.body } }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
        [tableEnvVar(idempotencyTable)]: names.idempotency,
        // As the stack gives it: the master secret's ARN, read from Secrets Manager (a stand-in).
        APP_SECRET_ARN: MASTER_SECRET_ARN,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
        AWS_ACCESS_KEY_ID: 'ASIATEST',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_SESSION_TOKEN: 'test',
        COGNITO_USER_POOL_ID: 'us-east-1_Test0000',
        COGNITO_CLIENT_ID: 'testclient0000',
        ...timerEnvironment(modules),
        API_KEY_SOURCE: 'api-gateway',
        AWS_REGION: 'us-east-1',
        LOG_LEVEL: 'silent',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      timeout: 60_000,
    });
    const { health, openapi, bearer, keyed, askedBefore, forgedCursor } = JSON.parse(stdout) as {
      health: { statusCode: number; multiValueHeaders: Record<string, string[]>; body: string };
      openapi: { statusCode: number; body: string };
      bearer: { statusCode: number; body: string };
      keyed: { statusCode: number; replayed: string[] | null }[];
      askedBefore: string[];
      forgedCursor: { statusCode: number; code: string };
    };
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    expect(health.multiValueHeaders['x-request-id']).toEqual([requestId]);
    // The document built when bundling, as the app of the same modules serves it.
    const built = await (await describeApi(modules).app.request('/openapi.json')).text();
    expect(openapi.statusCode).toBe(200);
    expect(openapi.body === built).toBe(true);
    expect(Object.keys(JSON.parse(openapi.body).paths).length).toBeGreaterThan(20);
    // The master secret: not read as the function started, nor by requests that derive no key;
    // read once the first cursor had to be checked.
    expect(askedBefore).toEqual([]);
    expect(forgedCursor).toEqual({ statusCode: 400, code: 'PAGINATION.CURSOR_INVALID' });
    expect(secretsManager.asked).toEqual([MASTER_SECRET_ARN]);
    // Verified by aws-jwt-verify, loaded from its chunk on this first bearer token.
    expect(bearer.statusCode).toBe(401);
    expect(JSON.parse(bearer.body)).toMatchObject({ code: 'AUTH.TOKEN_INVALID' });
    // Powertools idempotency, loaded from its chunk by the first request with an Idempotency-Key:
    // the 422 is stored, and the same key and body again replay it.
    expect(keyed).toEqual([
      { statusCode: 422, replayed: null },
      { statusCode: 422, replayed: ['true'] },
    ]);
  });
});

const MASTER_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bundle-master';

/** Secrets Manager with the master secret, noting the ids asked for (`GET /asked`: those). */
let secretsManager: SecretsManagerStandIn;
beforeAll(async () => {
  secretsManager = await secretsManagerStandIn({
    [MASTER_SECRET_ARN]: Buffer.alloc(32, 3).toString('base64url'),
  });
});
afterAll(() => secretsManager.close());

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
