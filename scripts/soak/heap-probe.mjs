// Preloaded into the server the soak runs (`node --expose-gc --import …/heap-probe.mjs`):
// appends the process's own memory figures as one JSON line every SOAK_PROBE_MS to
// SOAK_PROBE_FILE, and every SOAK_PROBE_GC_EVERY-th line after a full garbage collection
// (`afterGc`), which is what tells a leak from the collector's sawtooth. RSS can be read from
// /proc by anyone; the V8 heap only from inside, and this way the server's code and routes stay as
// they ship (no debug endpoint). Plain JavaScript: it loads before tsx.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.SOAK_PROBE_FILE;
const every = Number(process.env.SOAK_PROBE_MS ?? 5000);
const gcEvery = Number(process.env.SOAK_PROBE_GC_EVERY ?? 6);

if (file) {
  let count = 0;
  // How late the event loop ran its timers since the previous line (ms): a request can wait no
  // less than this, so a pause of the server's own shows here and not in DynamoDB Local's ping.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const sample = () => {
    const loopDelay = {
      p99Ms: Math.round(loop.percentile(99) / 1e5) / 10,
      maxMs: Math.round(loop.max / 1e5) / 10,
    };
    loop.reset();
    const afterGc = typeof globalThis.gc === 'function' && count % gcEvery === 0;
    count++;
    // The full collection's own pause, timed: it is the probe's doing, not the server's.
    const gcStarted = performance.now();
    if (afterGc) globalThis.gc();
    const gcMs = afterGc ? Math.round((performance.now() - gcStarted) * 10) / 10 : undefined;
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    const line = {
      t: Date.now(),
      rss,
      heapUsed,
      heapTotal,
      external,
      arrayBuffers,
      afterGc,
      gcMs,
      loopDelay,
    };
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // the soak's folder is gone: nothing to report to
    }
  };
  sample();
  setInterval(sample, every).unref();
}
