import { handle } from 'hono/aws-lambda';
import { loadConfig } from '../../platform/config.js';
import { createContainer } from '../container.js';

/**
 * API Gateway (REST, proxy integration) → the same Hono app the local server serves.
 * Built once per execution environment, outside the handler.
 */
const container = createContainer({ config: loadConfig() });

export const handler = handle(container.app);
