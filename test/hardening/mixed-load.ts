import { randomBytes } from 'node:crypto';
import { withCheckDigits } from '../../src/modules/enrollments/enrollments.rules.js';

/**
 * A mixed load on a running Roster over HTTP, keeping a ledger of every request and what it got:
 * its answer, or none (the process died under it). The crash test reads the ledger to know what
 * was acknowledged and what was in flight.
 */

export type Operation =
  | 'create-event'
  | 'create-user'
  | 'register'
  | 'unregister'
  | 'delete-event'
  | 'enroll'
  | 'put-customer'
  | 'submit-workflow'
  | 'file-sla-error';

export interface SentRequest {
  readonly op: Operation;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** Sent as Idempotency-Key (creates only). */
  readonly idempotencyKey?: string;
  /** Bearer token instead of the API key (POST /sla-errors). */
  readonly bearer?: boolean;
  /** What the request is about, for the checks (ids, the CPF, the event and user). */
  readonly subject: Readonly<Record<string, string>>;
}

export interface LedgerEntry extends SentRequest {
  /** `undefined`: no answer (the connection died, or the server was gone). */
  readonly status: number | undefined;
  readonly response: unknown;
}

export interface Target {
  readonly url: string;
  readonly apiKey: string;
  readonly token: string;
}

/** Sends one request as the ledger describes it. */
export function send(target: Target, request: SentRequest): Promise<Response> {
  const headers: Record<string, string> = request.bearer
    ? { authorization: `Bearer ${target.token}` }
    : { 'x-api-key': target.apiKey };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  if (request.idempotencyKey) headers['idempotency-key'] = request.idempotencyKey;
  return fetch(`${target.url}${request.path}`, {
    method: request.method,
    headers,
    ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
    signal: AbortSignal.timeout(20_000),
  });
}

/** A small seeded generator (mulberry32), so a run's choices can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Fisher–Yates, with the run's generator. */
function shuffled<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** A valid CPF from the generator (random base, right check digits), digits only. */
export function cpfFrom(random: () => number): string {
  for (;;) {
    const base = String(Math.floor(random() * 1_000_000_000)).padStart(9, '0');
    if (!/^(\d)\1{8}$/.test(base)) return withCheckDigits(base);
  }
}

export const eventBody = (eventId: string, capacity: number, hasWaitlist: boolean) => ({
  eventId,
  title: `Crash ${eventId}`,
  description: 'An event created under load',
  date: '2030-06-01',
  location: 'Test Hall',
  capacity,
  organizer: 'hardening',
  hasWaitlist,
});

export const slaErrorBody = (fileName: string) => ({
  fileName,
  slaDeadline: '2026-11-21T10:00:00Z',
  errorCode: 'SLA_BREACH',
  message: 'File arrived late',
  severity: 'medium',
  source: 'crash-test',
});

export interface LoadPlan {
  /** Events open to registrations (all with a waitlist, so a fresh registration always fits). */
  readonly events: readonly string[];
  /** Events deleted during the load (each once). */
  readonly doomedEvents: readonly string[];
  readonly users: readonly string[];
  readonly random: () => number;
  /** A unique label for this run's ids. */
  readonly runId: string;
}

/**
 * Chooses the requests: registrations of (user, event) pairs never tried before, so a retry of
 * one left in flight must succeed; unregistrations of pairs acknowledged as registered; creates
 * of new ids; deletions of the doomed events. Acknowledged outcomes feed the later choices.
 */
export class MixedLoad {
  private readonly pairs: [string, string][];
  private readonly registered: [string, string][] = [];
  private readonly doomed: string[];
  private counter = 0;
  readonly ledger: LedgerEntry[] = [];

  constructor(private readonly plan: LoadPlan) {
    this.pairs = shuffled(
      plan.users.flatMap((userId) =>
        plan.events.map((eventId) => [userId, eventId] as [string, string]),
      ),
      plan.random,
    );
    this.doomed = [...plan.doomedEvents];
  }

  /** The next request to send: of the kind given, or of one picked at random. */
  next(kind?: Operation): SentRequest {
    return this.build(kind ?? this.pick());
  }

  private pick(): Operation {
    const roll = this.plan.random();
    if (this.doomed.length > 0 && roll < 0.03) return 'delete-event';
    if (roll < 0.3 && this.pairs.length > 0) return 'register';
    if (roll < 0.42 && this.registered.length > 0) return 'unregister';
    if (roll < 0.5) return 'create-event';
    if (roll < 0.58) return 'create-user';
    if (roll < 0.75) return 'enroll';
    if (roll < 0.87) return 'put-customer';
    if (roll < 0.93) return 'submit-workflow';
    return 'file-sla-error';
  }

  private build(op: Operation): SentRequest {
    const { random, runId } = this.plan;
    const n = ++this.counter;
    const idempotencyKey = `${runId}-${n}-${randomBytes(4).toString('hex')}`;
    switch (op) {
      case 'delete-event': {
        const eventId = this.doomed.shift() ?? `${runId}-none`;
        return { op, method: 'DELETE', path: `/events/${eventId}`, subject: { eventId } };
      }
      case 'register': {
        const [userId, eventId] = this.pairs.pop() ?? ['', ''];
        return {
          op,
          method: 'POST',
          path: `/events/${eventId}/registrations`,
          body: { userId },
          idempotencyKey,
          subject: { userId, eventId },
        };
      }
      case 'unregister': {
        const index = Math.floor(random() * this.registered.length);
        const [userId, eventId] = this.registered.splice(index, 1)[0] ?? ['', ''];
        return {
          op,
          method: 'DELETE',
          path: `/events/${eventId}/registrations/${userId}`,
          subject: { userId, eventId },
        };
      }
      case 'create-event': {
        const eventId = `${runId}-ev-${n}`;
        return {
          op,
          method: 'POST',
          path: '/events',
          body: eventBody(eventId, 1 + Math.floor(random() * 5), random() < 0.5),
          idempotencyKey,
          subject: { eventId },
        };
      }
      case 'create-user': {
        const userId = `${runId}-u-${n}`;
        return {
          op,
          method: 'POST',
          path: '/users',
          body: { userId, name: `User ${n}` },
          idempotencyKey,
          subject: { userId },
        };
      }
      case 'enroll': {
        const cpf = cpfFrom(random);
        return {
          op,
          method: 'POST',
          path: '/enrollments',
          body: { name: `Person ${n}`, age: Math.floor(random() * 100), cpf },
          idempotencyKey,
          subject: { cpf },
        };
      }
      case 'put-customer': {
        const id = `${runId}-c-${n}`;
        return { op, method: 'PUT', path: `/customers/${id}`, subject: { id } };
      }
      case 'submit-workflow': {
        const id = `${runId}-w-${n}`;
        return {
          op,
          method: 'POST',
          path: '/workflow/submit',
          body: { id },
          idempotencyKey,
          subject: { id },
        };
      }
      case 'file-sla-error': {
        const fileName = `${runId}-f-${n}.csv`;
        return {
          op,
          method: 'POST',
          path: '/sla-errors',
          body: slaErrorBody(fileName),
          idempotencyKey,
          bearer: true,
          subject: { fileName },
        };
      }
    }
  }

  /** Sends one request and writes what came back (or that nothing did) to the ledger. */
  async run(target: Target, request: SentRequest): Promise<LedgerEntry> {
    let entry: LedgerEntry;
    try {
      const res = await send(target, request);
      const text = await res.text();
      entry = { ...request, status: res.status, response: text ? JSON.parse(text) : undefined };
    } catch {
      entry = { ...request, status: undefined, response: undefined };
    }
    this.ledger.push(entry);
    if (entry.op === 'register' && entry.status === 201) {
      this.registered.push([entry.subject.userId ?? '', entry.subject.eventId ?? '']);
    }
    return entry;
  }

  /** Answered with a 2xx. */
  get acknowledged(): LedgerEntry[] {
    return this.ledger.filter((entry) => entry.status !== undefined && entry.status < 300);
  }

  /** Sent, never answered. */
  get unanswered(): LedgerEntry[] {
    return this.ledger.filter((entry) => entry.status === undefined);
  }
}
