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
          // DynamoDB Local serialises writes to an item behind a lock and answers
          // InternalServerError ("too long waiting for a lock ... will succeed in actual
          // DynamoDB") when a burst queues behind it. That is an emulator artefact, retryable:
          // give it more attempts than the SDK's default 3, and keep the default 50 sockets,
          // since more parallel requests only lengthen the lock queue. Bursts wait for a socket
          // by design here, so don't warn about it.
          maxAttempts: 10,
          requestHandler: {
            httpAgent: { keepAlive: true, maxSockets: 50 },
            socketAcquisitionWarningTimeout: 60_000,
          },
        }
      : {}),
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  return { client, doc };
}
