import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { SWAGGER_UI_FILES, swaggerUiDir } from '../src/platform/http/docs.js';

/**
 * How every Roster Lambda is bundled: one function here, used by the CDK construct (through
 * `bundleSync`, from CDK's local bundling hook) and by `npm run bench`, so the bundle measured is
 * the bundle deployed. esbuild's JS API, because the size levers are plugins:
 *
 * - zod's locales: zod's namespaces re-export all ~50 locale files (about 260 KB minified), which
 *   esbuild keeps whole once a namespace is used as a value; the bundle gets English only, the
 *   locale zod uses by default (`z.locales` holds `en` alone).
 * - credentials: the SDK's default chain (SSO, INI files, processes, web identity, IMDS, …, about
 *   90 KB with the STS/SSO clients it carries) becomes the environment provider: Lambda puts the
 *   execution role's credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
 * - package.json files imported for a version string keep their name and version only.
 * - a function is given the modules it runs (`modules`): `src/modules/index.ts` becomes a list of
 *   those alone, found by the contract's convention (`<m>/<m>.module.ts` exports `<m>Module`);
 * - a module's code (`<m>.code.ts`, its definition's `load`) is a chunk of its own in the API
 *   (`moduleCode: 'on-first-request'`: it gets the list too, without the source list's loading of
 *   every module's code), loaded on the first request to one of the module's routes; in every
 *   other function that `import()` becomes a static import (the code loads as it starts);
 * - a function that serves no HTTP (`http: false`: task Lambdas, the authorizer) gets the modules'
 *   `*.routes.ts` as stubs and `src/platform/http/` marked side-effect free, so the HTTP app,
 *   its schemas and Hono drop out of the bundle, and none of what the HTTP layer loads with
 *   `import()` (the CSV writer, Powertools idempotency, the OpenAPI document) is in its package;
 * - a function that does (the API, the exports function) gets the OpenAPI document built here, from
 *   the app of its modules as `describeApi` builds it offline, in place of the document's generator
 *   (`src/platform/http/openapi-document.ts`): what the first GET /openapi.json loads is the
 *   document, and zod's JSON Schema conversion never runs in a Lambda.
 *
 * The AWS SDK is bundled (never the runtime's copy): the version the lock file pins, tree-shaken.
 *
 * The output is split (ESM, `splitting`): what the code loads with `import()` — the SDK clients
 * other than DynamoDB's, Powertools Metrics, aws-jwt-verify (src/runtime/aws/ports.ts) — lands
 * in chunks beside the entry, which a function loads when a call first needs them. Lambda
 * imports the entry (and the chunks it imports statically) as it starts: that is the init path,
 * and `bytes` counts it. The chunks sit in the same directory as the entry, so anything that
 * finds files from `import.meta.url` finds them where it did in one file.
 */

/** What one Lambda's bundle holds. */
export interface FunctionBundle {
  /** Entry file, relative to the project root (`src/runtime/lambda/<entry>.ts`). */
  readonly entry: string;
  /** The modules (names) the function runs; every module of src/modules/index.ts if absent. */
  readonly modules?: readonly string[];
  /** Whether it serves the HTTP app (the API); otherwise routes and the HTTP layer are left out. */
  readonly http: boolean;
  /** Copy the Swagger UI files next to the bundle (`swagger-ui/`, the API serves /docs). */
  readonly docsAssets?: boolean;
  /**
   * `on-first-request` (the API): a module's code (`<m>.code.ts`, behind its definition's `load`)
   * is a chunk of its own, which the function loads on the first request to one of the module's
   * routes. Otherwise the `import()` of it is made a static import: the function loads the code
   * as it starts (lambdaContainer), as one bundle.
   */
  readonly moduleCode?: 'on-first-request';
}

export interface BundleResult {
  /** The entry, the handler's module (`<outdir>/index.mjs`). */
  readonly file: string;
  /**
   * Bytes on the init path: the entry and the chunks it imports statically (minified; source
   * maps not counted). The chunks loaded by `import()` are not.
   */
  readonly bytes: number;
  /** Bytes of every file of the package (entry and all chunks; source maps not counted). */
  readonly totalBytes: number;
  /** esbuild's metafile: bytes per input, for the bench's breakdown. */
  readonly metafile: esbuild.Metafile;
}

/** The Node.js version the bundles target: the Lambda runtime's (nodejs24.x). */
export const BUNDLE_TARGET = 'node24';

/** Where the Swagger UI files land inside the deployment package (`/var/task/swagger-ui`). */
export const DOCS_ASSETS_SUBDIR = 'swagger-ui';

/** File name of the handler module inside the package (`index.handler`). */
export const BUNDLE_FILE = 'index.mjs';

// ESM output has no `require`; some bundled CommonJS dependencies still call it for Node
// built-ins. The alias avoids clashing with any identifier esbuild emits.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __rosterCreateRequire } from 'node:module'; const require = __rosterCreateRequire(import.meta.url);";

const NAMESPACE = 'roster-bundle';
const RESOLVING = Symbol('roster-bundle:resolving');

/** Bundles one function into `outdir` (created if missing). */
export async function bundleFunction(
  projectRoot: string,
  bundle: FunctionBundle,
  outdir: string,
): Promise<BundleResult> {
  const root = resolve(projectRoot);
  mkdirSync(outdir, { recursive: true });
  const file = join(outdir, BUNDLE_FILE);
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { [BUNDLE_FILE.replace(/\.mjs$/, '')]: join(root, bundle.entry) },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: BUNDLE_TARGET,
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
    plugins: [
      zodEnglishOnly(),
      lambdaCredentials(),
      packageVersionsOnly(root),
      // The API gets a list too, without the source list's loading of every module's code.
      ...(bundle.modules || bundle.moduleCode === 'on-first-request'
        ? [onlyModules(root, bundle.modules ?? (await allModuleNames()))]
        : []),
      bundle.http ? builtOpenApiDocument(root, bundle.modules) : withoutHttp(root),
      ...(bundle.moduleCode === 'on-first-request' ? [] : [moduleCodeAtStart(root)]),
    ],
  });
  if (bundle.docsAssets) {
    const source = swaggerUiDir();
    const target = join(outdir, DOCS_ASSETS_SUBDIR);
    mkdirSync(target, { recursive: true });
    for (const name of SWAGGER_UI_FILES) copyFileSync(join(source, name), join(target, name));
  }
  const { metafile } = result;
  ownSourceMapsOnly(root, metafile);
  const left = httpImportsLeft(metafile);
  if (left.length > 0) {
    throw new Error(
      `${bundle.entry} serves no HTTP but keeps the HTTP layer's import() of ${left.join(', ')}`,
    );
  }
  const sizeOf = (path: string) => statSync(resolve(root, path)).size;
  const outputs = Object.keys(metafile.outputs).filter((path) => !path.endsWith('.map'));
  const sum = (paths: readonly string[]) => paths.reduce((bytes, path) => bytes + sizeOf(path), 0);
  return {
    file,
    bytes: sum(initPathOf(metafile, relative(root, file))),
    totalBytes: sum(outputs),
    metafile,
  };
}

/**
 * Source maps for the output files that hold code of ours, and none for the others (the SDK's
 * chunks, Powertools', esbuild's helpers): Node, run with `--enable-source-maps` as the functions
 * are, reads and parses the map of every file it loads, and scans the file for its line lengths,
 * as it loads it — about a tenth of a task's start, most of it for library chunks whose frames
 * say little in a stack trace. Such a file loses its `sourceMappingURL` comment (Node then reads
 * nothing) and its map, in the output and in the metafile.
 */
function ownSourceMapsOnly(root: string, metafile: esbuild.Metafile): void {
  const ours = (input: string) => !input.includes('node_modules/') && !input.startsWith(NAMESPACE);
  for (const [path, output] of Object.entries(metafile.outputs)) {
    const map = `${path}.map`;
    if (path.endsWith('.map') || !(map in metafile.outputs)) continue;
    const code = Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0);
    if (code.some(([input]) => ours(input))) continue;
    const file = resolve(root, path);
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'),
    );
    rmSync(resolve(root, map), { force: true });
    delete metafile.outputs[map];
  }
}

/**
 * The output files Lambda loads as it imports the handler (`entry`, as the metafile names it:
 * relative to the project): the entry, and the chunks it imports statically and theirs. Those
 * behind an `import()` are entry points of their own in the metafile, and not on the path.
 */
export function initPathOf(metafile: esbuild.Metafile, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imported of metafile.outputs[path]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  visit(entry.split(sep).join('/'));
  return [...seen];
}

/**
 * The same, synchronously, for CDK's local bundling hook (`tryBundle` must return at once): runs
 * this file as a script in a child process, since esbuild plugins need its asynchronous API.
 */
export function bundleSync(projectRoot: string, bundle: FunctionBundle, outdir: string): void {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', script, JSON.stringify({ projectRoot, bundle, outdir })],
    { cwd: projectRoot, stdio: ['ignore', 'inherit', 'inherit'], encoding: 'utf8' },
  );
  if (child.error) throw child.error;
  if (child.status !== 0) {
    throw new Error(`bundling ${bundle.entry} failed (exit ${child.status ?? child.signal})`);
  }
}

/** zod's locale index → English only (see the file comment). */
function zodEnglishOnly(): esbuild.Plugin {
  return {
    name: 'zod-english-only',
    setup(build) {
      build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
        args.importer.includes(`${sep}node_modules${sep}zod${sep}`)
          ? { path: 'zod-locales', namespace: NAMESPACE, pluginData: args.resolveDir }
          : undefined,
      );
      build.onLoad({ filter: /^zod-locales$/, namespace: NAMESPACE }, (args) => ({
        contents: "export { default as en } from '../locales/en.js';",
        resolveDir: args.pluginData as string,
        loader: 'js',
      }));
    },
  };
}

/**
 * The SDK's default credential provider → the environment's credentials, which is where Lambda
 * puts the execution role's (the module keeps the package's exports).
 */
function lambdaCredentials(): esbuild.Plugin {
  return {
    name: 'lambda-credentials',
    setup(build) {
      build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, (args) => ({
        path: 'credential-provider-node',
        namespace: NAMESPACE,
        pluginData: args.resolveDir,
      }));
      build.onLoad({ filter: /^credential-provider-node$/, namespace: NAMESPACE }, (args) => ({
        contents: [
          "import { fromEnv } from '@aws-sdk/credential-provider-env';",
          '// Lambda: the execution role, in the environment.',
          'export const defaultProvider = (init = {}) => fromEnv(init);',
          'export const credentialsWillNeedRefresh = (c) => c?.expiration !== undefined;',
          'export const credentialsTreatedAsExpired = (c) =>',
          '  c?.expiration !== undefined && c.expiration.getTime() - Date.now() < 300000;',
        ].join('\n'),
        resolveDir: args.pluginData as string,
        loader: 'js',
      }));
    },
  };
}

/** A package.json imported by code (the SDK's user agent, the app's version): name and version. */
function packageVersionsOnly(root: string): esbuild.Plugin {
  return {
    name: 'package-versions-only',
    setup(build) {
      build.onLoad({ filter: /[\\/]package\.json$/ }, (args) => {
        const pkg = JSON.parse(readFileSync(args.path, 'utf8')) as Record<string, unknown>;
        const own = args.path === join(root, 'package.json');
        const keep = own ? ['name', 'version', 'description'] : ['name', 'version'];
        return {
          contents: JSON.stringify(Object.fromEntries(keep.map((key) => [key, pkg[key]]))),
          loader: 'json',
        };
      });
    },
  };
}

/** `src/modules/index.ts` → the listed modules alone, by the contract's naming convention. */
function onlyModules(root: string, names: readonly string[]): esbuild.Plugin {
  const index = join(root, 'src', 'modules', 'index.ts');
  return {
    name: 'only-modules',
    setup(build) {
      build.onResolve({ filter: /[\\/]modules[\\/]index\.js$/ }, async (args) => {
        if (args.pluginData === RESOLVING) return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: RESOLVING,
        });
        return resolved.path === index
          ? { path: 'modules-index', namespace: NAMESPACE }
          : undefined;
      });
      build.onLoad({ filter: /^modules-index$/, namespace: NAMESPACE }, () => {
        const exports = names.map(moduleExportName);
        return {
          contents: [
            ...names.map(
              (name, i) =>
                `import { ${exports[i]} } from './${name}/${name}.module.js'; // ${name}`,
            ),
            `export const modules = [${exports.join(', ')}];`,
          ].join('\n'),
          resolveDir: join(root, 'src', 'modules'),
          loader: 'ts',
        };
      });
    },
  };
}

/**
 * For functions that serve no HTTP: each module's `*.routes.ts` becomes stubs of its exports
 * (throwing if ever called), and `src/platform/http/` is side-effect free, so the HTTP app drops
 * out wherever nothing calls it (`createApi` in the container).
 *
 * What the HTTP layer loads with `import()` (the CSV writer, Powertools idempotency, the OpenAPI
 * document) is left out too: esbuild makes a chunk of every `import()` it reads, even in code it
 * then drops, and those chunks shared code with the init path, which split it into more files.
 * The import is external, so it has no chunk; should one outlive the HTTP app, the build fails
 * (`httpImportsLeft`) rather than ship a function that fails when it gets there.
 */
function withoutHttp(root: string): esbuild.Plugin {
  const modulesDir = join(root, 'src', 'modules') + sep;
  const httpDir = join(root, 'src', 'platform', 'http') + sep;
  return {
    name: 'without-http',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) =>
        args.kind === 'dynamic-import' && args.importer.startsWith(httpDir)
          ? { path: httpImportPath(args.path), external: true }
          : undefined,
      );
      build.onResolve({ filter: /\.js$/ }, async (args) => {
        if (args.pluginData === RESOLVING || !args.path.startsWith('.')) return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: RESOLVING,
        });
        if (resolved.errors.length > 0) return undefined;
        if (resolved.path.startsWith(httpDir)) return { path: resolved.path, sideEffects: false };
        return undefined;
      });
      build.onLoad({ filter: /\.routes\.ts$/ }, async (args) => {
        if (!args.path.startsWith(modulesDir)) return undefined;
        const names = await exportNames(args.path);
        return {
          contents: names
            .map(
              (name) =>
                `export const ${name} = () => { throw new Error(${JSON.stringify(
                  `${name}: HTTP routes are not bundled in this function`,
                )}); };`,
            )
            .join('\n'),
          loader: 'js',
        };
      });
    },
  };
}

/** Marks an `import()` of the HTTP layer left out of a function that serves no HTTP. */
const HTTP_IMPORT = 'roster-without-http:';
const httpImportPath = (path: string) => `${HTTP_IMPORT}${path}`;

/** The HTTP layer's `import()`s still in the output of a function that serves no HTTP. */
function httpImportsLeft(metafile: esbuild.Metafile): string[] {
  return Object.values(metafile.outputs).flatMap((output) =>
    output.imports.flatMap((imported) =>
      imported.external && imported.path.startsWith(HTTP_IMPORT)
        ? [imported.path.slice(HTTP_IMPORT.length)]
        : [],
    ),
  );
}

/**
 * The OpenAPI document's generator → the document, built now (only if the bundle holds the
 * generator) from the app of the function's modules, built offline as the CDK stack builds it for
 * the gateway (`describeApi`); the module keeps the generator's exports. (A function that serves
 * no HTTP never reads the generator: `withoutHttp` leaves its `import()` out.)
 */
function builtOpenApiDocument(root: string, modules: FunctionBundle['modules']): esbuild.Plugin {
  const generator = join(root, 'src', 'platform', 'http', 'openapi-document.ts');
  return {
    name: 'built-openapi-document',
    setup(build) {
      build.onLoad({ filter: /[\\/]openapi-document\.ts$/ }, async (args) => {
        if (args.path !== generator) return undefined;
        const contents = [
          '// The document, built when this function was bundled (infra/bundling.ts).',
          `const text = ${JSON.stringify(await openApiDocumentOf(modules))};`,
          'export const openApiDocumentText = () => text;',
          'export const openApiDocument = () => JSON.parse(text);',
        ];
        return { contents: contents.join('\n'), loader: 'js' };
      });
    },
  };
}

/** The document the app of `names` (every module if absent) serves, as text. */
async function openApiDocumentOf(names: readonly string[] | undefined): Promise<string> {
  const [{ modules }, { describeApi }] = await Promise.all([
    import('../src/modules/index.js'),
    import('../src/runtime/describe.js'),
  ]);
  const served = names ? modules.filter((module) => names.includes(module.name)) : modules;
  const response = await describeApi(served).app.request('/openapi.json');
  if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}`);
  return response.text();
}

/** The names a module file exports (its own, read by esbuild without bundling). */
async function exportNames(file: string): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [file],
    bundle: false,
    write: false,
    metafile: true,
    format: 'esm',
    outdir: 'out',
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs).flatMap((output) => output.exports);
}

/**
 * `load: () => import('./<m>.code.js')` in each `<m>.module.ts` → a static import of the code:
 * for a function that loads every module's code as it starts, a chunk would only add a file.
 */
function moduleCodeAtStart(root: string): esbuild.Plugin {
  const modulesDir = join(root, 'src', 'modules') + sep;
  const lazy = /import\((['"])(\.\/[^'"]+\.code\.js)\1\)/g;
  return {
    name: 'module-code-at-start',
    setup(build) {
      build.onLoad({ filter: /\.module\.ts$/ }, async (args) => {
        if (!args.path.startsWith(modulesDir)) return undefined;
        const source = await readFile(args.path, 'utf8');
        const imports: string[] = [];
        const contents = source.replace(
          lazy,
          (_match: string, _quote: string, specifier: string) => {
            const name = `__moduleCode${imports.length}`;
            imports.push(`import * as ${name} from '${specifier}';`);
            return `Promise.resolve(${name})`;
          },
        );
        return imports.length > 0
          ? { contents: `${imports.join('\n')}\n${contents}`, loader: 'ts' }
          : undefined;
      });
    },
  };
}

/** The names of every module of src/modules/index.ts. */
async function allModuleNames(): Promise<string[]> {
  const { modules } = await import('../src/modules/index.js');
  return modules.map((module) => module.name);
}

/** `sla-errors` → `slaErrorsModule`: the export `<m>/<m>.module.ts` must have. */
export function moduleExportName(name: string): string {
  const camel = name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return `${camel}Module`;
}

// As a script: `node --import tsx infra/bundling.ts '{"projectRoot":…,"bundle":…,"outdir":…}'`.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { projectRoot, bundle, outdir } = JSON.parse(process.argv[2] ?? '{}') as {
    projectRoot: string;
    bundle: FunctionBundle;
    outdir: string;
  };
  await bundleFunction(projectRoot, bundle, outdir);
}
