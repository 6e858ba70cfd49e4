import { handle } from 'hono/aws-lambda';
import { createApi } from '../container.js';
import { flushingMetrics, lambdaContainer } from './bootstrap.js';

/**
 * API Gateway (REST, proxy integration) → the same Hono app the local server serves.
 * Built once per execution environment, outside the handler; a module's code (its services and
 * routes) loads on the first request to one of its routes, so a cold start carries none of it.
 */
const container = await lambdaContainer({ moduleCode: 'on-first-request' });

// Lambda buffers this function's answers (6 MB at most): a list's CSV variant goes to its `.csv`
// twin, which the exports function streams.
export const handler = flushingMetrics(
  container,
  handle(createApi(container, { csvVariant: 'redirect', moduleCode: 'on-first-request' })),
);
