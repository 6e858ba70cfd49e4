import { modules } from '../../src/modules/index.js';
import type { AnyModule } from '../../src/platform/module.js';
import {
  exercisesOf,
  isNone,
  type SoakRequest,
  type SoakRoute,
  type SoakRun,
} from '../../test/support/exercises/index.js';

/**
 * The soak's load generator, in a process of its own (so it shares no event loop with the server
 * it measures): an open loop that starts requests at a steady rate, whatever the answers take,
 * over a mix of every module's routes (each module's own, test/support/exercises/<m>.ts). It
 * prints one JSON line per progress interval and one with the result; scripts/soak/run.ts reads
 * them.
 */

export interface LoadOptions extends SoakRun {
  readonly url: string;
  readonly apiKey: string;
  readonly token: string;
  /** Requests started per second. */
  readonly rate: number;
  readonly durationMs: number;
  /** Requests in flight beyond which a start is skipped (and counted): the server is saturated. */
  readonly maxInFlight: number;
  readonly progressMs: number;
}

export interface RouteStats {
  readonly count: number;
  /** Status code → how many. */
  readonly statuses: Record<string, number>;
  readonly transportErrors: number;
  /** Latencies in milliseconds, in completion order. */
  readonly latencies: number[];
}

export interface LoadResult {
  readonly type: 'result';
  readonly startedAt: string;
  readonly elapsedMs: number;
  readonly started: number;
  readonly completed: number;
  /** Starts skipped because `maxInFlight` requests were still waiting. */
  readonly skipped: number;
  readonly routes: Record<string, RouteStats>;
}

export interface LoadProgress {
  readonly type: 'progress';
  readonly t: number;
  readonly started: number;
  readonly completed: number;
  readonly inFlight: number;
  readonly failed: number;
}

/** The platform's own route in the mix, and what a route with nothing to aim at sends instead. */
const HEALTH: SoakRoute = {
  kind: 'health',
  weight: 8,
  build: () => ({ route: 'GET /health', method: 'GET', path: '/health' }),
};

/** The mix for one run: /health and every listed module's routes (a module with none says why). */
export function soakRoutes(list: readonly AnyModule[], run: SoakRun): SoakRoute[] {
  const routes = [
    HEALTH,
    ...exercisesOf(list).flatMap(({ exercise }) =>
      isNone(exercise.soak) ? [] : exercise.soak.routes(run),
    ),
  ];
  const kinds = routes.map(({ kind }) => kind);
  const twice = kinds.filter((kind, i) => kinds.indexOf(kind) !== i);
  if (twice.length > 0) throw new Error(`soak routes named twice: ${twice.join(', ')}`);
  return routes;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const mix = soakRoutes(modules, options);
  const byKind = new Map(mix.map((route) => [route.kind, route]));
  const totalWeight = mix.reduce((sum, { weight }) => sum + weight, 0);
  let n = 0;

  const build = (kind: string): SoakRequest => {
    const i = ++n;
    const route = byKind.get(kind) ?? HEALTH;
    return route.build(i) ?? build(route.orElse ?? HEALTH.kind);
  };

  const pick = (): string => {
    let roll = Math.random() * totalWeight;
    for (const { kind, weight } of mix) {
      roll -= weight;
      if (roll < 0) return kind;
    }
    return HEALTH.kind;
  };

  const routes: Record<string, RouteStats> = {};
  const statsOf = (route: string) => {
    routes[route] ??= { count: 0, statuses: {}, transportErrors: 0, latencies: [] };
    return routes[route] as {
      count: number;
      statuses: Record<string, number>;
      transportErrors: number;
      latencies: number[];
    };
  };

  let started = 0;
  let keys = 0;
  let completed = 0;
  let skipped = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();

  const send = async (request: SoakRequest) => {
    const stats = statsOf(request.route);
    const headers: Record<string, string> = request.bearer
      ? { authorization: `Bearer ${options.token}` }
      : { 'x-api-key': options.apiKey };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.idempotent)
      headers['idempotency-key'] = `${options.runId}-${request.path}-${++keys}`;
    const t0 = performance.now();
    try {
      const res = await fetch(`${options.url}${request.path}`, {
        method: request.method,
        headers,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      stats.latencies.push(performance.now() - t0);
      stats.count++;
      stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
      if (res.status >= 500) failed++;
      if (res.ok && request.onSuccess && text) request.onSuccess(JSON.parse(text));
    } catch {
      stats.count++;
      stats.transportErrors++;
      failed++;
    } finally {
      completed++;
    }
  };

  const startedAt = new Date();
  const t0 = performance.now();
  const interval = 1000 / options.rate;
  let lastProgress = t0;
  // Each tick starts the requests whose start time has come (open loop: a slow answer does not
  // delay the next start).
  while (performance.now() - t0 < options.durationMs) {
    const due = Math.floor((performance.now() - t0) / interval) + 1;
    while (started < due) {
      started++;
      if (inFlight.size >= options.maxInFlight) {
        skipped++;
        continue;
      }
      const work = send(build(pick()));
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    }
    const now = performance.now();
    if (now - lastProgress >= options.progressMs) {
      lastProgress = now;
      const progress: LoadProgress = {
        type: 'progress',
        t: Math.round(now - t0),
        started,
        completed,
        inFlight: inFlight.size,
        failed,
      };
      process.stdout.write(`${JSON.stringify(progress)}\n`);
    }
    await new Promise((done) => setTimeout(done, Math.min(interval, 5)));
  }
  await Promise.allSettled([...inFlight]);
  return {
    type: 'result',
    startedAt: startedAt.toISOString(),
    elapsedMs: Math.round(performance.now() - t0),
    started,
    completed,
    skipped,
    routes,
  };
}
