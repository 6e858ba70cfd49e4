import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../src/runtime/local/dynamodb-local.js';
import { knownTestSecrets, scanFolder } from '../hardening/secret-scan.js';
import { LOG_CAPTURE_DIR, resetLogCapture } from './log-capture.js';
import { repoRoot } from './process.js';

/**
 * One in-memory DynamoDB Local for the whole run; each test file makes its own tables. When the
 * run ends, every line the suite's code wrote (test/support/log-capture.ts) is scanned for CPFs,
 * tokens, keys and passwords: one found fails the run.
 */
export default async function setup(project: TestProject) {
  resetLogCapture();
  const database = await startDynamoDbLocal();
  project.provide('dynamodbEndpoint', database.endpoint);
  return async () => {
    await database.stop();
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

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}
