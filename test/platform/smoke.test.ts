import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.js';

describe('system routes', () => {
  it('answers /health with 200 when DynamoDB Local answers', async () => {
    const app = await createTestApp();
    const res = await app.call('/health', { key: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { database: 'ok' } });
  });
});
