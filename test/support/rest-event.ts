import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';

export interface RestEventOptions {
  /** The key API Gateway checked (its id), if any. */
  readonly apiKeyId?: string;
  readonly headers?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly body?: string;
  /** The API Gateway resource the request matched. @default '/{proxy+}' */
  readonly resource?: string;
}

const HOST = 'abc123.execute-api.eu-west-1.amazonaws.com';

/** A REST API (v1) proxy event as API Gateway sends it to a Lambda function. */
export function restEvent(
  method: string,
  path: string,
  options: RestEventOptions = {},
): APIGatewayProxyEvent {
  const headers = { host: HOST, ...options.headers };
  const resource = options.resource ?? '/{proxy+}';
  const query = options.query && Object.keys(options.query).length > 0 ? options.query : undefined;
  return {
    httpMethod: method,
    path,
    resource,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query ?? null,
    multiValueQueryStringParameters: query
      ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]))
      : null,
    pathParameters: resource === '/{proxy+}' ? { proxy: path.slice(1) } : null,
    stageVariables: null,
    isBase64Encoded: false,
    body: options.body ?? null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      domainName: HOST,
      httpMethod: method,
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'res1',
      resourcePath: resource,
      stage: 'prod',
      identity: {
        apiKeyId: options.apiKeyId ?? null,
        apiKey: null,
        sourceIp: '203.0.113.7',
        userAgent: 'vitest',
      },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}
