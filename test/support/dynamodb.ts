import { inject } from 'vitest';

/**
 * The endpoint of the run's DynamoDB Local. Only the integration and system projects start one
 * (vitest.config.ts): in another project this fails at once, rather than letting the SDK go
 * looking for AWS with the default endpoint.
 */
export function dynamodbEndpoint(): string {
  const endpoint = inject('dynamodbEndpoint');
  if (!endpoint) {
    throw new Error(
      'this test needs DynamoDB Local, which its Vitest project does not start: list its file ' +
        'under the integration or system project in vitest.config.ts',
    );
  }
  return endpoint;
}
