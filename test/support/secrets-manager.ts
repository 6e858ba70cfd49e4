import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** A secret id (its ARN, as the stack names it) → its SecretString. */
export type StoredSecrets = Readonly<Record<string, string>>;

export interface SecretsManagerStandIn {
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL_SECRETS_MANAGER, for the SDK's client. */
  readonly endpoint: string;
  /** The port: PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, for the extension's protocol. */
  readonly port: number;
  /** The secret ids asked for, in order (either protocol); `GET /asked` answers them as JSON. */
  readonly asked: readonly string[];
  /** GetSecretValue calls so far, refused ones included. */
  readonly calls: number;
  /** How many of the next calls to refuse (AccessDeniedException, 400): the SDK retries none. */
  refuse: number;
  close(): Promise<void>;
}

export interface SecretsManagerStandInOptions {
  /**
   * The session token the extension's protocol requires in `X-Aws-Parameters-Secrets-Token` (the
   * function's AWS_SESSION_TOKEN); a call without it is refused (401), as the extension does.
   */
  readonly sessionToken?: string;
  /** Listen on this port (one chosen before, for an extension that starts late); any if absent. */
  readonly port?: number;
}

/**
 * A local stand-in for AWS Secrets Manager's GetSecretValue, for Lambda entries run by the tests
 * and the bench. It answers both ways a function asks: as Secrets Manager, to the SDK's JSON
 * protocol (`POST /`, body `{"SecretId": …}`), and as the Parameters and Secrets Lambda Extension
 * (`GET /secretsmanager/get?secretId=…` with the session token). Both answer GetSecretValue's JSON;
 * an unknown id is 400 ResourceNotFoundException, a refused call 400 AccessDeniedException (the
 * extension passes Secrets Manager's refusals on as 400s).
 */
export async function secretsManagerStandIn(
  secrets: StoredSecrets,
  options: SecretsManagerStandInOptions = {},
): Promise<SecretsManagerStandIn> {
  const asked: string[] = [];
  let calls = 0;

  const answer = (response: ServerResponse, secretId: string, contentType: string) => {
    calls++;
    asked.push(secretId);
    const secret = secrets[secretId];
    const refusal =
      standIn.refuse > 0
        ? 'AccessDeniedException'
        : secret === undefined
          ? 'ResourceNotFoundException'
          : undefined;
    if (refusal) {
      if (refusal === 'AccessDeniedException') standIn.refuse--;
      response.writeHead(400, { 'content-type': contentType });
      response.end(JSON.stringify({ __type: refusal, message: `${refusal}: ${secretId}` }));
      return;
    }
    response.writeHead(200, { 'content-type': contentType });
    response.end(
      JSON.stringify({
        ARN: secretId,
        Name: secretId.split(':').at(-1),
        SecretString: secret,
        VersionId: '00000000-0000-0000-0000-000000000000',
      }),
    );
  };

  const handle = (request: IncomingMessage, response: ServerResponse, body: string) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method === 'GET' && url.pathname === '/asked') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(asked));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/secretsmanager/get') {
      if (request.headers['x-aws-parameters-secrets-token'] !== options.sessionToken) {
        response.writeHead(401).end('missing or wrong X-Aws-Parameters-Secrets-Token');
        return;
      }
      answer(response, url.searchParams.get('secretId') ?? '', 'application/json');
      return;
    }
    if (request.method === 'POST') {
      const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
      answer(response, SecretId ?? '', 'application/x-amz-json-1.1');
      return;
    }
    response.writeHead(404).end('not found');
  };

  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => handle(request, response, body));
  });
  await new Promise<void>((done) => server.listen(options.port ?? 0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };

  const standIn: SecretsManagerStandIn = {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    asked,
    get calls() {
      return calls;
    },
    refuse: 0,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
  return standIn;
}
