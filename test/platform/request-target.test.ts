import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { type LocalRuntime, startLocalRuntime } from '../../src/runtime/local/server.js';
import { TEST_API_KEY } from '../support/app.js';

/*
 * Requests Node parses but the app can't be given as a URL: a request-target of `*`, a Host
 * header that is no host, no Host at all. Only a raw socket sends these (fetch can't).
 */

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Sends `head` as it is; reads until the answer's head and Content-Length bytes are in. */
function rawRequest(port: number, head: string): Promise<RawAnswer> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const finish = () => {
      socket.destroy();
      clearTimeout(timer);
      done(parse(received));
    };
    const timer = setTimeout(finish, 3_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const answer = parse(received);
      const length = Number(answer.headers['content-length']);
      if (Number.isInteger(length) && received.length >= end + 4 + length) finish();
      // An empty chunked body: the whole answer is in.
      if (answer.headers['transfer-encoding'] === 'chunked' && received.endsWith('0\r\n\r\n'))
        finish();
    });
    socket.on('close', finish);
    socket.on('error', finish);
    socket.write(head, 'latin1');
  });
}

function parse(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = (end < 0 ? text : text.slice(0, end)).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    body: end < 0 ? '' : text.slice(end + 4),
  };
}

describe('requests the app cannot be given as a URL, on a real socket', () => {
  let runtime: LocalRuntime;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'roster-target-'));
    runtime = await startLocalRuntime(
      loadConfig({
        PORT: '0',
        DATA_DIR: dataDir,
        DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
        API_KEYS: TEST_API_KEY,
        LOG_LEVEL: 'silent',
        TABLE_PREFIX: `t${randomBytes(6).toString('hex')}`,
      }),
      [],
    );
  });

  afterAll(async () => {
    await runtime?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['a request-target of *', 'GET * HTTP/1.1\r\nHost: localhost'],
    ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: localhost'],
    ['a Host with a space', 'GET /health HTTP/1.1\r\nHost: bad host'],
    ['a Host with a slash', 'GET /health HTTP/1.1\r\nHost: a/b'],
    ['a Host with userinfo', 'GET /health HTTP/1.1\r\nHost: user@localhost'],
    ['an unclosed IPv6 Host', 'GET /health HTTP/1.1\r\nHost: [::1'],
    ['a port out of range', 'GET /health HTTP/1.1\r\nHost: localhost:99999'],
    ['no Host at all', 'GET /health HTTP/1.1'],
  ])('answers %s with a 400 problem+json and a request id', async (_, head) => {
    const answer = await rawRequest(runtime.port, `${head}\r\n\r\n`);

    expect({ status: answer.status, type: answer.headers['content-type'] }).toEqual({
      status: 400,
      type: 'application/problem+json',
    });
    const requestId = answer.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(answer.body)).toMatchObject({
      status: 400,
      title: 'Bad Request',
      code: 'REQUEST.TARGET_INVALID',
      requestId,
    });
  });

  it('still answers a well-formed request on the same kind of socket', async () => {
    const answer = await rawRequest(
      runtime.port,
      'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n',
    );

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'ok' });
  });
});
