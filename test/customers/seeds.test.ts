import { describe, expect, it } from 'vitest';
import { bodyOf, createCustomersApp, type Execution, execution } from './fixtures.js';

/**
 * The customers seed's examples (docs/seeds.md), in order, with its host dropped and the API key
 * added (by `app.call`): paths, headers and bodies as the seed prints them.
 */
describe('the customers seed\'s "Example Requests" and "Invoke Workflow" (docs/seeds.md)', () => {
  it('runs the seed examples with the documented outcomes', async () => {
    const app = await createCustomersApp();
    const json = { 'Content-Type': 'application/json' };

    // PUT create
    expect(
      await bodyOf(await app.call('/customers/user_test', { method: 'PUT', headers: json }), 201),
    ).toEqual({ id: 'user_test', created: true });
    await app.idle();

    // GET exists (the seed's "Example Responses")
    expect(await bodyOf(await app.call('/customers/user_test'), 200)).toEqual({
      id: 'user_test',
      exists: true,
    });
    expect(await bodyOf(await app.call('/customers/unknown'), 200)).toEqual({
      id: 'unknown',
      exists: false,
    });

    // DELETE
    expect(await bodyOf(await app.call('/customers/user_test', { method: 'DELETE' }), 200)).toEqual(
      { id: 'user_test', deleted: true },
    );
    expect(await bodyOf(await app.call('/customers/user_test'), 200)).toEqual({
      id: 'user_test',
      exists: false,
    });

    // OPTIONS preflight (CORS)
    const preflight = await app.call('/customers/user_abc', {
      method: 'OPTIONS',
      key: null,
      headers: {
        Origin: 'http://localhost:5173',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'content-type,x-api-key',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/PUT/);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(
      /x-api-key/,
    );

    // Invoke Workflow: "First run with new ID → Inserted. Second run with same ID → AlreadyExists."
    const runs: Execution[] = [];
    for (let i = 0; i < 2; i++) {
      const { executionId } = await bodyOf<{ executionId: string }>(
        await app.call('/workflow/submit', { method: 'POST', json: { id: 'sfn-101' } }),
        202,
      );
      await app.idle();
      runs.push(await execution(app, executionId));
    }
    expect(runs.map((run) => [run.status, run.branch])).toEqual([
      ['SUCCEEDED', 'Inserted'],
      ['SUCCEEDED', 'AlreadyExists'],
    ]);
  });
});
