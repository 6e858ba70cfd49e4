import { streamedRoutesOf } from '../../platform/http/public-routes.js';
import { createApi } from '../container.js';
import { flushingMetrics, lambdaContainer } from './bootstrap.js';
import { downloadsOnly, streamingHandler } from './streaming.js';

/**
 * API Gateway (REST, Lambda proxy integration with response streaming) → the CSV downloads of
 * the same Hono app the API function serves, streamed page by page: Lambda's 6 MB limit on a
 * buffered answer does not apply (docs/decisions/infra.md, "CSV downloads"). Built once per
 * execution environment, outside the handler.
 */
const container = await lambdaContainer();
const app = createApi(container);

export const handler = awslambda.streamifyResponse(
  flushingMetrics(
    container,
    streamingHandler(downloadsOnly(app, streamedRoutesOf(app)), container.logger),
  ),
);
