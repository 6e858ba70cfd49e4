import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/runtime/local/ports.js';
import { until } from '../support/poll.js';
import {
  BANNER_END,
  exitOf,
  type RosterProcess,
  startRoster,
  stopRoster,
} from '../support/process.js';
import type { Execution } from './fixtures.js';

const KEY = 'customers-process-key';

describe('the customers workflow in `npm start`', { timeout: 90_000 }, () => {
  let roster: RosterProcess | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    if (roster) await stopRoster(roster);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('shows the run a PUT’s CustomerCreated started (AlreadyExists) and ends a submitted new id Inserted', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'roster-customers-'));
    const port = await freePort();
    roster = startRoster({
      PORT: String(port),
      DATA_DIR: dataDir,
      DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
      TABLE_PREFIX: `local${randomBytes(4).toString('hex')}`,
      API_KEYS: KEY,
    });
    await roster.waitForOutput(BANNER_END);
    const api = `http://localhost:${port}`;
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${api}${path}`, {
        ...init,
        headers: { 'x-api-key': KEY, 'content-type': 'application/json', ...init.headers },
      });
    /** Polls until `read` gives a value that satisfies `done` (about 100 reads, 50 ms apart). */
    const poll = <T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> =>
      until(read, done, { timeoutMs: 6_000, intervalMs: 50 });

    expect((await call('/customers/c-1', { method: 'PUT' })).status).toBe(201);
    const runs = await poll(
      async () => (await (await call('/workflow/executions?id=c-1')).json()) as Execution[],
      (list) => list.length === 1 && list[0]?.status !== 'RUNNING',
    );
    expect(runs).toEqual([
      expect.objectContaining({
        status: 'SUCCEEDED',
        branch: 'AlreadyExists',
        input: { id: 'c-1', version: 1 },
      }),
    ]);

    const submitted = await call('/workflow/submit', {
      method: 'POST',
      body: JSON.stringify({ id: 'c-2' }),
    });
    expect(submitted.status).toBe(202);
    const { executionId } = (await submitted.json()) as { executionId: string };
    const run = await poll(
      async () => (await (await call(`/workflow/executions/${executionId}`)).json()) as Execution,
      (value) => value.status !== 'RUNNING',
    );
    expect(run).toMatchObject({ status: 'SUCCEEDED', branch: 'Inserted' });

    roster.child.kill('SIGTERM');
    expect((await exitOf(roster)).code).toBe(0);
  });
});
