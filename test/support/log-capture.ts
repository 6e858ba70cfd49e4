import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Every line the test suite's code writes, kept for the secret scan that runs when the suite ends
 * (test/support/global-setup.ts, test/hardening/secret-scan.ts): what each Vitest worker writes
 * to stdout and stderr (where the Powertools Logger writes its JSON lines), what the processes the
 * tests start write (`captureChildOutput`), and what tests print with `console` (vitest.config.ts
 * `onConsoleLog`). One file per writer under test-output/logs/, emptied when a run starts.
 */

export const LOG_CAPTURE_DIR = fileURLToPath(new URL('../../test-output/logs/', import.meta.url));

/** Empties the capture folder (global setup, before any test runs). */
export function resetLogCapture(): void {
  rmSync(LOG_CAPTURE_DIR, { recursive: true, force: true });
  mkdirSync(LOG_CAPTURE_DIR, { recursive: true });
}

/** The file this worker's own stdout and stderr are copied to. */
export const workerCaptureFile = (pid = process.pid): string =>
  join(LOG_CAPTURE_DIR, `worker-${pid}.log`);

type Write = NodeJS.WriteStream['write'];

const TEED = Symbol.for('roster.test.log-capture');

/**
 * Copies everything this process writes to stdout and stderr into its capture file, whoever
 * writes and whatever replaces `write` later: a test that swaps in its own `write` to capture
 * output for itself (test/enrollments/fixtures.ts does) still has every chunk copied here first,
 * because `write` becomes an accessor that wraps whichever function is assigned to it.
 */
export function captureWorkerOutput(): void {
  const marked = process as unknown as Record<symbol, boolean>;
  if (marked[TEED]) return;
  marked[TEED] = true;
  mkdirSync(LOG_CAPTURE_DIR, { recursive: true });
  const fd = openSync(workerCaptureFile(), 'a');
  const copy = (chunk: unknown, encoding: unknown) => {
    try {
      if (typeof chunk === 'string') {
        writeSync(
          fd,
          Buffer.from(chunk, typeof encoding === 'string' ? (encoding as never) : 'utf8'),
        );
      } else if (chunk instanceof Uint8Array) {
        writeSync(fd, chunk);
      }
    } catch {
      // The capture must never break the code under test.
    }
  };
  for (const stream of [process.stdout, process.stderr]) {
    const wrappers = new WeakMap<Write, Write>();
    const inner = new WeakMap<Write, Write>();
    const wrap = (write: Write): Write => {
      const found = wrappers.get(write);
      if (found) return found;
      const wrapper = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
        copy(chunk, rest[0]);
        return (write as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
      } as Write;
      wrappers.set(write, wrapper);
      inner.set(wrapper, write);
      return wrapper;
    };
    let current: Write = stream.write;
    Object.defineProperty(stream, 'write', {
      configurable: true,
      enumerable: true,
      get: () => wrap(current),
      // A test restoring what it read earlier hands back one of our wrappers: unwrap it.
      set: (write: Write) => {
        current = inner.get(write) ?? write;
      },
    });
  }
}

/** Copies a child process's stdout and stderr into a capture file of its own. */
export function captureChildOutput(child: ChildProcess, label: string): void {
  mkdirSync(LOG_CAPTURE_DIR, { recursive: true });
  const file = join(LOG_CAPTURE_DIR, `child-${label}-${process.pid}-${child.pid ?? 'none'}.log`);
  const append = (chunk: Buffer) => {
    try {
      appendFileSync(file, chunk);
    } catch {
      // as above
    }
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
}

/** Appends a line `console` printed in a test (called from the main Vitest process). */
export function captureConsoleLine(text: string): void {
  try {
    mkdirSync(LOG_CAPTURE_DIR, { recursive: true });
    appendFileSync(join(LOG_CAPTURE_DIR, 'console.log'), text.endsWith('\n') ? text : `${text}\n`);
  } catch {
    // as above
  }
}
