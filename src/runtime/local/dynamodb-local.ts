import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort } from './ports.js';

/**
 * DynamoDB Local (AWS's emulator, the jar shipped in the npm package amplify-dynamodb-simulator)
 * as a child process. Only the jar is used; the package's JavaScript is never loaded. It is
 * started through our own launcher (java/RosterDynamoDbLocal.java): the stock one listens on
 * every interface and answers a transaction before committing it (docs/decisions/dynamodb-local.md).
 */

export class LocalStartError extends Error {
  override name = 'LocalStartError';
}

export interface DynamoDbLocalOptions {
  /** Directory for the database files; `undefined` keeps everything in memory (tests). */
  readonly dbPath?: string | undefined;
  readonly port?: number;
  /** How long to wait for the first answer (default 60 s: a busy 2-core machine can take 20). */
  readonly startTimeoutMs?: number;
  /**
   * `stock`: the jar's own launcher (every interface, transactions answered before their commit),
   * only for the bench to show what ours costs. @default 'roster'
   */
  readonly launcher?: 'roster' | 'stock';
}

/** The address DynamoDB Local listens on: this machine only. */
export const DYNAMODB_LOCAL_HOST = '127.0.0.1';
export const DEFAULT_START_TIMEOUT_MS = 60_000;
const LAUNCHER = 'RosterDynamoDbLocal';
/**
 * A JVM tuned for starting fast: the client compiler only (C1; the optimising C2 never pays for
 * its compile time in a local database's life) and the serial collector (one small heap, no
 * collector threads to start). Measured on 2 cores: 1.75 s → 1.25 s to the first answer.
 */
const JVM_START_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];
const LAUNCHER_SOURCE = fileURLToPath(new URL(`./java/${LAUNCHER}.java`, import.meta.url));

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves with the exit code when the process ends, whoever ended it. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

/** Fails with one clear line when no Java runtime can be started. */
export async function checkJava(): Promise<void> {
  await new Promise<void>((done, fail) => {
    const child = spawn(javaCommand(), ['-version'], { stdio: 'ignore' });
    child.once('error', () =>
      fail(
        new LocalStartError(
          'Java runtime not found: DynamoDB Local needs Java 17+. Install it with ' +
            '`sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) or ' +
            '`brew install openjdk@17` (macOS), or set DYNAMODB_ENDPOINT to an existing endpoint.',
        ),
      ),
    );
    child.once('exit', (code) =>
      code === 0
        ? done()
        : fail(new LocalStartError(`\`${javaCommand()} -version\` failed (exit ${code}).`)),
    );
  });
}

export async function startDynamoDbLocal(
  options: DynamoDbLocalOptions = {},
): Promise<DynamoDbLocal> {
  await checkJava();
  const dir = emulatorDir();
  if (!existsSync(join(dir, 'DynamoDBLocal.jar'))) {
    throw new LocalStartError(`DynamoDB Local jar missing under ${dir}: run \`npm install\`.`);
  }
  const port = options.port ?? (await freePort());
  const storage: string[] = ['-inMemory'];
  let pidFile: string | undefined;
  let endpointFile: string | undefined;
  if (options.dbPath) {
    const dbPath = resolve(options.dbPath);
    await mkdir(dbPath, { recursive: true, mode: 0o700 });
    // Owner-only, also for a directory an earlier release created with the default mode.
    await chmod(dbPath, 0o700);
    pidFile = join(dbPath, 'dynamodb-local.pid');
    endpointFile = join(dbPath, ENDPOINT_FILE);
    stopLeftover(pidFile, dbPath);
    storage.splice(0, 1, '-dbPath', dbPath);
  }

  const main =
    options.launcher === 'stock'
      ? ['-jar', join(dir, 'DynamoDBLocal.jar')]
      : ['-cp', classPath(dir, await compiledLauncher(dir)), LAUNCHER];
  const child = spawn(
    javaCommand(),
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      `-Droster.host=${DYNAMODB_LOCAL_HOST}`,
      '-Xms64m',
      ...JVM_START_FLAGS,
      ...main,
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
      ...storage,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const exited = new Promise<number | null>((done) => {
    child.once('exit', (code) => done(code));
    child.once('error', () => done(-1));
  });
  if (pidFile && child.pid) await writeFile(pidFile, String(child.pid));

  const endpoint = `http://${DYNAMODB_LOCAL_HOST}:${port}`;
  try {
    await waitUntilAnswering(endpoint, exited, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGKILL');
    const detail = output.trim().split('\n').slice(-5).join(' | ');
    throw new LocalStartError(
      `DynamoDB Local did not start: ${(error as Error).message}${detail ? ` (${detail})` : ''}`,
    );
  }
  // Lets a second process on the same files (the users CLI) use this one instead of opening them.
  if (endpointFile) await writeFile(endpointFile, endpoint);

  return {
    endpoint,
    port,
    pid: child.pid ?? -1,
    exited,
    stop: async () => {
      if (endpointFile) await rm(endpointFile, { force: true });
      await stopChild(child, exited);
      if (pidFile) await rm(pidFile, { force: true });
    },
  };
}

const ENDPOINT_FILE = 'dynamodb-local.endpoint';

function classPath(dir: string, launcherClasses: string): string {
  return [
    launcherClasses,
    join(dir, 'DynamoDBLocal.jar'),
    join(dir, 'DynamoDBLocal_lib', '*'),
  ].join(delimiter);
}

/**
 * The launcher's classes, compiled once per launcher source and jar into node_modules/.cache
 * (about a second, with the compiler module every Java 17+ runtime image carries, including
 * Debian's openjdk-17-jre-headless). Compiled into a temporary folder then renamed, so that
 * processes starting at once (test workers) never see half a compile.
 */
async function compiledLauncher(dir: string): Promise<string> {
  const source = readFileSync(LAUNCHER_SOURCE);
  const jar = readFileSync(join(dir, 'sha256'), 'utf8');
  const key = createHash('sha256').update(source).update(jar).digest('hex').slice(0, 16);
  const cache = join(dirname(dir), '..', '.cache', 'roster-dynamodb-local');
  const target = join(cache, key);
  if (existsSync(join(target, `${LAUNCHER}.class`))) return target;
  await mkdir(cache, { recursive: true });
  const scratch = await mkdtemp(join(cache, `${key}-`));
  try {
    await run(javaCommand(), [
      '-m',
      'jdk.compiler/com.sun.tools.javac.Main',
      '-nowarn',
      '-proc:none',
      '-cp',
      classPath(dir, scratch),
      '-d',
      scratch,
      LAUNCHER_SOURCE,
    ]);
    await rename(scratch, target).catch((error: NodeJS.ErrnoException) => {
      // Another process finished the same compile first: its classes are as good as ours.
      if (!existsSync(join(target, `${LAUNCHER}.class`))) throw error;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return target;
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString('utf8')).slice(-2000);
    });
    child.once('error', (error) =>
      fail(new LocalStartError(`${command} could not start: ${error.message}`)),
    );
    child.once('exit', (code) =>
      code === 0
        ? done()
        : fail(
            new LocalStartError(
              `compiling the DynamoDB Local launcher failed (exit ${code}): ${errors.trim()}`,
            ),
          ),
    );
  });
}

/**
 * The endpoint of the DynamoDB Local already serving `dbPath` (started by `npm start`, or by
 * another CLI run), if one answers. Two DynamoDB Local processes must not open the same files.
 */
export async function runningDynamoDbLocal(dbPath: string): Promise<string | undefined> {
  let endpoint: string;
  try {
    endpoint = readFileSync(join(resolve(dbPath), ENDPOINT_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
  const client = probeClient(endpoint);
  try {
    return (await answers(client, 2000)) ? endpoint : undefined;
  } finally {
    client.destroy();
  }
}

/** A client for asking DynamoDB Local whether it answers: one attempt, local credentials. */
export function probeClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/** Whether the endpoint answers a ListTables within `timeoutMs`. */
async function answers(client: DynamoDBClient, timeoutMs: number): Promise<boolean> {
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
    return true;
  } catch {
    return false;
  }
}

async function waitUntilAnswering(
  endpoint: string,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<void> {
  const client = probeClient(endpoint);
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`the process exited with code ${exitCode}`);
      if (await answers(client, 1000)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `no answer to ListTables at ${endpoint} within ${timeoutMs / 1000} s (the JVM may still be ` +
        'starting on a busy machine: set DYNAMODB_LOCAL_START_TIMEOUT_SECONDS to wait longer)',
    );
  } finally {
    client.destroy();
  }
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/**
 * A previous run killed with SIGKILL cannot stop its java child; that orphan would hold the
 * database files. Stop it if (and only if) it is DynamoDB Local on this same directory.
 */
function stopLeftover(pidFile: string, dbPath: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes('DynamoDBLocal.jar') && cmdline.includes(dbPath))
      process.kill(pid, 'SIGKILL');
  } catch {
    // not running (or no /proc on this platform): nothing to stop
  }
}
