import type { ColdStart } from './cold-start.js';
import type { Measurement } from './measure.js';
import type { Committed } from './registrations.js';

export interface Row {
  readonly name: string;
  readonly m: Measurement;
}

export interface Report {
  readonly rows: readonly Row[];
  readonly ratios: Record<string, number>;
  readonly coldStart: {
    runs: readonly ColdStart[];
    medianReadyMs: number;
    /** Starts on a data directory an earlier start left. */
    restarts?: readonly ColdStart[];
    restartMedianReadyMs?: number;
  };
  readonly committed: Record<string, Committed>;
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
  /** One line on the machine and how busy it was: the numbers mean little without it. */
  readonly machine: string;
}

/** The compact table and ratio lines on stdout. */
export function printReport(report: Report): void {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'n', 'outcomes'];
  const cells = report.rows.map(({ name, m }) => [
    name,
    m.requestsPerSecond.toFixed(0),
    m.p50Ms.toFixed(1),
    m.p99Ms.toFixed(1),
    String(m.completed),
    Object.entries(m.outcomes)
      .map(([k, v]) => `${k}:${v}`)
      .concat(m.errors > 0 ? [`errors:${m.errors}`] : [])
      .join(' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return i === 0 || i === row.length - 1 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ')
      .trimEnd();

  const cold = report.coldStart;
  const ms = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
  const out = [
    '',
    report.machine,
    '',
    line(header),
    ...cells.map(line),
    '',
    ...Object.entries(report.ratios).map(
      ([name, value]) => `${name.padEnd(52)} ${value.toFixed(2)}`,
    ),
    '',
    `cold start, spawn to first 200 /health: median ${cold.medianReadyMs.toFixed(0)} ms ` +
      `(runs ${ms(cold.runs.map((r) => r.readyMs))}; SIGTERM to exit ${ms(cold.runs.map((r) => r.stopMs))})`,
    ...(cold.restarts && cold.restarts.length > 0
      ? [
          `restart on an existing data directory, to first 200 /health: median ${cold.restartMedianReadyMs?.toFixed(0)} ms ` +
            `(runs ${ms(cold.restarts.map((r) => r.readyMs))}; goals: restart ≤ 3000 ms, fresh ≤ 5000 ms)`,
        ]
      : []),
    ...Object.entries(report.committed).map(
      ([name, c]) =>
        `${name} committed: registeredCount=${c.registeredCount} waitlistCount=${c.waitlistCount}, ` +
        `rows confirmed=${c.confirmedRows} waitlisted=${c.waitlistedRows}`,
    ),
    ...(report.warnings.length > 0
      ? ['', 'library warnings:', ...report.warnings.map((w) => `  ${w}`)]
      : []),
    '',
    report.problems.length > 0
      ? ['PROBLEMS:', ...report.problems.map((p) => `  ${p}`)].join('\n')
      : 'no problems seen',
    '',
  ];
  process.stdout.write(out.join('\n'));
}
