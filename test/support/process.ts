import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { modules } from '../../src/modules/index.js';
import { configVariables } from '../../src/platform/config.js';
import { captureChildOutput } from './log-capture.js';

/** Starting `npm start`'s entry point as a real process, for the local-runtime tests. */

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A copy of this process's environment without any variable the runtime's configuration reads
 * (`configVariables`), for starting the runtime or `npm run users` with only the settings the
 * caller passes.
 */
export function cleanRuntimeEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of configVariables(modules)) delete env[name];
  return env;
}

export interface RosterProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with stdout once `pattern` appears; rejects if the process exits or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export interface StartOptions {
  /**
   * Start it as the leader of a process group of its own (its DynamoDB Local joins it), so that
   * `killGroup` can end the server and the database in one signal, as a crash would.
   */
  readonly ownProcessGroup?: boolean;
}

/** `node` runs the entry point directly; `npm` runs it the README's way, through `npm start`. */
export function startRoster(
  env: Record<string, string | undefined>,
  via: 'node' | 'npm' = 'node',
  options: StartOptions = {},
): RosterProcess {
  const base = cleanRuntimeEnv();
  const [command, args] =
    via === 'npm'
      ? ['npm', ['start', '--silent']]
      : [process.execPath, ['--import', 'tsx', 'src/runtime/local/main.ts']];
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...base, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownProcessGroup ?? false,
  });
  captureChildOutput(child, 'roster');
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => done({ code, signal }));
  });

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput: (pattern, timeoutMs = 60_000) =>
      new Promise((done, fail) => {
        const timer = setTimeout(() => {
          cleanup();
          fail(new Error(`no ${pattern} within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`));
        }, timeoutMs);
        const check = () => {
          if (pattern.test(out)) {
            cleanup();
            done(out);
          }
        };
        const onExit = () => {
          cleanup();
          fail(new Error(`exited before ${pattern}; stdout: ${out}; stderr: ${err}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout?.on('data', check);
        child.once('exit', onExit);
        check();
      }),
  };
}

/** Waits for the exit, killing the process if it takes longer than `timeoutMs`. */
export async function exitOf(
  roster: RosterProcess,
  timeoutMs = 20_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const timer = setTimeout(() => roster.child.kill('SIGKILL'), timeoutMs);
  try {
    return await roster.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Stops a process started by a test, whatever state the test left it in. */
export async function stopRoster(roster: RosterProcess): Promise<void> {
  if (roster.child.exitCode !== null || roster.child.signalCode !== null) return;
  roster.child.kill('SIGTERM');
  await exitOf(roster, 10_000);
}

/**
 * SIGKILL to every process of the group `roster` leads (started with `ownProcessGroup`): the
 * server and its DynamoDB Local die at the same instant, with no chance to clean up.
 */
export function killGroup(roster: RosterProcess): void {
  const pid = roster.child.pid;
  if (pid === undefined) throw new Error('the process has no pid');
  process.kill(-pid, 'SIGKILL');
}

interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly cmdline: string;
}

/** Every process visible in /proc, with its parent and command line (NULs as spaces). */
export function processes(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      found.push({ pid: Number(entry), ppid, cmdline });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Java processes whose command line mentions `needle` (e.g. a DATA_DIR). */
export const javaProcessesMentioning = (needle: string): number[] =>
  processes()
    .filter((p) => /\bjava\b/.test(p.cmdline) && p.cmdline.includes(needle))
    .map((p) => p.pid);

/** Java processes started by `pid`. */
export const javaChildrenOf = (pid: number): number[] =>
  processes()
    .filter((p) => p.ppid === pid && /\bjava\b/.test(p.cmdline))
    .map((p) => p.pid);

/** Kills (by pid) Java processes a failed test may have left behind for `needle`. */
export function killJavaMentioning(needle: string): void {
  for (const pid of javaProcessesMentioning(needle)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Non-empty lines of a process's output. */
export const linesOf = (text: string): string[] =>
  text.split('\n').filter((line) => line.trim().length > 0);

/** The start-up banner's last line: the runtime is serving once it appears. */
export const BANNER_END = /Stop with Ctrl\+C\./;

/** What the start-up banner of `npm start` tells. */
export interface Banner {
  /** `API        http://localhost:<port>` */
  readonly url: string;
  /** `API key    <key> (from API_KEYS | kept in <file>)` */
  readonly apiKey: string;
  /** `DynamoDB   http://localhost:<port>` */
  readonly dynamodb: string;
}

/**
 * Reads the banner's fields from a runtime's stdout; throws (with the output) if one is missing.
 * Plain `Error` rather than `expect`, so that scripts/soak/run.ts can use it outside Vitest.
 */
export function parseBanner(output: string): Banner {
  const field = (label: string) => new RegExp(`^\\s*${label}\\s+(\\S+)`, 'm').exec(output)?.[1];
  const banner = { url: field('API'), apiKey: field('API key'), dynamodb: field('DynamoDB') };
  const missing = Object.entries(banner).flatMap(([name, value]) => (value ? [] : [name]));
  if (missing.length > 0) {
    throw new Error(`the banner has no ${missing.join(', ')}; output: ${output}`);
  }
  return banner as Banner;
}
