import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { freePort } from '../../src/runtime/local/ports.js';
import {
  BANNER_END,
  exitOf,
  parseBanner,
  type RosterProcess,
  startRoster,
  stopRoster,
} from '../support/process.js';
import { formatCpf, newCpf } from './fixtures.js';

const KEY = 'enrollments-runtime-key';

/** Every enrollment record of the runtime's table, read directly (a test may scan its own table). */
async function records(endpoint: string, table: string) {
  const { doc, client } = createDynamoClients({ region: 'us-east-1', endpoint });
  try {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: '#t = :t',
          ExpressionAttributeNames: { '#t': 'type' },
          ExpressionAttributeValues: { ':t': 'enrollment' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items as { id: string; status: string }[];
  } finally {
    client.destroy();
  }
}

describe('enrollments on the local runtime (npm start)', { timeout: 120_000 }, () => {
  const started: RosterProcess[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    await Promise.all(started.splice(0).map(stopRoster));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('finishes every request answered 202 when the process is SIGKILLed right after the 202 and started again', async () => {
    const endpoint = inject('dynamodbEndpoint');
    const dataDir = await mkdtemp(join(tmpdir(), 'roster-enrollments-'));
    dirs.push(dataDir);
    const prefix = `rt${randomBytes(5).toString('hex')}`;
    const table = `${prefix}-enrollments`;
    const env = {
      DATA_DIR: dataDir,
      DYNAMODB_ENDPOINT: endpoint,
      TABLE_PREFIX: prefix,
      API_KEYS: KEY,
      LOG_LEVEL: 'debug',
      // The default age (120 s) and no schedule: what the crash left PENDING, seconds old, is
      // recovered by the start-up run alone.
      ENROLLMENTS_RECONCILE_SCHEDULE: 'off',
    };
    const cpfs = Array.from({ length: 40 }, () => newCpf());

    const first = startRoster({ ...env, PORT: String(await freePort()) });
    started.push(first);
    const { url } = parseBanner(await first.waitForOutput(BANNER_END));
    const headers = { 'x-api-key': KEY, 'content-type': 'application/json' };
    const group = await fetch(`${url}/age-groups`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ min_age: 0, max_age: 150 }),
    });
    expect(group.status).toBe(201);

    // 40 requests at once; the first 202 kills the process on the spot.
    const accepted: string[] = [];
    await Promise.all(
      cpfs.map(async (cpf, i) => {
        try {
          const res = await fetch(`${url}/enrollments`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ name: `Crash ${i}`, age: i, cpf: formatCpf(cpf) }),
          });
          if (res.status !== 202) return;
          if (accepted.length === 0) first.child.kill('SIGKILL');
          accepted.push(((await res.json()) as { enrollment_id: string }).enrollment_id);
        } catch {
          // the process died under this request: no answer, no promise made
        }
      }),
    );
    expect(await exitOf(first)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(accepted.length).toBeGreaterThan(0);
    const atKill = await records(endpoint, table);
    const pendingAtKill = atKill.filter((r) => r.status === 'PENDING').length;

    const second = startRoster({ ...env, PORT: String(await freePort()) });
    started.push(second);
    await second.waitForOutput(BANNER_END);

    await expect
      .poll(async () => (await records(endpoint, table)).filter((r) => r.status !== 'PROCESSED'), {
        timeout: 30_000,
        interval: 250,
      })
      .toEqual([]);
    const final = await records(endpoint, table);
    expect(final.map((r) => r.id)).toEqual(expect.arrayContaining(accepted));
    // The crash left work behind (records written whose wake-up died with the process), which
    // is what the reconciler had to recover.
    expect(pendingAtKill, `${atKill.length} records at the kill`).toBeGreaterThan(0);
    const output = [first.stdout(), first.stderr(), second.stdout(), second.stderr()].join('\n');
    expect(output).toContain('pending enrollments sent to the queue again');
    for (const cpf of cpfs) {
      expect(output).not.toContain(cpf);
      expect(output).not.toContain(formatCpf(cpf));
    }
  });
});
