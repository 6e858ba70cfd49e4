import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSender,
  type DeliveryRequest,
  newSigningSecret,
  type SenderOptions,
  signatureHeader,
  type TargetPolicy,
  targetUrlProblem,
} from '../../src/modules/webhooks/webhooks.delivery.js';

interface Hit {
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

type Respond = (res: http.ServerResponse, hit: Hit) => void;

const servers: (http.Server | https.Server)[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
    ),
  );
});

async function listen(server: http.Server | https.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as AddressInfo).port;
}

/** An HTTP server on 127.0.0.1 that records every request (and every connection) it gets. */
async function receiver(respond: Respond = (res) => res.writeHead(204).end()) {
  const hits: Hit[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const hit = {
        method: req.method,
        path: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      hits.push(hit);
      respond(res, hit);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  const port = await listen(server);
  return {
    hits,
    port,
    url: `http://127.0.0.1:${port}/hooks`,
    connections: () => connections,
  };
}

/** A lookup answering from a table, counting the names it was asked for. */
function tableLookup(answers: Record<string, string[]>) {
  const asked: string[] = [];
  const lookup = async (hostname: string) => {
    asked.push(hostname);
    const addresses = answers[hostname];
    if (!addresses) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { asked, lookup };
}

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const rotatedSecret = newSigningSecret();

function request(url: string, overrides: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    url,
    webhookId: 'evt_01J9ZQ3K4T5Y6W7X8V9B0N1M2C',
    timestamp: new Date(),
    body: JSON.stringify({ type: 'registration.confirmed', data: { eventId: 'conf', seats: 42 } }),
    secrets: [secret],
    timeoutMs: 2_000,
    ...overrides,
  };
}

function loopbackSender(options: Partial<SenderOptions> = {}) {
  return createSender({ policy: 'public-and-loopback', ...options });
}

const PENDING = Symbol('pending');

/** The promise's value, or PENDING if it has not settled after `ms` (a generous bound, not a speed check). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof PENDING> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof PENDING>((done) => {
    timer = setTimeout(() => done(PENDING), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function signedHeaders(hit: Hit): Record<string, string> {
  return {
    'webhook-id': String(hit.headers['webhook-id']),
    'webhook-timestamp': String(hit.headers['webhook-timestamp']),
    'webhook-signature': String(hit.headers['webhook-signature']),
  };
}

describe('sending a webhook', () => {
  it('POSTs the body as is with the Standard Webhooks headers, signed once per secret', async () => {
    const target = await receiver();
    const sent = request(target.url, {
      secrets: [secret, rotatedSecret],
      timestamp: new Date(Date.now() - 1_500),
    });

    const result = await loopbackSender()(sent);

    expect(result).toMatchObject({ ok: true, status: 204 });
    expect(target.hits).toHaveLength(1);
    const [hit] = target.hits as [Hit];
    expect(hit.method).toBe('POST');
    expect(hit.path).toBe('/hooks');
    expect(hit.body).toBe(sent.body);
    expect(hit.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': sent.webhookId,
      'webhook-timestamp': String(Math.floor(sent.timestamp.getTime() / 1000)),
      'user-agent': 'Roster-Webhooks/1',
    });
    expect(String(hit.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const key of [secret, rotatedSecret]) {
      expect(new Webhook(key).verify(hit.body, signedHeaders(hit))).toEqual(JSON.parse(sent.body));
    }
  });

  it('signs so that a tampered body or another secret does not verify', async () => {
    const target = await receiver();

    await loopbackSender()(request(target.url));

    const [hit] = target.hits as [Hit];
    const tampered = hit.body.replace('42', '43');
    expect(tampered).not.toBe(hit.body);
    expect(() => new Webhook(secret).verify(tampered, signedHeaders(hit))).toThrow(/signature/);
    expect(() => new Webhook(newSigningSecret()).verify(hit.body, signedHeaders(hit))).toThrow(
      /signature/,
    );
  });

  it('signs the timestamp, so a receiver refuses a message that is too old', async () => {
    const target = await receiver();

    await loopbackSender()(request(target.url, { timestamp: new Date(Date.now() - 10 * 60_000) }));

    const [hit] = target.hits as [Hit];
    expect(() => new Webhook(secret).verify(hit.body, signedHeaders(hit))).toThrow(/too old/);
  });

  it('sends the configured user agent', async () => {
    const target = await receiver();

    await loopbackSender({ userAgent: 'Roster-Webhooks/test' })(request(target.url));

    expect(target.hits[0]?.headers['user-agent']).toBe('Roster-Webhooks/test');
  });

  it('records the status, an excerpt of the answer and the latency', async () => {
    const accepted = await receiver((res) => res.writeHead(201).end('accepted: thanks'));
    const failing = await receiver((res) => res.writeHead(500).end('boom'));
    const send = loopbackSender();

    const ok = await send(request(accepted.url));
    const failed = await send(request(failing.url));

    expect(ok).toMatchObject({ ok: true, status: 201, excerpt: 'accepted: thanks' });
    expect(ok.error).toBeUndefined();
    expect(ok.latencyMs).toBeGreaterThanOrEqual(0);
    expect(failed).toMatchObject({ ok: false, status: 500, excerpt: 'boom' });
    expect(failed.error).toBeUndefined();
  });

  it('keeps the first 500 characters of the answer', async () => {
    const target = await receiver((res) => res.writeHead(200).end('x'.repeat(900)));

    const result = await loopbackSender()(request(target.url));

    expect(result.excerpt).toBe('x'.repeat(500));
  });

  it('reads no more than 1 KiB of the answer, dropping a character cut in half', async () => {
    // 3 bytes each: 1,024 bytes hold 341 whole euro signs and a third of the next.
    const target = await receiver((res) => res.writeHead(200).end('€'.repeat(2_000)));

    const result = await loopbackSender()(request(target.url));

    expect(result.excerpt).toBe('€'.repeat(341));
  });

  it('cuts a receiver that streams its answer forever after 1 KiB, long before the deadline', async () => {
    let closed = false;
    const target = await receiver((res) => {
      res.on('close', () => {
        closed = true;
      });
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 'z');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });

    const result = await within(
      loopbackSender()(request(target.url, { timeoutMs: 60_000 })),
      10_000,
    );

    expect(result).not.toBe(PENDING);
    expect(result).toMatchObject({ ok: true, status: 200, excerpt: 'z'.repeat(500) });
    await expect.poll(() => closed).toBe(true);
  });

  it('cuts a receiver that trickles its answer forever at the deadline', async () => {
    let closed = false;
    const target = await receiver((res) => {
      res.writeHead(200);
      res.write('a');
      const timer = setInterval(() => res.write('a'), 20);
      cleanups.push(() => clearInterval(timer));
      res.on('close', () => {
        closed = true;
        clearInterval(timer);
      });
    });
    const timeoutMs = 300;

    const result = await within(
      loopbackSender()(request(target.url, { timeoutMs })),
      5 * timeoutMs,
    );

    expect(result).not.toBe(PENDING);
    expect(result).toMatchObject({ ok: true, status: 200 });
    if (result !== PENDING) expect(result.excerpt).toMatch(/^a+$/);
    await expect.poll(() => closed).toBe(true);
  });

  it('gives up on a receiver that never answers: timeout', async () => {
    const target = await receiver(() => {});
    const timeoutMs = 300;

    const result = await within(
      loopbackSender()(request(target.url, { timeoutMs })),
      5 * timeoutMs,
    );

    expect(result).toMatchObject({ ok: false, error: 'timeout', excerpt: '' });
    if (result !== PENDING) expect(result.status).toBeUndefined();
  });

  it('counts the name lookup in the deadline: a lookup that never answers is a timeout', async () => {
    const timeoutMs = 300;
    const send = loopbackSender({ lookup: () => new Promise(() => {}) });

    const result = await within(
      send(request('https://hooks.example.test/in', { timeoutMs })),
      5 * timeoutMs,
    );

    expect(result).toMatchObject({ ok: false, error: 'timeout' });
  });

  it('does not follow a redirect: a 3xx is a failed attempt and Location is never requested', async () => {
    const elsewhere = await receiver();
    const target = await receiver((res) =>
      res.writeHead(307, { location: elsewhere.url }).end('moved'),
    );

    const result = await loopbackSender()(request(target.url));

    expect(result).toMatchObject({ ok: false, status: 307, error: 'redirect' });
    expect(elsewhere.connections()).toBe(0);
  });

  it('reads Retry-After in seconds, capped at a day', async () => {
    const busy = await receiver((res) => res.writeHead(429, { 'retry-after': '120' }).end());
    const greedy = await receiver((res) => res.writeHead(503, { 'retry-after': '999999' }).end());
    const send = loopbackSender();

    expect(await send(request(busy.url))).toMatchObject({ ok: false, retryAfterSeconds: 120 });
    expect(await send(request(greedy.url))).toMatchObject({ retryAfterSeconds: 86_400 });
  });

  it('ignores Retry-After on a 2xx answer', async () => {
    const target = await receiver((res) => res.writeHead(200, { 'retry-after': '30' }).end());

    const result = await loopbackSender()(request(target.url));

    expect(result.ok).toBe(true);
    expect(result.retryAfterSeconds).toBeUndefined();
  });

  it('reads Retry-After as an HTTP-date', async () => {
    const when = new Date(Date.now() + 90_000).toUTCString();
    const target = await receiver((res) => res.writeHead(503, { 'retry-after': when }).end());

    const result = await loopbackSender()(request(target.url));

    expect(result.status).toBe(503);
    expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(80);
    expect(result.retryAfterSeconds).toBeLessThanOrEqual(91);
  });

  it('reads a Retry-After date in the past as 0', async () => {
    const when = new Date(Date.now() - 60_000).toUTCString();
    const target = await receiver((res) => res.writeHead(429, { 'retry-after': when }).end());

    expect(await loopbackSender()(request(target.url))).toMatchObject({ retryAfterSeconds: 0 });
  });

  it('answers a refused connection as connection', async () => {
    const closedServer = http.createServer();
    const port = await listen(closedServer);
    servers.pop();
    await new Promise<void>((done) => closedServer.close(() => done()));

    const result = await loopbackSender()(request(`http://127.0.0.1:${port}/hooks`));

    expect(result).toMatchObject({ ok: false, error: 'connection', excerpt: '' });
    expect(result.errorMessage).toBeTruthy();
  });

  it('answers a name that does not resolve as connection', async () => {
    const { lookup } = tableLookup({});

    const result = await loopbackSender({ lookup })(request('https://nowhere.example.test/'));

    expect(result).toMatchObject({ ok: false, error: 'connection' });
  });

  it('answers https to a server that does not speak TLS as tls', async () => {
    const target = await receiver();

    const result = await loopbackSender()(request(`https://127.0.0.1:${target.port}/hooks`));

    expect(result).toMatchObject({ ok: false, error: 'tls' });
    expect(target.hits).toHaveLength(0);
  });
});

describe('the target guard at send time', () => {
  const publicAddress = '93.184.215.14';

  it.each([
    ['a loopback address', (port: number) => `https://127.0.0.1:${port}/hooks`, '127.0.0.1'],
    ['plain http', (port: number) => `http://hooks.example.com:${port}/hooks`, 'https'],
    ['localhost', (port: number) => `https://localhost:${port}/hooks`, 'localhost'],
    ['a name under .internal', () => 'https://metadata.google.internal/x', 'internal'],
    ['a private address', () => 'https://10.0.0.1/hooks', '10.0.0.1'],
    ['the metadata address', () => 'https://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['IPv6 loopback', (port: number) => `https://[::1]:${port}/hooks`, '::1'],
    ['IPv4-mapped loopback', (port: number) => `https://[::ffff:127.0.0.1]:${port}/`, '127.0.0.1'],
    ['NAT64 of a private address', () => 'https://[64:ff9b::a00:1]/', '10.0.0.1'],
    ['6to4 of the metadata address', () => 'https://[2002:a9fe:a9fe::1]/', '169.254.169.254'],
    ['a unique-local IPv6 address', () => 'https://[fd00::1]/hooks', 'fd00::1'],
    ['a URL with credentials', (port: number) => `https://user:pw@127.0.0.1:${port}/`, 'password'],
  ])('refuses %s under policy public, without a lookup or a connection', async (_, url, why) => {
    const target = await receiver();
    const { asked, lookup } = tableLookup({ 'hooks.example.com': [publicAddress] });

    const result = await createSender({ policy: 'public', lookup })(request(url(target.port)));

    expect(result).toMatchObject({ ok: false, error: 'refused-target', excerpt: '' });
    expect(result.errorMessage).toContain(why);
    expect(asked).toEqual([]);
    expect(target.connections()).toBe(0);
  });

  it.each([
    ['a private address', ['10.1.2.3'], '10.1.2.3'],
    ['a public and a private address', [publicAddress, '192.168.7.7'], '192.168.7.7'],
    ['a private address then a public one', ['fd12::5', publicAddress], 'fd12::5'],
    ['the loopback address', ['127.0.0.1'], '127.0.0.1'],
  ])('refuses a name that resolves to %s, connecting nowhere', async (_, addresses, why) => {
    const target = await receiver();
    const { asked, lookup } = tableLookup({ 'hooks.example.test': addresses });

    const result = await createSender({ policy: 'public', lookup })(
      request(`https://hooks.example.test:${target.port}/hooks`),
    );

    expect(result).toMatchObject({ ok: false, error: 'refused-target' });
    expect(result.errorMessage).toContain(why);
    expect(asked).toEqual(['hooks.example.test']);
    expect(target.connections()).toBe(0);
  });

  it('resolves localhost with the system lookup under policy public-and-loopback', async () => {
    const target = await receiver();

    const result = await createSender({ policy: 'public-and-loopback' })(
      request(`http://localhost:${target.port}/hooks`),
    );

    expect(result).toMatchObject({ ok: true, status: 204 });
    expect(target.hits[0]?.headers.host).toBe(`localhost:${target.port}`);
  });

  it('rejects a delivery with no secret, a programming error, without connecting', async () => {
    const target = await receiver();

    await expect(loopbackSender()(request(target.url, { secrets: [] }))).rejects.toThrow(/secret/);
    expect(target.connections()).toBe(0);
  });

  it('reaches a loopback receiver under policy public-and-loopback', async () => {
    const target = await receiver();

    const result = await createSender({ policy: 'public-and-loopback' })(request(target.url));

    expect(result).toMatchObject({ ok: true, status: 204 });
    expect(target.hits).toHaveLength(1);
  });

  it('still refuses private and metadata targets under policy public-and-loopback', async () => {
    const { lookup } = tableLookup({ 'hooks.example.test': ['127.0.0.1', '10.9.9.9'] });
    const send = createSender({ policy: 'public-and-loopback', lookup });

    for (const url of [
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://metadata.google.internal/',
      'http://hooks.example.test/',
    ]) {
      expect(await send(request(url)), url).toMatchObject({ error: 'refused-target' });
    }
  });

  it('connects to the address it checked, keeping the name as Host', async () => {
    const target = await receiver();
    const { asked, lookup } = tableLookup({ 'hooks.example.test': ['127.0.0.1'] });

    const result = await loopbackSender({ lookup })(
      request(`http://hooks.example.test:${target.port}/hooks`),
    );

    expect(result).toMatchObject({ ok: true, status: 204 });
    expect(target.hits[0]?.headers.host).toBe(`hooks.example.test:${target.port}`);
    expect(asked).toEqual(['hooks.example.test']);
  });

  it('resolves once: an answer that changes after the check (rebinding) is never used', async () => {
    const target = await receiver();
    const answers = [['127.0.0.1'], ['10.6.6.6']];
    let lookups = 0;
    const lookup = async () => {
      const addresses = answers[Math.min(lookups, answers.length - 1)] ?? [];
      lookups += 1;
      return addresses.map((address) => ({ address, family: 4 }));
    };

    const result = await loopbackSender({ lookup })(
      request(`http://rebind.example.test:${target.port}/hooks`),
    );

    expect(result).toMatchObject({ ok: true, status: 204 });
    expect(lookups).toBe(1);
  });

  it('keeps the name as the TLS server name while connecting to the checked address', async () => {
    const serverNames: string[] = [];
    const server = https.createServer({
      SNICallback: (name, answer) => {
        serverNames.push(name);
        answer(new Error('no certificate in this test'));
      },
    });
    const port = await listen(server);
    const { lookup } = tableLookup({ 'hooks.example.test': ['127.0.0.1'] });

    const result = await loopbackSender({ lookup })(
      request(`https://hooks.example.test:${port}/hooks`),
    );

    expect(serverNames).toEqual(['hooks.example.test']);
    expect(result).toMatchObject({ ok: false, error: 'tls' });
  });
});

describe('targetUrlProblem', () => {
  const refused: [string, TargetPolicy][] = [
    ['not a url', 'public'],
    ['ftp://hooks.example.com/', 'public'],
    ['http://hooks.example.com/', 'public'],
    ['https://user:secret@hooks.example.com/', 'public'],
    ['https://127.0.0.1/', 'public'],
    ['https://2130706433/', 'public'],
    ['https://0x7f.1/', 'public'],
    ['https://localhost/', 'public'],
    ['https://localhost./', 'public'],
    ['https://admin.localhost/', 'public'],
    ['https://metadata.google.internal/', 'public'],
    ['https://0.0.0.0/', 'public'],
    ['https://10.20.30.40/', 'public'],
    ['https://100.64.0.1/', 'public'],
    ['https://169.254.169.254/', 'public'],
    ['https://172.16.0.1/', 'public'],
    ['https://172.31.255.255/', 'public'],
    ['https://192.0.0.8/', 'public'],
    ['https://192.0.2.1/', 'public'],
    ['https://192.168.1.1/', 'public'],
    ['https://198.18.0.1/', 'public'],
    ['https://198.51.100.7/', 'public'],
    ['https://203.0.113.9/', 'public'],
    ['https://224.0.0.1/', 'public'],
    ['https://240.0.0.1/', 'public'],
    ['https://255.255.255.255/', 'public'],
    ['https://[::]/', 'public'],
    ['https://[::1]/', 'public'],
    ['https://[fc00::1]/', 'public'],
    ['https://[fe80::1]/', 'public'],
    ['https://[ff02::1]/', 'public'],
    ['https://[2001:db8::1]/', 'public'],
    ['https://[::ffff:169.254.169.254]/', 'public'],
    ['https://[::ffff:10.0.0.1]/', 'public'],
    ['https://[64:ff9b::7f00:1]/', 'public'],
    ['https://[2002:c0a8:101::]/', 'public'],
    ['ftp://127.0.0.1/', 'public-and-loopback'],
    ['http://10.0.0.1/', 'public-and-loopback'],
    ['http://169.254.169.254/', 'public-and-loopback'],
    ['http://[fd00::1]/', 'public-and-loopback'],
    ['http://x.internal/', 'public-and-loopback'],
    ['http://user@127.0.0.1/', 'public-and-loopback'],
  ];
  it.each(refused)('refuses %s under %s, saying why', (url, policy) => {
    expect(targetUrlProblem(url, policy)).toMatch(/\w/);
  });

  const accepted: [string, TargetPolicy][] = [
    ['https://hooks.example.com/in?x=1', 'public'],
    ['https://8.8.8.8/', 'public'],
    ['https://172.32.0.1/', 'public'],
    ['https://[2606:4700:4700::1111]/', 'public'],
    ['https://[::ffff:8.8.8.8]/', 'public'],
    ['https://[2002:808:808::]/', 'public'],
    ['https://hooks.example.com/', 'public-and-loopback'],
    ['http://127.0.0.1:3000/hooks', 'public-and-loopback'],
    ['http://127.1.2.3/', 'public-and-loopback'],
    ['http://localhost:3000/', 'public-and-loopback'],
    ['http://[::1]:3000/', 'public-and-loopback'],
    ['http://[::ffff:127.0.0.1]/', 'public-and-loopback'],
  ];
  it.each(accepted)('accepts %s under %s', (url, policy) => {
    expect(targetUrlProblem(url, policy)).toBeUndefined();
  });

  it('names the address and the range it falls in', () => {
    expect(targetUrlProblem('https://10.1.2.3/', 'public')).toContain('10.0.0.0/8');
  });
});

describe('signing secrets', () => {
  it('makes whsec_ secrets of 32 random bytes that the Standard Webhooks library accepts', () => {
    const first = newSigningSecret();
    const second = newSigningSecret();
    const body = '{"a":1}';
    const timestamp = new Date();

    expect(first).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(first.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(second).not.toBe(first);
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signatureHeader([first, second], 'msg_1', timestamp, body),
    };
    expect(new Webhook(first).verify(body, headers)).toEqual({ a: 1 });
    expect(new Webhook(second).verify(body, headers)).toEqual({ a: 1 });
  });

  it('puts one v1 signature per secret in the header, separated by spaces', () => {
    const timestamp = new Date('2025-01-02T03:04:05.678Z');

    const header = signatureHeader([secret, rotatedSecret], 'msg_1', timestamp, 'x');

    expect(header).toBe(
      `${new Webhook(secret).sign('msg_1', timestamp, 'x')} ${new Webhook(rotatedSecret).sign('msg_1', timestamp, 'x')}`,
    );
  });
});
