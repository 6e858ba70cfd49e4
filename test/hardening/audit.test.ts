import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/process.js';
import { readAudit, runAudit } from './audit.js';

/** What npm 11 prints for a project with one high advisory in a production dependency. */
const reportWithHigh = {
  auditReportVersion: 2,
  vulnerabilities: {
    'left-pad': {
      name: 'left-pad',
      severity: 'high',
      isDirect: false,
      via: [
        {
          source: 1100000,
          name: 'left-pad',
          dependency: 'left-pad',
          title: 'Prototype pollution in left-pad',
          url: 'https://github.com/advisories/GHSA-xxxx-xxxx-xxxx',
          severity: 'high',
          range: '<1.3.1',
        },
      ],
      effects: ['some-lib'],
      range: '<1.3.1',
      nodes: ['node_modules/left-pad'],
      fixAvailable: true,
    },
    'some-lib': {
      name: 'some-lib',
      severity: 'moderate',
      via: ['left-pad'],
      range: '*',
    },
  },
  metadata: {
    vulnerabilities: { info: 0, low: 0, moderate: 1, high: 1, critical: 0, total: 2 },
    dependencies: { prod: 120, dev: 0, optional: 0, peer: 0, peerOptional: 0, total: 120 },
  },
};

describe('npm audit of the production dependencies', () => {
  it('reads a high advisory as a finding, and a moderate one as none', () => {
    const outcome = readAudit(JSON.stringify(reportWithHigh));

    expect(outcome).toEqual({
      kind: 'checked',
      findings: [
        'left-pad (high, <1.3.1): Prototype pollution in left-pad https://github.com/advisories/GHSA-xxxx-xxxx-xxxx',
      ],
      counts: reportWithHigh.metadata.vulnerabilities,
    });
  });

  it('tells an advisory database that did not answer from a clean report', () => {
    const refused = {
      message:
        '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      error: { summary: '', detail: '' },
    };

    expect(readAudit(JSON.stringify(refused))).toMatchObject({
      kind: 'unavailable',
      reason: expect.stringContaining('405'),
    });
    expect(readAudit('npm error network ENOTFOUND')).toMatchObject({ kind: 'unavailable' });
    expect(readAudit(JSON.stringify({ ...reportWithHigh, vulnerabilities: {} })).kind).toBe(
      'checked',
    );
  });

  it('shows no high or critical advisory in `npm audit --omit=dev`', async (context) => {
    const outcome = await runAudit(repoRoot);

    if (outcome.kind === 'unavailable') {
      // No answer is not a pass: the skip says so in the run's output, with npm's reason.
      const note = `npm audit not checked: the advisory database could not be asked (${outcome.reason})`;
      console.warn(note);
      context.skip(note);
      return;
    }
    expect(outcome.findings).toEqual([]);
    expect((outcome.counts.high ?? 0) + (outcome.counts.critical ?? 0)).toBe(0);
  }, 90_000);
});
