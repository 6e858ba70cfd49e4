// One autocannon run in its own thread, so the load generator does not share the event loop of
// the app it measures (src/… runs in the benchmark's main thread). Options come as workerData,
// the sample goes back as one message. Plain JavaScript: a worker thread doesn't load tsx.
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';

const options = workerData;
const latencies = [];
const outcomes = {};
let next = 0;
const bodies = options.bodies;
const paths = options.paths;

const instance = autocannon(
  {
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    connections: options.connections,
    timeout: options.timeoutSeconds ?? 30,
    ...(options.amount === undefined
      ? { duration: options.durationSeconds ?? 5 }
      : { amount: options.amount }),
    ...(bodies || paths
      ? {
          requests: [
            {
              setupRequest: (request) => {
                const i = next++;
                return {
                  ...request,
                  ...(bodies ? { body: bodies[i % bodies.length] } : {}),
                  ...(paths ? { path: paths[i % paths.length] } : {}),
                };
              },
            },
          ],
        }
      : {}),
  },
  (error, result) => {
    clearTimeout(watchdog);
    if (error) parentPort.postMessage({ error: String(error) });
    else
      parentPort.postMessage({
        latencies,
        durationMs: result.duration * 1000,
        outcomes,
        errors: result.errors,
      });
  },
);
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  latencies.push(responseTime);
  outcomes[statusCode] = (outcomes[statusCode] ?? 0) + 1;
});
const watchdog = setTimeout(() => instance.stop(), options.watchdogSeconds * 1000);
