import type { Sample } from './measure.js';
import type { Committed } from './registrations.js';
import type { Row } from './report.js';

/**
 * A module's section of `npm run bench`. bench/run.ts walks the module list and runs the section
 * each module's exercise names (test/support/exercises/<m>.ts), with the tools below; a module
 * with none says why.
 */

/** What the sections read of the bench's settings. */
export interface BenchSettings {
  readonly concurrency: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly roundSeconds: number;
  readonly maxDirectCalls: number;
  readonly burst: number;
  readonly burstRounds: number;
  readonly capacity: number;
  readonly warmupBurst: number;
  readonly warmupCapacity: number;
  readonly burstWatchdogSeconds: number;
  readonly enrollments: number;
}

/** One target of a steady comparison: a run of `seconds`. */
export type Target = (seconds: number) => Promise<Sample>;

export interface BenchTools {
  readonly settings: BenchSettings;
  /** Runs `work` as a phase of its own (its time in the results, the warnings it printed). */
  readonly timed: <T>(phase: string, work: () => Promise<T>) => Promise<T>;
  readonly log: (message: string) => void;
  /** Warms every target up, then measures them in interleaved rounds, added up per target. */
  readonly compare: (targets: Record<string, Target>) => Promise<Row[]>;
  readonly steadyHttp: (url: string, headers?: Record<string, string>) => Target;
  readonly steadyDirect: (call: () => Promise<string | undefined>) => Target;
  /** `count` calls at once, each `call(i)` answering its outcome label. */
  readonly allAtOnce: (count: number, call: (i: number) => Promise<string>) => Promise<Sample>;
}

export interface BenchSection {
  readonly rows: readonly Row[];
  /** Ratios between its rows, printed and kept (`register burst: app / raw TransactWriteItems`). */
  readonly ratios?: Record<string, number>;
  /** Outcomes some of its rows must have exactly; any other row may have only 2xx or `ok`. */
  readonly expected?: Record<string, Record<string, number>>;
  /** What a burst left committed, printed under the table. */
  readonly committed?: Record<string, Committed>;
  readonly problems?: readonly string[];
}

/** Requests per second of a row by name (NaN when there is no such row). */
export const rpsOf =
  (rows: readonly Row[]) =>
  (name: string): number =>
    rows.find((row) => row.name === name)?.m.requestsPerSecond ?? Number.NaN;
