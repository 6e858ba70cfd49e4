import { handle } from 'hono/aws-lambda';
import { createApi } from '../container.js';
import { lambdaContainer } from './bootstrap.js';

/**
 * API Gateway (REST, proxy integration) → the same Hono app the local server serves.
 * Built once per execution environment, outside the handler.
 */
const app = createApi(await lambdaContainer());

export const handler = handle(app);
