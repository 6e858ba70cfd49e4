/**
 * When a door device works online or offline. It goes offline by itself — at the first request
 * that gets no answer (a network error, a timeout, a gateway's 502/503/504) or when the browser
 * says it lost the network — so the next scan is decided at once rather than after another
 * timeout. It comes back online only when a request is answered: the browser's `online` event
 * only makes it try at once.
 */

export type DoorMode = 'online' | 'offline';

export interface Connection {
  readonly mode: DoorMode;
  /** Epoch ms of the last change of mode. */
  readonly since: number;
  /** Why it is offline. */
  readonly reason?: string;
}

export type ConnectionSignal =
  | { readonly type: 'answered' }
  | { readonly type: 'unreachable'; readonly reason: string }
  | { readonly type: 'browser-offline' }
  | { readonly type: 'browser-online' };

export function nextConnection(
  current: Connection,
  signal: ConnectionSignal,
  now: number,
): Connection {
  switch (signal.type) {
    case 'answered':
      return current.mode === 'online' ? current : { mode: 'online', since: now };
    case 'unreachable':
      return current.mode === 'offline' ? current : offline(now, signal.reason);
    case 'browser-offline':
      return current.mode === 'offline' ? current : offline(now, 'the device has no network');
    case 'browser-online':
      return current;
  }
}

const offline = (now: number, reason: string): Connection => ({
  mode: 'offline',
  since: now,
  reason,
});

/**
 * Whether a response means the API could not be reached (a gateway or a load balancer answering
 * for it) rather than the API answering: the first puts the device offline, the second doesn't.
 */
export const unreachableStatus = (status: number): boolean =>
  status === 502 || status === 503 || status === 504;

/** How long an online scan waits for the API before the device decides it itself. */
export const SCAN_TIMEOUT_MS = 1_500;
/** How long a sync (the manifest, its delta) may take before the device counts it unanswered. */
export const SYNC_TIMEOUT_MS = 20_000;

/**
 * The delay before the next sync: online, a delta every few seconds; offline, a probe as often,
 * slowing down after a minute without an answer (a door can be offline for an hour).
 */
export function syncDelay(connection: Connection, now: number): number {
  if (connection.mode === 'online') return 5_000;
  return now - connection.since < 60_000 ? 3_000 : 10_000;
}

/** After this long without a sync, the list's age is shown as a warning. */
export const STALE_AFTER_MS = 120_000;

/** How old the door list is, in words ("12 s", "3 min", "2 h"). */
export function ageText(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.round(minutes / 60)} h`;
}
