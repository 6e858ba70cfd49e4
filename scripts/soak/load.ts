import { withCheckDigits } from '../../src/modules/enrollments/enrollments.rules.js';

/**
 * The soak's load generator, in a process of its own (so it shares no event loop with the server
 * it measures): an open loop that starts requests at a steady rate, whatever the answers take,
 * over a mix of every module's routes. It prints one JSON line per progress interval and one with
 * the result; scripts/soak/run.ts reads them.
 */

export interface LoadOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly token: string;
  /** Requests started per second. */
  readonly rate: number;
  readonly durationMs: number;
  /** Events made for the run (capacity and waitlist), and users to register. */
  readonly events: readonly string[];
  readonly users: readonly string[];
  /** Unique per run: new ids are `<runId>-…`, CPFs come from a range of its own. */
  readonly runId: string;
  readonly cpfBase: number;
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

interface Request {
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly bearer?: boolean;
  readonly idempotent?: boolean;
  /** Called with the parsed body of a 2xx answer. */
  readonly onSuccess?: (body: unknown) => void;
}

/** Route mix, by weight (the share of requests each kind gets). */
const MIX: readonly (readonly [kind: string, weight: number])[] = [
  ['health', 8],
  ['get-event', 16],
  ['list-events', 4],
  ['create-event', 3],
  ['create-user', 4],
  ['register', 10],
  ['unregister', 4],
  ['event-registrations', 5],
  ['enroll', 8],
  ['get-enrollment', 6],
  ['put-customer', 6],
  ['get-customer', 5],
  ['submit-workflow', 2],
  ['get-execution', 3],
  ['file-sla-error', 4],
  ['list-sla-errors', 3],
  ['list-age-groups', 2],
  ['user-registrations', 3],
  ['list-users', 2],
  ['get-sla-error', 2],
];
const TOTAL_WEIGHT = MIX.reduce((sum, [, weight]) => sum + weight, 0);

/** Keeps the last `size` values (ids to read back), so memory stays bounded on long runs. */
class Recent<T> {
  private readonly items: T[] = [];
  constructor(private readonly size = 500) {}
  add(item: T): void {
    this.items.push(item);
    if (this.items.length > this.size) this.items.shift();
  }
  pick(): T | undefined {
    return this.items[Math.floor(Math.random() * this.items.length)];
  }
  take(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.items.splice(Math.floor(Math.random() * this.items.length), 1)[0];
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { events, users, runId } = options;
  const enrollments = new Recent<string>();
  const customers = new Recent<string>();
  const executions = new Recent<string>();
  const slaErrors = new Recent<string>();
  const registered = new Recent<[string, string]>(5000);
  const any = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)] as T;
  let n = 0;
  let pair = 0;

  const build = (kind: string): Request => {
    const i = ++n;
    switch (kind) {
      case 'get-event': {
        return { route: 'GET /events/{eventId}', method: 'GET', path: `/events/${any(events)}` };
      }
      case 'list-events':
        return { route: 'GET /events', method: 'GET', path: '/events?limit=50' };
      case 'create-event':
        return {
          route: 'POST /events',
          method: 'POST',
          path: '/events',
          idempotent: true,
          body: {
            eventId: `${runId}-e${i}`,
            title: `Soak ${i}`,
            description: 'Made by the soak',
            date: '2031-01-01',
            location: 'Soak Hall',
            capacity: 100,
            organizer: 'soak',
            hasWaitlist: true,
          },
        };
      case 'create-user':
        return {
          route: 'POST /users',
          method: 'POST',
          path: '/users',
          idempotent: true,
          body: { userId: `${runId}-u${i}`, name: `Soak user ${i}` },
        };
      case 'register': {
        // Every (user, event) pair once, in an order that spreads over the events.
        const k = pair++;
        const userId = users[k % users.length] as string;
        const eventId = events[(k + Math.floor(k / users.length)) % events.length] as string;
        return {
          route: 'POST /events/{eventId}/registrations',
          method: 'POST',
          path: `/events/${eventId}/registrations`,
          idempotent: true,
          body: { userId },
          onSuccess: () => registered.add([userId, eventId]),
        };
      }
      case 'unregister': {
        const found = registered.take();
        if (!found) return build('get-event');
        const [userId, eventId] = found;
        return {
          route: 'DELETE /events/{eventId}/registrations/{userId}',
          method: 'DELETE',
          path: `/events/${eventId}/registrations/${userId}`,
        };
      }
      case 'event-registrations':
        return {
          route: 'GET /events/{eventId}/registrations',
          method: 'GET',
          path: `/events/${any(events)}/registrations?limit=50`,
        };
      case 'user-registrations':
        return {
          route: 'GET /users/{userId}/registrations',
          method: 'GET',
          path: `/users/${any(users)}/registrations?limit=20`,
        };
      case 'list-users':
        return { route: 'GET /users', method: 'GET', path: '/users?limit=50' };
      case 'enroll': {
        const base = String((options.cpfBase + i) % 1_000_000_000).padStart(9, '0');
        return {
          route: 'POST /enrollments',
          method: 'POST',
          path: '/enrollments',
          idempotent: true,
          body: { name: `Soak ${i}`, age: i % 100, cpf: withCheckDigits(base) },
          onSuccess: (body) => enrollments.add((body as { enrollment_id: string }).enrollment_id),
        };
      }
      case 'get-enrollment': {
        const id = enrollments.pick();
        if (!id) return build('list-age-groups');
        return { route: 'GET /enrollments/{id}', method: 'GET', path: `/enrollments/${id}` };
      }
      case 'list-age-groups':
        return { route: 'GET /age-groups', method: 'GET', path: '/age-groups' };
      case 'put-customer': {
        const id = `${runId}-c${i}`;
        return {
          route: 'PUT /customers/{id}',
          method: 'PUT',
          path: `/customers/${id}`,
          onSuccess: () => customers.add(id),
        };
      }
      case 'get-customer': {
        const id = customers.pick() ?? `${runId}-none`;
        return { route: 'GET /customers/{id}', method: 'GET', path: `/customers/${id}` };
      }
      case 'submit-workflow':
        return {
          route: 'POST /workflow/submit',
          method: 'POST',
          path: '/workflow/submit',
          idempotent: true,
          body: { id: `${runId}-w${i}` },
          onSuccess: (body) => executions.add((body as { executionId: string }).executionId),
        };
      case 'get-execution': {
        const id = executions.pick();
        if (!id) return build('health');
        return {
          route: 'GET /workflow/executions/{executionId}',
          method: 'GET',
          path: `/workflow/executions/${id}`,
        };
      }
      case 'file-sla-error':
        return {
          route: 'POST /sla-errors',
          method: 'POST',
          path: '/sla-errors',
          idempotent: true,
          bearer: true,
          body: {
            fileName: `${runId}-${i % 50}.csv`,
            slaDeadline: '2026-11-21T10:00:00Z',
            errorCode: 'SLA_BREACH',
            message: 'File arrived late',
            severity: 'medium',
            source: 'soak',
          },
          onSuccess: (body) => slaErrors.add((body as { id: string }).id),
        };
      case 'list-sla-errors':
        return { route: 'GET /sla-errors', method: 'GET', path: '/sla-errors?limit=20' };
      case 'get-sla-error': {
        const id = slaErrors.pick();
        if (!id) return build('health');
        return { route: 'GET /sla-errors/{id}', method: 'GET', path: `/sla-errors/${id}` };
      }
      default:
        return { route: 'GET /health', method: 'GET', path: '/health' };
    }
  };

  const pick = (): string => {
    let roll = Math.random() * TOTAL_WEIGHT;
    for (const [kind, weight] of MIX) {
      roll -= weight;
      if (roll < 0) return kind;
    }
    return 'health';
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

  const send = async (request: Request) => {
    const stats = statsOf(request.route);
    const headers: Record<string, string> = request.bearer
      ? { authorization: `Bearer ${options.token}` }
      : { 'x-api-key': options.apiKey };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (request.idempotent) headers['idempotency-key'] = `${runId}-${request.path}-${++keys}`;
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
