import { ConfigError, loadConfig } from '../../platform/config.js';
import { LocalStartError } from './dynamodb-local.js';
import { startLocalDatabase } from './local-database.js';
import type { LocalRuntime } from './server.js';

// The SDK's notice that its 2027 releases will need Node 22 is about upgrades, not this run; the
// lock file pins the SDK, and the README says which Node versions are supported.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** `npm start`: the whole system on this machine, no AWS account needed. */
async function main(): Promise<void> {
  // Everything this process and DynamoDB Local (which inherits it) create is owner-only: the data
  // directory holds keys, secrets and password hashes.
  process.umask(0o077);
  // Read before anything else: whoever sees the banner may kill our parent at once, and a
  // parent read after that would already be the reaper we were handed to.
  const parent = process.ppid;
  let runtime: LocalRuntime | undefined;
  let stopCode: number | undefined;
  const stop = async (code: number) => {
    if (stopCode !== undefined) return;
    stopCode = code;
    // Asked to stop while still starting: the start below finishes, then stops what it started.
    if (!runtime) return;
    await runtime.stop();
    process.exit(code);
  };
  // Handlers go in first, so a signal during start-up cannot leave DynamoDB Local running.
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  process.once('SIGHUP', () => void stop(0));
  // A parent killed outright (kill -9 on `npm start`) sends no signal: notice the reparenting
  // and stop, so no server or DynamoDB Local outlives the command that started it.
  setInterval(() => {
    if (process.ppid !== parent) void stop(0);
  }, 500).unref();

  // DynamoDB Local's JVM starts first, and the app's modules load while it does (about a second
  // saved on every start). The platform's settings are all it needs; every module's settings are
  // checked just after, before anything is served.
  const database = startLocalDatabase(loadConfig(process.env, []));
  database.catch(() => {});
  let config: ReturnType<typeof loadConfig>;
  let modules: typeof import('../../modules/index.js').modules;
  let startLocalRuntime: typeof import('./server.js').startLocalRuntime;
  try {
    [{ modules }, { startLocalRuntime }] = await Promise.all([
      import('../../modules/index.js'),
      import('./server.js'),
    ]);
    config = loadConfig(process.env, modules);
  } catch (error) {
    await (await database.catch(() => undefined))?.stop();
    throw error;
  }
  runtime = await startLocalRuntime(config, modules, database);
  if (stopCode !== undefined) {
    await runtime.stop();
    process.exit(stopCode);
  }
  void runtime.databaseLost.then((code) => {
    if (stopCode !== undefined) return;
    console.error(`roster: DynamoDB Local exited unexpectedly (code ${code}); stopping.`);
    void stop(1);
  });
  printBanner(runtime);
}

function printBanner(runtime: LocalRuntime): void {
  const keyNote = runtime.apiKeyFile ? ` (kept in ${runtime.apiKeyFile})` : ' (from API_KEYS)';
  const lines = [
    '',
    '  Roster is running',
    '',
    `  API        ${runtime.url}`,
    `  Console    ${runtime.consoleUrl}`,
    `  Docs       ${runtime.url}/docs`,
    `  OpenAPI    ${runtime.url}/openapi.json`,
    `  API key    ${runtime.apiKeys[0]}${keyNote}`,
    `  Data       ${runtime.dataDir}`,
    `  DynamoDB   ${runtime.dynamodbEndpoint}`,
    '',
    `  Try: curl -H 'x-api-key: ${runtime.apiKeys[0]}' ${runtime.url}/events`,
    '  Tokens: npm run users -- add <name>, then POST /auth/token {"username","password"}',
    '  Stop with Ctrl+C.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof LocalStartError || error instanceof ConfigError) {
    console.error(`roster: ${error.message}`);
  } else {
    console.error('roster: failed to start:', error);
  }
  process.exit(1);
});
