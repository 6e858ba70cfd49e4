import { handle } from 'hono/aws-lambda';
import { createApi } from '../container.js';
import { flushingMetrics, lambdaContainer } from './bootstrap.js';

/**
 * API Gateway (REST, proxy integration) → the same Hono app the local server serves.
 * Built once per execution environment, outside the handler.
 */
const container = await lambdaContainer();

export const handler = flushingMetrics(container, handle(createApi(container)));
