import { randomBytes } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { DeliveryError, DeliveryRequest, DeliveryResult } from './webhooks.model.js';

export type { DeliveryError, DeliveryRequest, DeliveryResult };

/** Which targets a deployment may call. */
export type TargetPolicy = 'public' | 'public-and-loopback';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

export interface SenderOptions {
  readonly policy: TargetPolicy;
  /** dns.lookup-compatible (all: true form); tests inject one that maps names to private addresses. @default dns.lookup */
  readonly lookup?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
  /** @default 'Roster-Webhooks/1' */
  readonly userAgent?: string;
}

export type Sender = (request: DeliveryRequest) => Promise<DeliveryResult>;

const EXCERPT_BYTES = 1024;
const EXCERPT_CHARACTERS = 500;
const RETRY_AFTER_CAP_SECONDS = 86_400;

interface Range {
  readonly cidr: string;
  readonly what: string;
  readonly type: 'ipv4' | 'ipv6';
  readonly list: net.BlockList;
}

function range(cidr: string, what: string): Range {
  const [network = '', prefix = ''] = cidr.split('/');
  const type = net.isIPv6(network) ? 'ipv6' : 'ipv4';
  const list = new net.BlockList();
  list.addSubnet(network, Number(prefix), type);
  return { cidr, what, type, list };
}

const LOOPBACK = [
  range('127.0.0.0/8', 'a loopback address'),
  range('::1/128', 'a loopback address'),
];

/**
 * Addresses a webhook may never reach: this host, private networks, link-local (the cloud
 * metadata service), shared, documentation, benchmarking, multicast and reserved space. The
 * narrower ranges come first so the reason names the most precise one.
 */
const REFUSED = [
  range('169.254.169.254/32', 'the cloud metadata address'),
  range('255.255.255.255/32', 'the broadcast address'),
  range('0.0.0.0/8', '"this network"'),
  range('10.0.0.0/8', 'a private address'),
  range('100.64.0.0/10', 'a shared (carrier-grade NAT) address'),
  ...LOOPBACK.filter((loopback) => loopback.type === 'ipv4'),
  range('169.254.0.0/16', 'a link-local address'),
  range('172.16.0.0/12', 'a private address'),
  range('192.0.0.0/24', 'an IETF protocol assignment'),
  range('192.0.2.0/24', 'a documentation address'),
  range('192.168.0.0/16', 'a private address'),
  range('198.18.0.0/15', 'a benchmarking address'),
  range('198.51.100.0/24', 'a documentation address'),
  range('203.0.113.0/24', 'a documentation address'),
  range('224.0.0.0/4', 'a multicast address'),
  range('240.0.0.0/4', 'a reserved address'),
  range('::/128', 'the unspecified address'),
  ...LOOPBACK.filter((loopback) => loopback.type === 'ipv6'),
  // The rest of ::/96 held deprecated IPv4-compatible addresses: nothing public lives there.
  range('::/96', 'a deprecated IPv4-compatible address'),
  range('fc00::/7', 'a unique-local (private) address'),
  range('fe80::/10', 'a link-local address'),
  range('fec0::/10', 'a deprecated site-local address'),
  range('ff00::/8', 'a multicast address'),
  range('2001:db8::/32', 'a documentation address'),
];

function within(ranges: readonly Range[], address: string, type: 'ipv4' | 'ipv6') {
  return ranges.find((candidate) => candidate.type === type && candidate.list.check(address, type));
}

/** The eight 16-bit groups of a valid IPv6 address (zone already removed). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const before = parse(head);
  const after = rest === undefined ? [] : parse(rest);
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
}

function ipv4Of(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * The IPv4 address an IPv6 address carries to an IPv4 host: IPv4-mapped (::ffff:a.b.c.d, what a
 * dual-stack socket connects to as IPv4), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). Each must
 * pass the IPv4 check, or ::ffff:127.0.0.1 would reach this host.
 */
function embeddedIPv4(address: string): { kind: string; ipv4: string } | undefined {
  const g = ipv6Groups(address);
  const zero = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  if (zero(0, 5) && g[5] === 0xffff)
    return { kind: 'IPv4-mapped', ipv4: ipv4Of(g[6] ?? 0, g[7] ?? 0) };
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) {
    return { kind: 'NAT64', ipv4: ipv4Of(g[6] ?? 0, g[7] ?? 0) };
  }
  if (g[0] === 0x2002) return { kind: '6to4', ipv4: ipv4Of(g[1] ?? 0, g[2] ?? 0) };
  return undefined;
}

/** What makes an address uncallable under the policy ('a private address (10.0.0.0/8)'). */
function addressReason(address: string, policy: TargetPolicy): string | undefined {
  const bare = address.split('%')[0] ?? '';
  const family = net.isIP(bare);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (type === 'ipv6') {
    const embedded = embeddedIPv4(bare);
    if (embedded) {
      const reason = addressReason(embedded.ipv4, policy);
      return reason && `${embedded.kind} ${embedded.ipv4}, ${reason}`;
    }
  }
  if (policy === 'public-and-loopback' && within(LOOPBACK, bare, type)) return undefined;
  const refused = within(REFUSED, bare, type);
  return refused && `${refused.what} (${refused.cidr})`;
}

/** Why an IP address may not be called under the policy; undefined when it may. */
export function addressProblem(address: string, policy: TargetPolicy): string | undefined {
  const reason = addressReason(address, policy);
  return reason && `${address} is ${reason}`;
}

function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

/** Why a host name may not be called, known without resolving it. */
function nameProblem(hostname: string, policy: TargetPolicy): string | undefined {
  const name = hostname.replace(/\.+$/, '');
  if (isLoopbackName(name)) {
    return policy === 'public-and-loopback' ? undefined : `${hostname} names this host (localhost)`;
  }
  if (name === 'internal' || name.endsWith('.internal')) {
    return `${hostname} is an internal name (.internal)`;
  }
  return undefined;
}

type Target =
  | { readonly url: URL; readonly host: string; readonly literal: boolean }
  | { readonly problem: string };

function parseTarget(url: string, policy: TargetPolicy): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: 'not an absolute URL' };
  }
  const schemes = policy === 'public' ? ['https:'] : ['https:', 'http:'];
  if (!schemes.includes(parsed.protocol)) {
    return {
      problem: `${parsed.protocol} URLs may not be called: only ${schemes.join(' and ')}`,
    };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { problem: 'the URL may not carry a user name or password' };
  }
  // The URL parser has already turned 2130706433, 0x7f.1 and the like into dotted quads.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '' || /^\.+$/.test(host)) return { problem: 'the URL has no host' };
  const literal = net.isIP(host) !== 0;
  const problem = literal ? addressProblem(host, policy) : nameProblem(host, policy);
  return problem ? { problem } : { url: parsed, host, literal };
}

/**
 * Static check of a URL an endpoint is created with: undefined when acceptable, else a
 * human-readable reason. Names are not resolved here; the sender checks what they resolve to on
 * every attempt.
 */
export function targetUrlProblem(url: string, policy: TargetPolicy): string | undefined {
  const target = parseTarget(url, policy);
  return 'problem' in target ? target.problem : undefined;
}

/** The webhook-signature header value for a message: 'v1,<sig> v1,<sig2>' (one per secret). */
export function signatureHeader(
  secrets: readonly string[],
  webhookId: string,
  timestamp: Date,
  body: string,
): string {
  if (secrets.length === 0) throw new TypeError('a webhook is signed with at least one secret');
  return secrets.map((secret) => new Webhook(secret).sign(webhookId, timestamp, body)).join(' ');
}

/** A new signing secret: 'whsec_' + base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

async function systemLookup(hostname: string): Promise<readonly ResolvedAddress[]> {
  return dns.promises.lookup(hostname, { all: true });
}

/**
 * A lookup for http(s).request that answers only the addresses already checked, so the socket
 * connects to what the guard saw: a name whose DNS answer changes after the check (rebinding)
 * cannot lead the connection elsewhere.
 */
function pinnedLookup(addresses: readonly ResolvedAddress[]): net.LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const usable = family ? addresses.filter((a) => a.family === family) : addresses;
    process.nextTick(() => {
      const [first] = usable;
      if (!first) {
        const error: NodeJS.ErrnoException = new Error('no checked address of that family');
        error.code = 'ENOTFOUND';
        callback(error, '');
      } else if (options.all) {
        callback(
          null,
          usable.map(({ address, family }) => ({ address, family })),
        );
      } else {
        callback(null, first.address, first.family);
      }
    });
  };
}

function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Math.min(Number(text), RETRY_AFTER_CAP_SECONDS);
  // An HTTP-date starts with its day name; Date.parse alone would take "1.5" for a date.
  if (!/^(mon|tue|wed|thu|fri|sat|sun)/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, Math.ceil((at - now) / 1000)), RETRY_AFTER_CAP_SECONDS);
}

/** Keeps the first bytes of a body as text, dropping a character the cut splits. */
class Excerpt {
  private readonly decoder = new TextDecoder('utf-8');
  private bytes = 0;
  private text = '';

  /** Takes a chunk; true once the excerpt holds all it will. */
  add(chunk: Buffer): boolean {
    const room = EXCERPT_BYTES - this.bytes;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.bytes += part.length;
    this.text += this.decoder.decode(part, { stream: true });
    return this.bytes >= EXCERPT_BYTES;
  }

  toString(): string {
    return Array.from(this.text).slice(0, EXCERPT_CHARACTERS).join('');
  }
}

const TLS_ERROR_CODE =
  /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

type Outcome = Omit<DeliveryResult, 'latencyMs'>;

function failure(error: DeliveryError, errorMessage: string): Outcome {
  return { ok: false, excerpt: '', error, errorMessage };
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

/**
 * Sends one signed delivery attempt. It never throws for what the network does (a bad secret or
 * an empty secret list, programming errors, do reject): every outcome is a DeliveryResult.
 *
 * The target is checked when the attempt is made, not only when the endpoint was created: a
 * literal address directly, a name on EVERY address it resolves to (one refused address refuses
 * the target), and the socket then connects only to those checked addresses while TLS still
 * verifies the name. Redirects are not followed — a 3xx is a failed attempt with error
 * 'redirect' — so the guard also holds after redirects: there is no second hop to check.
 */
export function createSender(options: SenderOptions): Sender {
  const resolveName = options.lookup ?? systemLookup;
  const userAgent = options.userAgent ?? 'Roster-Webhooks/1';
  const { policy } = options;

  return (request) => {
    const started = performance.now();

    return new Promise<DeliveryResult>((resolve, reject) => {
      // Thrown here (no secret, a malformed one), it rejects the promise before any I/O starts.
      const signature = signatureHeader(
        request.secrets,
        request.webhookId,
        request.timestamp,
        request.body,
      );
      let settled = false;
      let outgoing: http.ClientRequest | undefined;
      let head: { status: number; retryAfterSeconds: number | undefined } | undefined;
      const excerpt = new Excerpt();

      const settle = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        // Whatever is left unread (a receiver streaming forever) is cut off with the socket.
        outgoing?.destroy();
        resolve({ ...outcome, latencyMs: Math.round(performance.now() - started) });
      };

      const answered = () => {
        if (!head) return;
        const { status, retryAfterSeconds } = head;
        const ok = status >= 200 && status < 300;
        settle({
          ok,
          status,
          excerpt: excerpt.toString(),
          ...(!ok && retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
          ...(status >= 300 && status < 400
            ? { error: 'redirect' as const, errorMessage: `redirects are not followed (${status})` }
            : {}),
        });
      };

      // Once the response head is in, the deadline only ends the excerpt: the status stands.
      const deadline = setTimeout(() => {
        if (head) answered();
        else settle(failure('timeout', `no response within ${request.timeoutMs} ms`));
      }, request.timeoutMs);

      const send = (url: URL, host: string, addresses: readonly ResolvedAddress[]) => {
        const secure = url.protocol === 'https:';
        let connected = false;
        let secured = false;
        const req = (secure ? https : http).request({
          protocol: url.protocol,
          hostname: host,
          port: url.port === '' ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          // A fresh connection per attempt: no pooled socket from an earlier answer is reused.
          agent: false,
          lookup: pinnedLookup(addresses),
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(request.body),
            'webhook-id': request.webhookId,
            'webhook-timestamp': String(Math.floor(request.timestamp.getTime() / 1000)),
            'webhook-signature': signature,
            'user-agent': userAgent,
          },
        });
        outgoing = req;
        req.on('socket', (socket) => {
          socket.once('connect', () => {
            connected = true;
          });
          socket.once('secureConnect', () => {
            secured = true;
          });
        });
        req.on('error', (error) => {
          if (head) return answered();
          const code = (error as NodeJS.ErrnoException).code ?? '';
          const duringHandshake = secure && connected && !secured;
          settle(
            failure(
              TLS_ERROR_CODE.test(code) || duringHandshake ? 'tls' : 'connection',
              describeError(error),
            ),
          );
        });
        req.on('response', (res) => {
          const status = res.statusCode ?? 0;
          const retryAfter = res.headers['retry-after'];
          head = { status, retryAfterSeconds: parseRetryAfter(retryAfter, Date.now()) };
          res.on('data', (chunk: Buffer) => {
            if (!settled && excerpt.add(chunk)) answered();
          });
          res.on('end', answered);
          res.on('error', answered);
          res.on('close', answered);
        });
        req.end(request.body);
      };

      const attempt = async () => {
        const target = parseTarget(request.url, policy);
        if ('problem' in target) return settle(failure('refused-target', target.problem));
        const { url, host } = target;
        let addresses: readonly ResolvedAddress[];
        if (target.literal) {
          // Node does not look up a literal address, so the check above is the one that counts.
          addresses = [{ address: host, family: net.isIP(host) }];
        } else {
          let answer: readonly ResolvedAddress[];
          try {
            answer = await resolveName(host);
          } catch (error) {
            return settle(failure('connection', `${host}: ${describeError(error)}`));
          }
          if (settled) return;
          if (answer.length === 0) return settle(failure('connection', `${host}: no address`));
          for (const { address } of answer) {
            const reason = addressReason(address, policy);
            if (reason) {
              return settle(
                failure('refused-target', `${host} resolves to ${address}, which is ${reason}`),
              );
            }
          }
          addresses = answer.map(({ address }) => ({ address, family: net.isIP(address) }));
        }
        send(url, host, addresses);
      };

      attempt().catch((error: unknown) => {
        // Only a programming error lands here (an invalid header value, say): not a network outcome.
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        outgoing?.destroy();
        reject(error);
      });
    });
  };
}
