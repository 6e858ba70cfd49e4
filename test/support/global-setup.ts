import { fileURLToPath } from 'node:url';
import { knownTestSecrets, scanFolder } from '../hardening/secret-scan.js';
import { LOG_CAPTURE_DIR, resetLogCapture } from './log-capture.js';

// Not process.js's repoRoot: that module loads every module of the app, in every run's start-up.
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The run's own global setup (vitest.config.ts's root `globalSetup`), so it runs once whichever
 * projects are in the run, the unit project alone included: it empties the log capture before
 * any test, and when the run ends scans every line the suite's code wrote (test/support/
 * log-capture.ts) for CPFs, tokens, keys and passwords: one found fails the run. DynamoDB Local
 * is another global setup (dynamodb-global-setup.ts), only in the projects that need it.
 */
export default function setup() {
  resetLogCapture();
  return () => {
    const known = knownTestSecrets([`${repoRoot}test`, `${repoRoot}console/test`]);
    const findings = scanFolder(LOG_CAPTURE_DIR, known);
    if (findings.length === 0) return;
    // Teardown errors are printed but do not change the exit code by themselves.
    process.exitCode = 1;
    const shown = findings
      .slice(0, 20)
      .map((f) => `  ${f.kind} at ${f.where}: ${f.excerpt}`)
      .join('\n');
    throw new Error(
      `secrets in the suite's log output (${findings.length} found; files in ${LOG_CAPTURE_DIR}):\n${shown}`,
    );
  };
}
