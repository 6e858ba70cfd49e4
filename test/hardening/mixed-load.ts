import { randomBytes } from 'node:crypto';
import { modules } from '../../src/modules/index.js';
import type { AnyModule } from '../../src/platform/module.js';
import {
  exercisesOf,
  isNone,
  type LedgerEntry,
  type LoadOperation,
  type LoadPlan,
  type SentRequest,
} from '../support/exercises/index.js';

/**
 * A mixed load on a running Roster over HTTP, keeping a ledger of every request and what it got:
 * its answer, or none (the process died under it). The crash test reads the ledger to know what
 * was acknowledged and what was in flight. The operations are the modules' own
 * (test/support/exercises/<m>.ts), taken from the module list.
 */

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

/** Every listed module's operations for one run, in list order (a module with none says why). */
export function loadOperations(list: readonly AnyModule[], plan: LoadPlan): LoadOperation[] {
  const operations = exercisesOf(list).flatMap(({ exercise }) =>
    isNone(exercise.load) ? [] : exercise.load.operations(plan),
  );
  const names = operations.map(({ op }) => op);
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  if (twice.length > 0) throw new Error(`operations named twice: ${twice.join(', ')}`);
  return operations;
}

/**
 * Chooses the requests from the modules' operations: each pick rolls once and takes the first
 * operation (in list order) whose share of the weights reaches the roll and that has something to
 * send. Acknowledged outcomes feed the later choices.
 */
export class MixedLoad {
  private readonly operations: readonly LoadOperation[];
  private readonly byName: ReadonlyMap<string, LoadOperation>;
  /** Each operation's upper bound on the roll, in [0, 1]. */
  private readonly bounds: readonly number[];
  private counter = 0;
  readonly ledger: LedgerEntry[] = [];

  constructor(
    private readonly plan: LoadPlan,
    list: readonly AnyModule[] = modules,
  ) {
    this.operations = loadOperations(list, plan);
    this.byName = new Map(this.operations.map((operation) => [operation.op, operation]));
    const total = this.operations.reduce((sum, { weight }) => sum + weight, 0);
    let sum = 0;
    this.bounds = this.operations.map(({ weight }) => {
      sum += weight;
      return sum / total;
    });
  }

  /** The next request to send: of the kind given, or of one picked at random. */
  next(kind?: string): SentRequest {
    const operation = kind === undefined ? this.pick() : this.byName.get(kind);
    if (!operation) throw new Error(`no operation "${kind}" in the mixed load`);
    const n = ++this.counter;
    const idempotencyKey = `${this.plan.runId}-${n}-${randomBytes(4).toString('hex')}`;
    return { op: operation.op, ...operation.build(n, idempotencyKey) };
  }

  /** The creates, in list order: what kill-after-ack sends in turn. */
  get creates(): string[] {
    return this.operations.filter((operation) => operation.create).map(({ op }) => op);
  }

  /** The operation named `op`. */
  operation(op: string): LoadOperation | undefined {
    return this.byName.get(op);
  }

  private get last(): LoadOperation {
    const last = this.operations.at(-1);
    if (!last) throw new Error('no module offers an operation to the mixed load');
    return last;
  }

  private pick(): LoadOperation {
    const roll = this.plan.random();
    const found = this.operations.find(
      (operation, i) => roll < (this.bounds[i] ?? 1) && (operation.ready?.() ?? true),
    );
    // The last operation's bound is 1: only one with nothing to send can leave the roll unmatched.
    return found ?? this.operations.find((operation) => operation.ready?.() ?? true) ?? this.last;
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
    this.byName.get(entry.op)?.answered?.(entry);
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
