import type { Context } from 'hono';
import type { AppEnv } from './context.js';

/**
 * The address the request came from, as this runtime can know it: under Lambda, the source IP
 * API Gateway saw (`requestContext.identity.sourceIp`); on the local server, the socket's peer.
 * Forwarding headers are not read: nothing in front of the local server sets them, and a
 * client can write any of them. Undefined for a request made in-process (`app.request`).
 */
export function clientAddress(c: Context<AppEnv>): string | undefined {
  const event = c.env?.event as { requestContext?: { identity?: { sourceIp?: unknown } } };
  const sourceIp = event?.requestContext?.identity?.sourceIp;
  if (typeof sourceIp === 'string' && sourceIp !== '') return sourceIp;
  // @hono/node-server passes the node:http request as `incoming`.
  const node = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return node?.incoming?.socket?.remoteAddress || undefined;
}
