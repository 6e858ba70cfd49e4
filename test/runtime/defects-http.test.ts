import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { freePort } from '../../src/runtime/local/ports.js';
import { type LocalRuntime, startLocalRuntime } from '../../src/runtime/local/server.js';
import { TEST_API_KEY } from '../support/app.js';
import { sleep, until } from '../support/poll.js';
import {
  BANNER_END,
  linesOf,
  type RosterProcess,
  startRoster,
  stopRoster,
} from '../support/process.js';

/*
 * Regression tests for defects only a real socket shows: what Node's HTTP parser refuses before
 * the app sees it, and a client that goes away in the middle of its body.
 */

interface RawAnswer {
  readonly statusLine: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Sends `bytes` as they are and reads the answer: until the server closes the connection, or
 * until the head and `Content-Length` bytes of body are in, or `timeoutMs`.
 */
function rawRequest(port: number, bytes: string, timeoutMs = 3_000): Promise<RawAnswer> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      done(parseAnswer(received.toString('latin1')));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(parseAnswer(text).headers['content-length']);
      if (Number.isInteger(length) && received.length >= end + 4 + length) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', finish);
    socket.write(bytes, 'latin1');
  });
}

function parseAnswer(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { statusLine, status, headers, body: end < 0 ? '' : text.slice(end + 4) };
}

/** What a test needs to see of an answer, in one object (a failed assertion shows all of it). */
function described(answer: RawAnswer) {
  let body: unknown = answer.body;
  try {
    body = JSON.parse(answer.body);
  } catch {
    // not JSON: shown as text
  }
  return {
    status: answer.status,
    statusLine: answer.statusLine,
    contentType: answer.headers['content-type'],
    body,
  };
}

describe('HTTP edge cases on a real socket', () => {
  let runtime: LocalRuntime;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'roster-defects-'));
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

  it('answers requests the HTTP parser refuses with a 4xx problem+json body', async () => {
    const head = (requestLine: string, ...headers: string[]) =>
      [requestLine, 'Host: localhost', `x-api-key: ${TEST_API_KEY}`, ...headers, '', ''].join(
        '\r\n',
      );
    const cases: Record<string, string> = {
      'headers over 16 KiB': head('GET /events HTTP/1.1', `X-Filler: ${'a'.repeat(20_000)}`),
      'an invalid method token': head('G@T /events HTTP/1.1'),
      'Content-Length with Transfer-Encoding: chunked': `${head(
        'POST /events HTTP/1.1',
        'Content-Type: application/json',
        'Content-Length: 4',
        'Transfer-Encoding: chunked',
      )}0\r\n\r\n`,
      'a non-numeric Content-Length': `${head(
        'POST /events HTTP/1.1',
        'Content-Type: application/json',
        'Content-Length: abc',
      )}{}`,
    };

    const answers: Record<string, ReturnType<typeof described>> = {};
    for (const [name, bytes] of Object.entries(cases)) {
      answers[name] = described(await rawRequest(runtime.port, bytes));
    }

    // What each answer lacks of a 4xx problem+json whose body has status and title.
    const faults = Object.entries(answers).flatMap(([name, answer]) => {
      const body = answer.body as { status?: unknown; title?: unknown };
      const ok =
        answer.status >= 400 &&
        answer.status < 500 &&
        /^application\/problem\+json/.test(answer.contentType ?? '') &&
        typeof body === 'object' &&
        body !== null &&
        typeof body.title === 'string' &&
        body.status === answer.status;
      return ok
        ? []
        : [
            `${name}: "${answer.statusLine}", content-type ${answer.contentType}, body ${JSON.stringify(answer.body).slice(0, 120)}`,
          ];
    });
    expect(faults, 'answers that are not a 4xx problem+json with status and title').toEqual([]);
  });

  // Requests Node parses but the app can't be given as a URL: a request-target of `*`, a Host
  // header that is no host, no Host at all.
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

describe('a client that goes away mid-body', () => {
  let roster: RosterProcess | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    if (roster) await stopRoster(roster);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('logs an aborted request body at INFO, not as an unavailable dependency', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'roster-defects-'));
    const port = await freePort();
    roster = startRoster({
      PORT: String(port),
      DATA_DIR: dataDir,
      DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
      API_KEYS: TEST_API_KEY,
      LOG_LEVEL: 'info',
      TABLE_PREFIX: `t${randomBytes(6).toString('hex')}`,
    });
    await roster.waitForOutput(BANNER_END, 20_000);
    // Powertools writes INFO to stdout and WARN/ERROR to stderr: both are read.
    const marks = { stdout: roster.stdout().length, stderr: roster.stderr().length };

    // Announces 5000 bytes, sends a few, then goes away.
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((done, fail) => {
      socket.once('connect', done);
      socket.once('error', fail);
    });
    socket.write(
      [
        'POST /events HTTP/1.1',
        'Host: localhost',
        `x-api-key: ${TEST_API_KEY}`,
        'Content-Type: application/json',
        'Content-Length: 5000',
        '',
        '{"eventId":"half-sent","title":"Half a bo',
      ].join('\r\n'),
    );
    await sleep(300);
    socket.destroy();

    // Whatever the server logs about it: wait for a first line, then a little longer.
    const logged = () =>
      [
        ...linesOf(roster?.stdout().slice(marks.stdout) ?? ''),
        ...linesOf(roster?.stderr().slice(marks.stderr) ?? ''),
      ]
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    await until(logged, (lines) => lines.length > 0, { timeoutMs: 5_000, intervalMs: 50 });
    await sleep(500);
    const lines = logged();

    const summary = lines.map((line) => ({ level: line.level, message: line.message }));
    expect(
      lines.filter((line) => /^(WARN|ERROR|CRITICAL)$/i.test(String(line.level))),
      `WARN/ERROR lines for an aborted request: ${JSON.stringify(summary)}`,
    ).toEqual([]);
    expect(
      lines.filter((line) => /dependency unavailable/i.test(JSON.stringify(line))),
      'lines saying "dependency unavailable"',
    ).toEqual([]);
    expect(
      lines.filter(
        (line) =>
          String(line.level).toUpperCase() === 'INFO' && /abort/i.test(JSON.stringify(line)),
      ),
      `an INFO line mentioning the abort, among: ${JSON.stringify(summary)}`,
    ).not.toEqual([]);
  });
});
