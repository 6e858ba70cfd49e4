import { execFile } from 'node:child_process';

/**
 * `npm audit --omit=dev --json`, read: the production dependencies' high and critical advisories,
 * or why the advisory database could not be asked. npm audit needs the registry's advisory
 * endpoint (`/-/npm/v1/security/advisories/bulk`); offline, or behind a registry mirror that
 * does not serve it, there is no answer to check, which is not the same as a clean one.
 */

export type AuditOutcome =
  | { readonly kind: 'checked'; readonly findings: readonly string[]; readonly counts: Counts }
  | { readonly kind: 'unavailable'; readonly reason: string };

type Counts = Readonly<Record<string, number>>;

interface Vulnerability {
  readonly name?: string;
  readonly severity?: string;
  readonly range?: string;
  readonly via?: readonly (string | { readonly title?: string; readonly url?: string })[];
}

interface AuditReport {
  readonly auditReportVersion?: number;
  readonly vulnerabilities?: Readonly<Record<string, Vulnerability>>;
  readonly metadata?: { readonly vulnerabilities?: Counts };
  readonly message?: string;
  readonly error?: { readonly summary?: string; readonly detail?: string };
}

const BLOCKING = new Set(['high', 'critical']);

/** Reads npm audit's JSON output (report version 2, npm 7 and later). */
export function readAudit(stdout: string): AuditOutcome {
  let report: AuditReport;
  try {
    report = JSON.parse(stdout) as AuditReport;
  } catch {
    return { kind: 'unavailable', reason: `npm audit printed no JSON: ${stdout.slice(0, 200)}` };
  }
  const counts = report.metadata?.vulnerabilities;
  if (!counts || !report.vulnerabilities) {
    const reason = report.message ?? report.error?.summary ?? 'no report in the output';
    return { kind: 'unavailable', reason };
  }
  const findings = Object.entries(report.vulnerabilities)
    .filter(([, vulnerability]) => BLOCKING.has(vulnerability.severity ?? ''))
    .map(([name, vulnerability]) => {
      const advisories = (vulnerability.via ?? [])
        .map((via) => (typeof via === 'string' ? `via ${via}` : `${via.title} ${via.url}`))
        .join('; ');
      return `${name} (${vulnerability.severity}, ${vulnerability.range ?? '?'}): ${advisories}`;
    });
  return { kind: 'checked', findings, counts };
}

/** Runs the audit of the production dependencies in `cwd` (exit code 1 just means findings). */
export function runAudit(cwd: string, timeoutMs = 60_000): Promise<AuditOutcome> {
  return new Promise((done) => {
    execFile(
      'npm',
      ['audit', '--omit=dev', '--json'],
      { cwd, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout) => {
        if (error && stdout.trim().length === 0) {
          done({ kind: 'unavailable', reason: `npm audit failed to run: ${error.message}` });
          return;
        }
        done(readAudit(stdout));
      },
    );
  });
}
