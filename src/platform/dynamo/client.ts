import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoClients {
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
}

export interface DynamoClientOptions {
  readonly region: string;
  /** A DynamoDB-compatible endpoint (DynamoDB Local); AWS's endpoint when undefined. */
  readonly endpoint?: string | undefined;
}

export function createDynamoClients(options: DynamoClientOptions): DynamoClients {
  const client = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          // DynamoDB Local accepts any credentials; fixed ones keep a developer's AWS profile
          // (and its account) out of the local runtime entirely.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          // One local process serves every request; the default 50 sockets queue bursts behind
          // each other (and log a warning for each burst).
          requestHandler: { httpAgent: { keepAlive: true, maxSockets: 256 } },
        }
      : {}),
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  return { client, doc };
}
