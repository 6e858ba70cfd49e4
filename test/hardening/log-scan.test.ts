import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withCheckDigits } from '../../src/modules/enrollments/enrollments.rules.js';
import { createLogger } from '../../src/platform/logger.js';
import { formatCpf, withWrongCheckDigit } from '../enrollments/fixtures.js';
import { workerCaptureFile } from '../support/log-capture.js';
import { repoRoot } from '../support/process.js';
import { isValidCpf, knownTestSecrets, scanText } from './secret-scan.js';

/**
 * The log scan that runs when the suite ends (test/support/global-setup.ts) can fail: it finds
 * each kind of secret in a line, leaves ordinary log lines alone, and really receives what the
 * app's logger writes in a test worker.
 */

const CPF = withCheckDigits('529982247');
const FORMATTED = formatCpf(CPF);
const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6ImxvY2FsIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6MTc5MDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVz';

const logLine = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 'INFO', message: 'request', service: 'roster', ...fields });

describe('the log secret scan', () => {
  it.each([
    ['a formatted CPF', logLine({ cpf: FORMATTED }), 'cpf'],
    ['a CPF in 11 digits', logLine({ detail: `cpf ${CPF} taken` }), 'cpf'],
    ['a JWT', logLine({ token: JWT }), 'jwt'],
    ['a bearer header', logLine({ authorization: 'Bearer abcdefghijklmnop1234' }), 'bearer'],
    ['a generated API key', logLine({ key: `rk_${'A'.repeat(32)}` }), 'generated-key'],
    ['a test password', logLine({ body: { password: 'Correct-Horse-Battery-9' } }), 'test-secret'],
  ])('finds %s in a log line', (_, line, kind) => {
    const findings = scanText(`first line\n${line}\n`, 'worker-1.log', ['Correct-Horse-Battery-9']);

    expect(findings).toEqual([expect.objectContaining({ kind, where: 'worker-1.log:2' })]);
    // The report names the place without repeating the secret.
    expect(findings[0]?.excerpt).toContain(`<${kind}>`);
  });

  it.each([
    ['a masked CPF', logLine({ cpf: '***.982.247-**' })],
    ['UUIDs and ids', logLine({ requestId: '0193a1b2-c3d4-7e5f-8a9b-123456789012', id: 'u-1' })],
    ['epoch milliseconds and durations', logLine({ time: 1763783596123, durationMs: 12.34 })],
    ['11 digits with wrong check digits', logLine({ count: 12345678900 })],
    ['a decimal fraction', logLine({ ratio: 0.52998224725 })],
    ['a signed cursor', logLine({ cursor: 'eyJ2IjoxLCJzIjoiZXZlbnRzIn0.c2lnbmF0dXJl' })],
    [
      'the banner line that hands out the key',
      '  API key    rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAA (from API_KEYS)',
    ],
  ])('leaves %s alone', (_, line) => {
    expect(scanText(line, 'worker-1.log', ['Correct-Horse-Battery-9'])).toEqual([]);
  });

  it('checks CPF digits as the enrollments rules do', () => {
    expect(isValidCpf(CPF)).toBe(true);
    expect(isValidCpf('11111111111')).toBe(false);
    expect(isValidCpf(withWrongCheckDigit(CPF))).toBe(false);
  });

  it('knows the keys and passwords the test sources use, wrong ones included', () => {
    const known = knownTestSecrets([`${repoRoot}test`, `${repoRoot}console/test`]);

    expect(known).toEqual(
      expect.arrayContaining([
        'test-key-0123456789', // test/support/app.ts
        'Correct-Horse-9-Battery', // test/auth/fixtures.ts
        'Str0ng-Passw0rd!', // test/runtime/users-cli.test.ts
        'enrollments-runtime-key',
      ]),
    );
    expect(known).not.toContain('password');
  });

  it("receives what the app's logger writes in a test worker, even past a test's own capture", () => {
    const marker = `capture-probe-${randomBytes(6).toString('hex')}`;
    // A test swapping in its own `write` (as test/enrollments/fixtures.ts does) hides nothing.
    const original = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      createLogger('info').info('log capture probe', { marker });
    } finally {
      process.stdout.write = original;
    }

    expect(readFileSync(workerCaptureFile(), 'utf8')).toContain(marker);
  });
});
