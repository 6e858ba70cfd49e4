import {
  type Connection,
  type ConnectionSignal,
  nextConnection,
  SCAN_TIMEOUT_MS,
  SYNC_TIMEOUT_MS,
  syncDelay,
  unreachableStatus,
} from './door-connection';
import { applyManifest, type DoorList, deltaChanges, type ManifestAnswer } from './door-list';
import {
  type Admission,
  admissionsOf,
  answered,
  decideLocally,
  knownAdmissions,
  newNonce,
  nextUploads,
  noteAdmission,
  refused,
  retryUpload,
  type ScanAnswer,
  type Scanned,
  type ScanRecord,
  type ScanType,
  uploadBody,
} from './door-scans';
import type { DoorStore } from './door-store';
import {
  base64urlToBytes,
  createVerifier,
  Ed25519UnavailableError,
  judgeTicket,
  type TicketVerifier,
} from './door-ticket';

/** A request of the door that got no answer (status 0) or a refusal. */
export class DoorRequestError extends Error {
  override name = 'DoorRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The two calls a door makes; each throws a DoorRequestError when it gets no 200. */
export interface DoorApi {
  manifest(
    eventId: string,
    since: string | undefined,
    signal: AbortSignal,
  ): Promise<ManifestAnswer>;
  scan(
    eventId: string,
    body: ReturnType<typeof uploadBody>,
    signal: AbortSignal,
  ): Promise<ScanAnswer>;
}

export interface DoorScan {
  readonly record: ScanRecord;
  /** What the screen shows: the API's answer, or the device's; none when it could not decide. */
  readonly answer: ScanAnswer | undefined;
  /** Decided on this device, not by the API. */
  readonly local: boolean;
  /** Why the API's answer is missing, when it refused the scan. */
  readonly problem?: string;
}

export interface DoorState {
  readonly phase: 'loading' | 'ready';
  readonly list: DoorList | undefined;
  readonly connection: Connection;
  readonly records: readonly ScanRecord[];
  readonly last: DoorScan | undefined;
  readonly syncing: boolean;
  /** Why the last sync failed, while it does. */
  readonly syncProblem: string | undefined;
  /** False when this browser can't check a ticket's signature (no Ed25519 in WebCrypto). */
  readonly canVerify: boolean;
}

export interface DoorStationOptions {
  readonly eventId: string;
  readonly api: DoorApi;
  readonly store: DoorStore;
  readonly device: () => string;
  readonly now?: () => number;
  readonly browserOnline?: () => boolean;
}

const UPLOAD_SLOTS = 8;

/**
 * A door device for one event: its door list (downloaded, then kept up to date with deltas),
 * its scans (each recorded before its result shows), the upload of queued scans, and whether it
 * is online. The screen subscribes to its state; scans come in through `scan`, from the camera
 * or the typed lookup alike.
 */
export class DoorStation {
  private state: DoorState;
  private readonly listeners = new Set<() => void>();
  private admissions = new Map<string, Admission>();
  private verifier: TicketVerifier | undefined;
  private verifierKeys = '';
  private tag: Uint8Array = new Uint8Array();
  private readonly inFlight = new Set<string>();
  private readonly stopped = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private syncRunning: Promise<void> | undefined;
  private uploading = false;
  private readonly now: () => number;
  private readonly browserOnline: () => boolean;

  constructor(private readonly options: DoorStationOptions) {
    this.now = options.now ?? Date.now;
    this.browserOnline = options.browserOnline ?? (() => navigator.onLine);
    this.state = {
      phase: 'loading',
      list: undefined,
      connection: this.browserOnline()
        ? { mode: 'online', since: this.now() }
        : { mode: 'offline', since: this.now(), reason: 'the device has no network' },
      records: [],
      last: undefined,
      syncing: false,
      syncProblem: undefined,
      canVerify: true,
    };
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly snapshot = (): DoorState => this.state;

  private update(change: Partial<DoorState>): void {
    this.state = { ...this.state, ...change };
    for (const listener of this.listeners) listener();
  }

  /** Loads what the device kept, then syncs and keeps syncing until `stop`. */
  async start(): Promise<void> {
    const { store, eventId } = this.options;
    const [list, records] = await Promise.all([store.loadList(eventId), store.loadScans(eventId)]);
    if (this.stopped.signal.aborted) return;
    this.admissions = admissionsOf(records);
    if (list) await this.adoptList(list);
    this.update({ phase: 'ready', list, records: sortByTime(records) });
    void this.syncNow();
  }

  stop(): void {
    this.stopped.abort();
    clearTimeout(this.timer);
  }

  /**
   * Removes the event's door list (names of attendees) and its uploaded scans from the device,
   * and stops: scans still waiting to upload are kept.
   */
  async forget(): Promise<void> {
    this.stop();
    await this.options.store.forget(this.options.eventId);
    this.admissions = new Map();
    this.update({
      list: undefined,
      records: this.state.records.filter((record) => record.state === 'queued'),
      last: undefined,
    });
  }

  /** The browser says it lost the network, or has it again. */
  browserSignal(online: boolean): void {
    this.signal(online ? { type: 'browser-online' } : { type: 'browser-offline' });
    if (online) void this.syncNow();
  }

  private signal(signal: ConnectionSignal): void {
    const connection = nextConnection(this.state.connection, signal, this.now());
    if (connection !== this.state.connection) this.update({ connection });
  }

  private async adoptList(list: DoorList): Promise<void> {
    const keys = JSON.stringify(list.keys);
    if (keys !== this.verifierKeys) {
      try {
        this.verifier = await createVerifier(list.keys);
        this.verifierKeys = keys;
      } catch (error) {
        if (!(error instanceof Ed25519UnavailableError)) throw error;
        this.verifier = undefined;
        this.update({ canVerify: false });
      }
    }
    this.tag = base64urlToBytes(list.eventTag) ?? new Uint8Array();
  }

  /** Syncs now (the manifest, or its delta), uploads what is queued, and plans the next sync. */
  syncNow(): Promise<void> {
    this.syncRunning ??= this.sync().finally(() => {
      this.syncRunning = undefined;
      this.plan();
    });
    return this.syncRunning;
  }

  private plan(): void {
    clearTimeout(this.timer);
    if (this.stopped.signal.aborted) return;
    this.timer = setTimeout(
      () => void this.syncNow(),
      syncDelay(this.state.connection, this.now()),
    );
  }

  private async sync(): Promise<void> {
    // A browser that knows it has no network isn't asked to fail a request: its `online` event
    // brings the next sync forward.
    if (!this.browserOnline()) {
      this.signal({ type: 'browser-offline' });
      return;
    }
    const { eventId, api, store } = this.options;
    const before = this.state.list;
    this.update({ syncing: true });
    try {
      const answer = await api.manifest(eventId, before?.cursor, this.deadline(SYNC_TIMEOUT_MS));
      const list = applyManifest(before, answer, before !== undefined, this.now());
      await this.adoptList(list);
      if (!before || deltaChanges(answer) > 0) await store.saveList(list);
      // A scan may have come in meanwhile: the list is replaced, not the state.
      this.update({ list, syncing: false, syncProblem: undefined });
      this.signal({ type: 'answered' });
      await this.upload();
    } catch (error) {
      this.update({ syncing: false, syncProblem: describe(error) });
      this.failed(error);
    }
  }

  private deadline(timeoutMs: number): AbortSignal {
    return AbortSignal.any([this.stopped.signal, AbortSignal.timeout(timeoutMs)]);
  }

  /** Notes a failed request: one the API never answered puts the device offline. */
  private failed(error: unknown): void {
    const status = statusOf(error);
    if (status === 0 || unreachableStatus(status)) {
      this.signal({ type: 'unreachable', reason: describe(error) });
    }
  }

  /**
   * A scan, from the camera or typed: a ticket, or a user id looked up by hand. Online the API
   * answers (the local decision is ready beside it, for when it doesn't in time); offline the
   * device answers. Either way the scan is in IndexedDB before the result shows.
   */
  async scan(input: { readonly ticket: string } | { readonly userId: string }, type: ScanType) {
    const { eventId, device, store, api } = this.options;
    const at = new Date(this.now()).toISOString();
    const base: ScanRecord = {
      nonce: newNonce(),
      eventId,
      ...('ticket' in input ? { ticket: input.ticket.trim() } : { userId: input.userId }),
      type,
      at,
      device: device(),
      state: 'queued',
    };
    const local = this.decide(input, type, at, base.device);
    let record: ScanRecord;
    let problem: string | undefined;
    if (this.state.connection.mode === 'online' && this.browserOnline()) {
      try {
        const server = await api.scan(eventId, uploadBody(base), this.deadline(SCAN_TIMEOUT_MS));
        record = answered(base, server);
        this.signal({ type: 'answered' });
      } catch (error) {
        this.failed(error);
        const status = statusOf(error);
        if (retryUpload(status)) {
          record = {
            ...base,
            ...(await local.then((answer) => (answer ? { local: answer } : {}))),
          };
        } else {
          problem = describe(error);
          record = refused(base, problem);
        }
      }
    } else {
      const answer = await local;
      record = answer ? { ...base, local: answer } : base;
    }
    await store.saveScan(record);
    noteAdmission(this.admissions, record);
    const shown: DoorScan = {
      record,
      answer: record.server ?? record.local,
      local: record.server === undefined,
      ...(problem ? { problem } : {}),
    };
    this.update({ records: [...this.state.records, record], last: shown });
    return shown;
  }

  /** The device's own answer, or undefined when it can't decide (no list, or no Ed25519). */
  private async decide(
    input: { readonly ticket: string } | { readonly userId: string },
    type: ScanType,
    at: string,
    device: string,
  ): Promise<ScanAnswer | undefined> {
    const list = this.state.list;
    if (!list) return undefined;
    let scanned: Scanned;
    if ('userId' in input) scanned = { userId: input.userId };
    else if (!this.verifier) return undefined;
    else scanned = await judgeTicket(input.ticket, this.tag, this.verifier);
    const admissions = knownAdmissions(listedAdmissions(list), this.admissions);
    return decideLocally({ scanned, type, list, admissions, at, device });
  }

  /** Uploads queued scans, a few at a time, one per ticket at a time, in scan order. */
  private async upload(): Promise<void> {
    if (this.uploading) return;
    this.uploading = true;
    try {
      for (;;) {
        if (this.state.connection.mode !== 'online' || this.stopped.signal.aborted) return;
        const batch = nextUploads(this.state.records, this.inFlight, UPLOAD_SLOTS);
        if (batch.length === 0) return;
        const outcomes = await Promise.all(batch.map((record) => this.uploadOne(record)));
        if (outcomes.includes('stop')) return;
      }
    } finally {
      this.uploading = false;
    }
  }

  private async uploadOne(record: ScanRecord): Promise<'ok' | 'stop'> {
    const { api, eventId, store } = this.options;
    this.inFlight.add(record.nonce);
    try {
      let next: ScanRecord;
      try {
        next = answered(
          record,
          await api.scan(eventId, uploadBody(record), this.deadline(SYNC_TIMEOUT_MS)),
        );
      } catch (error) {
        this.failed(error);
        if (retryUpload(statusOf(error))) return 'stop';
        next = refused(record, describe(error));
      }
      await store.saveScan(next);
      const records = this.state.records.map((r) => (r.nonce === next.nonce ? next : r));
      this.admissions = admissionsOf(records);
      const last = this.state.last;
      this.update({
        records,
        ...(last?.record.nonce === next.nonce ? { last: { ...last, record: next } } : {}),
      });
      return 'ok';
    } finally {
      this.inFlight.delete(record.nonce);
    }
  }
}

const sortByTime = (records: readonly ScanRecord[]) =>
  [...records].sort((a, b) => a.at.localeCompare(b.at));

const statusOf = (error: unknown): number => (error instanceof DoorRequestError ? error.status : 0);

function describe(error: unknown): string {
  if (error instanceof DoorRequestError) return error.message;
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'no answer in time';
  return error instanceof Error ? error.message : String(error);
}

/** The door list's admissions as the local decision reads them (learnt at their change). */
function listedAdmissions(list: DoorList): Map<string, Admission> {
  const admissions = new Map<string, Admission>();
  for (const {
    registrationId,
    inside,
    admittedAt,
    admittedBy,
    changedAt,
  } of list.admissions.values()) {
    admissions.set(registrationId, {
      inside,
      ...(admittedAt ? { admittedAt } : {}),
      ...(admittedBy ? { admittedBy } : {}),
      at: changedAt,
    });
  }
  return admissions;
}
