import { beforeAll, describe, expect, it } from 'vitest';
import { customersModule } from '../../src/modules/customers/customers.module.js';
import { delayCalls, type SdkCall } from '../support/faults.js';
import { bodyOf, type CustomersApp, createCustomersApp, expectProblem } from './fixtures.js';

interface ExecutionStats {
  from: string;
  to: string;
  total: number;
  byStatus: Record<'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED', number>;
  byBranch: Record<'Inserted' | 'AlreadyExists' | 'Superseded', number>;
}

describe('GET /workflow/executions/stats', () => {
  let app: CustomersApp;
  const now = Date.parse('2026-06-15T12:00:00.000Z');
  const calls: SdkCall[] = [];

  beforeAll(async () => {
    app = await createCustomersApp({
      clock: () => new Date(now),
      dynamo: (clients) => {
        // Records every call (a matcher that holds none): what one stats request reads.
        delayCalls(clients, {
          when: (call) => {
            calls.push(call);
            return false;
          },
        });
        return clients;
      },
    });
    const steps = app.servicesOf(customersModule).steps;
    const run = async (executionId: string, startedAt: string, id = 'c1') =>
      steps.validateExists({ id, executionId, startedAt, input: { id } });
    // Started on 14 June: two inserted, one already there, one failed, one still running.
    await run('x1', '2026-06-14T09:00:00.000Z', 'n1');
    await steps.insertId({ id: 'n1', executionId: 'x1' });
    await run('x2', '2026-06-14T09:10:00.000Z', 'n2');
    await steps.insertId({ id: 'n2', executionId: 'x2' });
    await run('x3', '2026-06-14T10:00:00.000Z', 'n1');
    await steps.recordAlreadyExists({ id: 'n1', executionId: 'x3' });
    await run('x4', '2026-06-14T11:00:00.000Z');
    await steps.recordFailure({
      executionId: 'x4',
      error: { Error: 'States.TaskFailed', Cause: 'boom' },
    });
    await run('x5', '2026-06-14T23:59:59.999Z');
    // Before the range the tests ask for.
    await run('x0', '2026-05-01T00:00:00.000Z');
    await steps.recordFailure({ executionId: 'x0', error: { Error: 'x', Cause: 'y' } });
  });

  const stats = async (query = '') =>
    bodyOf<ExecutionStats>(await app.call(`/workflow/executions/stats${query}`), 200);

  it('counts the runs started in [from, to) by status, the successful ones by branch', async () => {
    const body = await stats('?from=2026-06-14T00:00:00Z&to=2026-06-15T00:00:00Z');

    expect(body).toEqual({
      from: '2026-06-14T00:00:00.000Z',
      to: '2026-06-15T00:00:00.000Z',
      total: 5,
      byStatus: { RUNNING: 1, SUCCEEDED: 3, FAILED: 1, TIMED_OUT: 0, ABORTED: 0 },
      byBranch: { Inserted: 2, AlreadyExists: 1, Superseded: 0 },
    });
  });

  it('covers the 14 days up to now by default', async () => {
    const body = await stats();

    expect([body.from, body.to]).toEqual(['2026-06-01T12:00:00.000Z', '2026-06-15T12:00:00.000Z']);
    expect(body.total).toBe(5);
  });

  it('reads the status index within the range, one query per status, no scan', async () => {
    calls.length = 0;

    await stats('?from=2026-06-14T00:00:00Z&to=2026-06-15T00:00:00Z');

    expect(calls.map((call) => call.command)).toEqual(Array(5).fill('QueryCommand'));
    for (const call of calls) {
      expect(call.input).toMatchObject({ IndexName: 'gsi1' });
      expect(JSON.stringify(call.input)).toContain('2026-06-14T00:00:00.000Z');
    }
  });

  it('is not an execution id: GET /workflow/executions/{executionId} still answers others', async () => {
    await expectProblem(await app.call('/workflow/executions/statistics'), 404);
  });

  it.each([
    ['?from=2026-06-14', 'query.from'],
    ['?from=2026-06-14T00:00:00Z&to=2026-06-14T00:00:00Z', 'query.to'],
    ['?from=2025-01-01T00:00:00Z&to=2026-06-14T00:00:00Z', 'query.to'],
  ])('refuses %s with a 422 naming %s', async (query, path) => {
    const problem = await expectProblem(
      await app.call(`/workflow/executions/stats${query}`),
      422,
      'REQUEST.VALIDATION_FAILED',
    );
    expect(problem.errors?.map((error) => error.path)).toEqual([path]);
  });
});
