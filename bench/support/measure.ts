import { Worker } from 'node:worker_threads';

/** What one load run observed; samples of the same target add up with `summarize`. */
export interface Sample {
  /** Per-call latencies in fractional milliseconds. */
  readonly latencies: number[];
  readonly durationMs: number;
  /** HTTP status codes, or outcome labels for direct calls (`ok`, an error code or name). */
  readonly outcomes: Record<string, number>;
  /** Transport errors and timeouts (HTTP), calls still running at the hard stop (direct). */
  readonly errors: number;
}

/** The numbers printed and kept in the JSON. */
export interface Measurement {
  readonly completed: number;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly outcomes: Record<string, number>;
  readonly errors: number;
}

export interface HttpLoadOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST' | 'PUT';
  readonly headers?: Record<string, string>;
  readonly connections: number;
  /** Ends the run after this long (ignored when `amount` is set; the watchdog still applies). */
  readonly durationSeconds?: number;
  /** Exactly this many requests, spread over the connections. */
  readonly amount?: number;
  /** Request bodies, used in turn (request i gets bodies[i % length]). */
  readonly bodies?: readonly string[];
  /** Request paths (on `url`'s origin), used in turn like `bodies`. @default url's path */
  readonly paths?: readonly string[];
  /** Hard stop, whatever happens: no run outlives it. */
  readonly watchdogSeconds: number;
  readonly timeoutSeconds?: number;
}

/**
 * HTTP load with autocannon on keep-alive connections, in a worker thread of its own so that the
 * load generator doesn't compete with the app for the main event loop. Latencies come from
 * autocannon's per-response event (fractional milliseconds), so HTTP and direct runs share one
 * percentile method rather than autocannon's whole-millisecond histogram.
 */
export function httpLoad(options: HttpLoadOptions): Promise<Sample> {
  return new Promise((done, fail) => {
    const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), {
      workerData: options,
    });
    worker.once('message', (message: Sample | { error: string }) => {
      void worker.terminate();
      if ('error' in message) fail(new Error(message.error));
      else done(message);
    });
    worker.once('error', fail);
  });
}

export interface DirectLoadOptions {
  readonly concurrency: number;
  /** No call starts after this long, nor after `maxCalls` calls. */
  readonly durationMs: number;
  readonly maxCalls: number;
  /** The run ends here even if calls are still running (they count as errors). */
  readonly hardStopMs: number;
  /** One call; `i` counts from 0. Resolves to an outcome label, `ok` when undefined. */
  readonly call: (i: number) => Promise<string | undefined>;
}

/** A bounded closed loop: `concurrency` workers, each starting its next call when one returns. */
export async function directLoad(options: DirectLoadOptions): Promise<Sample> {
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const started = performance.now();
  const deadline = started + options.durationMs;
  let issued = 0;
  let running = 0;
  const worker = async () => {
    while (issued < options.maxCalls && performance.now() < deadline) {
      const i = issued++;
      const t0 = performance.now();
      running++;
      let outcome: string;
      try {
        outcome = (await options.call(i)) ?? 'ok';
      } catch (error) {
        outcome = (error as { code?: string }).code ?? (error as Error).name ?? 'error';
      }
      running--;
      latencies.push(performance.now() - t0);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(Array.from({ length: options.concurrency }, worker)),
    new Promise((stop) => {
      timer = setTimeout(stop, options.hardStopMs);
    }),
  ]);
  clearTimeout(timer);
  return {
    latencies: [...latencies],
    durationMs: performance.now() - started,
    outcomes: { ...outcomes },
    errors: running,
  };
}

/** Adds up samples of one target (interleaved rounds) into one measurement. */
export function summarize(samples: readonly Sample[]): Measurement {
  const latencies = samples.flatMap((s) => s.latencies);
  const durationMs = samples.reduce((sum, s) => sum + s.durationMs, 0);
  const outcomes: Record<string, number> = {};
  for (const sample of samples) {
    for (const [key, count] of Object.entries(sample.outcomes)) {
      outcomes[key] = (outcomes[key] ?? 0) + count;
    }
  }
  return {
    completed: latencies.length,
    durationMs,
    requestsPerSecond: latencies.length / (durationMs / 1000),
    ...percentiles(latencies),
    outcomes,
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
  };
}

/** Nearest-rank percentiles. */
export function percentiles(values: readonly number[]): { p50Ms: number; p99Ms: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const at = (i: number) => sorted[i] ?? Number.NaN;
  return sorted.length % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}
