import type { ExpectStatic } from 'vitest';
import type { BenchSection, BenchTools } from '../../../bench/support/sections.js';
import type { BenchStack } from '../../../bench/support/stack.js';
import type { DynamoClients } from '../../../src/platform/dynamo/client.js';
import type { TableDefinition } from '../../../src/platform/dynamo/tables.js';
import type { AnyModule } from '../../../src/platform/module.js';
import type { TestApp, TestAppOptions } from '../app.js';

/**
 * What exercises one module, for the checks that must cover every module of
 * src/modules/index.ts: the least-privilege test (test/infra/access.test.ts), the crash load and
 * kill-after-ack (test/hardening/), the soak (scripts/soak/) and the bench (bench/). Each check
 * walks the module list and takes the module's part from here, so none keeps a list of its own;
 * a module without an exercise, or one that leaves a function out, fails the access test by name.
 * A part a module has no use for says why (`{ none: '…' }`) instead of being left out.
 */
export interface Exercise {
  readonly access: AccessExercise;
  readonly load: LoadExercise | NotExercised;
  readonly soak: SoakExercise | NotExercised;
  readonly bench: BenchEntry | NotExercised;
}

/** Why a module takes no part in one of the checks: said, so that nothing is left out silently. */
export interface NotExercised {
  readonly none: string;
}

export const isNone = (part: object): part is NotExercised => 'none' in part;

/**
 * How the access test drives each function of the module's access declaration (`access` in
 * `<m>.infra.ts`): `api` for its routes, one per task, one per function its construct adds.
 */
export interface AccessExercise {
  /** Built once per run of the access test (scenarios of a module may share state). */
  readonly scenarios: () => readonly AccessScenario[];
  /** Functions not driven here, each with the reason. */
  readonly notExercised?: Readonly<Record<string, string>>;
}

export interface AccessScenario {
  /** What the test shows: `the routes stay within the API’s grants`. */
  readonly title: string;
  /** The functions whose calls it checks; each must be checked by `within` before it ends. */
  readonly functions: readonly string[];
  readonly run: (harness: AccessHarness) => Promise<void>;
}

/** A test app whose DynamoDB calls a recorder sees. */
export interface RecordedApp {
  readonly app: TestApp;
  /** What `work` sends, as IAM checks it (`PutItem events`, `Query events/index/gsi1`). */
  readonly during: (work: () => Promise<unknown>) => Promise<Set<string>>;
}

export type AccessAppOptions = Omit<TestAppOptions, 'modules' | 'dynamo'> & {
  /** Faults put in front of the recorder (test/support/faults.ts). */
  readonly faults?: (clients: DynamoClients) => void;
};

/** What the access test gives a scenario of one module. */
export interface AccessHarness {
  readonly appFor: (
    modules: readonly AnyModule[],
    options?: AccessAppOptions,
  ) => Promise<RecordedApp>;
  /** `app.call` that insists on a 2xx, so a scenario cannot pass by not doing its work. */
  readonly ok: (
    app: TestApp,
    path: string,
    init?: Parameters<TestApp['call']>[1],
  ) => Promise<Record<string, unknown> | undefined>;
  /** Runs one of the module's tasks as its Lambda would. */
  readonly runTask: (app: TestApp, task: string, input?: unknown) => Promise<unknown>;
  /**
   * Fails unless `calls` is not empty and within what the module declares for `fn` (and, with
   * `platform`, what the platform's own tables grant every API function).
   */
  readonly within: (calls: Set<string>, fn: string, options?: { platform?: boolean }) => void;
  readonly expect: ExpectStatic;
}

/**
 * One request of a load (the crash test's and kill-after-ack's), as sent, with what the checks
 * need to know about it.
 */
export interface SentRequest {
  /** The operation that built it (`create-event`, `enroll`, …). */
  readonly op: string;
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

/** The data a run aims at, made before the load starts. */
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

/** The tables of a stopped or restarted runtime, read directly (a test reading its own data). */
export interface StoredTables {
  readonly dynamo: DynamoClients;
  /** The runtime's name for a table (`roster-<id>` under the default prefix). */
  readonly name: (table: TableDefinition) => string;
}

/** A restarted runtime, to look for what was acknowledged before the kill. */
export interface AfterRestart {
  /** GET with the API key: the status and the parsed body. */
  readonly get: (path: string) => Promise<{ status: number; body: unknown }>;
  readonly tables: StoredTables;
}

export interface LoadExercise {
  /**
   * The module's operations for one run, stateful (what was acknowledged feeds later choices),
   * in the order the random pick tries them.
   */
  readonly operations: (plan: LoadPlan) => readonly LoadOperation[];
  /**
   * Work a crash can leave half done, counted in its tables (enrollments still PENDING, …):
   * after a restart every count must come back to 0.
   */
  readonly leftovers?: (tables: StoredTables) => Promise<Record<string, number>>;
}

export interface LoadOperation {
  readonly op: string;
  /** Its share of the mixed load's random picks (thousandths when all add up to 1000). */
  readonly weight: number;
  /** Whether it has anything to send now; when not, the pick goes on to the next operation. */
  readonly ready?: () => boolean;
  /** The request: `n` numbers it in the run; `key` is its Idempotency-Key if the route takes one. */
  readonly build: (n: number, key: string) => Omit<SentRequest, 'op'>;
  /** Sees what came back. */
  readonly answered?: (entry: LedgerEntry) => void;
  /**
   * Set on creates: kill-after-ack sends each in turn; the crash test retries those left in
   * flight with their key, and they must end with `retried` (a replay's status).
   */
  readonly create?: { readonly retried: number };
  /** What of an acknowledged request a later start does not show (nothing: it is all there). */
  readonly verify?: (entry: LedgerEntry, runtime: AfterRestart) => Promise<string[]>;
}

/** The data the soak made before its load, and what its ids are made unique with. */
export interface SoakRun {
  /** Events made for the run (capacity and waitlist), and users to register. */
  readonly events: readonly string[];
  readonly users: readonly string[];
  /** Unique per run: new ids are `<runId>-…`, CPFs come from a range of its own. */
  readonly runId: string;
  readonly cpfBase: number;
}

export interface SoakRequest {
  /** The route as the report groups it: `GET /events/{eventId}`. */
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly bearer?: boolean;
  readonly idempotent?: boolean;
  /** Called with the parsed body of a 2xx answer. */
  readonly onSuccess?: (body: unknown) => void;
}

export interface SoakExercise {
  /** The module's routes in the soak's mix, for one run (they may keep ids to read back). */
  readonly routes: (run: SoakRun) => readonly SoakRoute[];
}

export interface SoakRoute {
  /** Its name in the mix. */
  readonly kind: string;
  /** Its share of the requests, against the weights of every route of every module. */
  readonly weight: number;
  /** The request (`i` numbers it in the run), or undefined with nothing to aim at yet. */
  readonly build: (i: number) => SoakRequest | undefined;
  /** What is sent instead when `build` has nothing: another kind, by default `health`. */
  readonly orElse?: string;
}

/** A module's part of `npm run bench`. */
export interface BenchEntry {
  /** Its section of `npm run bench`, on the bench's stack (the implementation under bench/support). */
  readonly run: (stack: BenchStack, tools: BenchTools) => Promise<BenchSection>;
}
