// Preloaded into the server the soak runs (`node --expose-gc --import …/heap-probe.mjs`):
// appends the process's own memory figures as one JSON line every SOAK_PROBE_MS to
// SOAK_PROBE_FILE, and every SOAK_PROBE_GC_EVERY-th line after a full garbage collection
// (`afterGc`), which is what tells a leak from the collector's sawtooth. RSS can be read from
// /proc by anyone; the V8 heap only from inside, and this way the server's code and routes stay as
// they ship (no debug endpoint). Plain JavaScript: it loads before tsx.
import { appendFileSync } from 'node:fs';

const file = process.env.SOAK_PROBE_FILE;
const every = Number(process.env.SOAK_PROBE_MS ?? 5000);
const gcEvery = Number(process.env.SOAK_PROBE_GC_EVERY ?? 6);

if (file) {
  let count = 0;
  const sample = () => {
    const afterGc = typeof globalThis.gc === 'function' && count % gcEvery === 0;
    count++;
    if (afterGc) globalThis.gc();
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    const line = { t: Date.now(), rss, heapUsed, heapTotal, external, arrayBuffers, afterGc };
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // the soak's folder is gone: nothing to report to
    }
  };
  sample();
  setInterval(sample, every).unref();
}
