import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/runtime/local/ports.js';

export interface ColdStart {
  /** Spawn → first 200 from /health. */
  readonly readyMs: number;
  /** SIGTERM → process exit (DynamoDB Local stopped with it). */
  readonly stopMs: number;
  /** Whether the runtime's DynamoDB Local was still alive after the runtime exited. */
  readonly orphanedJava: boolean;
}

/**
 * `npm start` from nothing: a fresh data directory, a free port, its own DynamoDB Local. Node is
 * spawned directly (not through npm or npx) so that SIGTERM reaches the runtime itself.
 * With `dataDir`, the start of a runtime on a data directory an earlier start left (tables
 * there, the launcher compiled): the directory is kept for the next run.
 */
export async function measureColdStart(
  repoRoot: string,
  { timeoutMs = 60_000, dataDir: existing }: { timeoutMs?: number; dataDir?: string } = {},
): Promise<ColdStart> {
  const dataDir = existing ?? (await mkdtemp(join(tmpdir(), 'roster-bench-')));
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    PORT: String(port),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
  };
  if (process.env.JAVA_HOME) env.JAVA_HOME = process.env.JAVA_HOME;

  const pidFile = join(dataDir, 'dynamodb', 'dynamodb-local.pid');
  let javaPid: number | undefined;
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/local/main.ts'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  try {
    const deadline = started + timeoutMs;
    let readyMs: number | undefined;
    while (readyMs === undefined) {
      if (hasExited) throw new Error(`the runtime exited before answering: ${stderr.trim()}`);
      if (performance.now() > deadline) throw new Error(`no 200 from /health in ${timeoutMs} ms`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`, {
          signal: AbortSignal.timeout(1000),
        });
        await res.arrayBuffer();
        if (res.status === 200) readyMs = performance.now() - started;
      } catch {
        // not listening yet
      }
      if (readyMs === undefined) await new Promise((r) => setTimeout(r, 25));
    }

    javaPid = readPid(pidFile);
    const stopping = performance.now();
    child.kill('SIGTERM');
    await waitOrKill(child, exited, 15_000);
    const stopMs = performance.now() - stopping;
    return { readyMs, stopMs, orphanedJava: javaPid !== undefined && isAlive(javaPid) };
  } finally {
    if (!hasExited) await waitOrKill(child, exited, 0);
    // The runtime's own DynamoDB Local, by its recorded id: left behind only if the runtime
    // failed to stop it (reported above), never to outlive this benchmark.
    javaPid ??= readPid(pidFile);
    if (javaPid !== undefined && isAlive(javaPid)) process.kill(javaPid, 'SIGKILL');
    if (!existing) await rm(dataDir, { recursive: true, force: true });
  }
}

async function waitOrKill(
  child: ReturnType<typeof spawn>,
  exited: Promise<void>,
  graceMs: number,
): Promise<void> {
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The process id recorded in `file` (e.g. `<DATA_DIR>/dynamodb/dynamodb-local.pid`), if any. */
export function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
