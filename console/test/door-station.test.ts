import { afterEach, describe, expect, it } from 'vitest';
import { type DoorList, fromStored, type StoredDoorList, toStored } from '../src/lib/door-list';
import { conflictsOf, type ScanAnswer, type ScanRecord } from '../src/lib/door-scans';
import { type DoorApi, DoorRequestError, DoorStation } from '../src/lib/door-station';
import type { DoorStore } from '../src/lib/door-store';
import { bytesToBase64url, parseTicket } from '../src/lib/door-ticket';

/*
 * The door station against fakes of its two ports — the API (a small check-in server that keeps
 * one admission per registration and answers a repeated nonce the same) and the store — with
 * real Ed25519 tickets: online and offline scans, the switch between them, the upload of the
 * queue (nonces, dedupe) and the conflicts two offline doors make.
 */

const EVENT = 'gala';
const TAG = new Uint8Array([1, 2, 3, 4, 5, 6]);
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function issuer() {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return {
    key: { version: 1, publicKey: bytesToBase64url(raw) },
    async ticket(n: number) {
      const hex = id(n).replaceAll('-', '');
      const signed = new Uint8Array([
        1,
        1,
        ...TAG,
        ...Array.from({ length: 16 }, (_, i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)),
      ]);
      const signature = new Uint8Array(
        await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, signed),
      );
      return bytesToBase64url(new Uint8Array([...signed, ...signature]));
    },
  };
}

type Body = Parameters<DoorApi['scan']>[1];

/** The API as the door sees it: one admission per registration, a nonce answered once. */
function fakeServer(key: { version: number; publicKey: string }, attendees: number) {
  const answers = new Map<string, ScanAnswer>();
  const admitted = new Map<string, { at: string; by: string }>();
  const log: Body[] = [];
  const control = { reachable: true, loseAnswers: false, scans: 0, manifests: 0 };
  const unreachable = () => new DoorRequestError(0, 'the API could not be reached');
  const api: DoorApi = {
    async manifest(eventId, since) {
      control.manifests++;
      if (!control.reachable) throw unreachable();
      return {
        event: { eventId, title: 'Gala' },
        eventTag: bytesToBase64url(TAG),
        keys: [key],
        tickets: since
          ? []
          : Array.from({ length: attendees }, (_, i) => ({
              registrationId: id(i + 1),
              userId: `user-${i + 1}`,
              userName: `Attendee ${i + 1}`,
              ticketAt: '2026-05-01T09:00:00.000Z',
            })),
        revoked: [],
        cursor: new Date().toISOString(),
      };
    },
    async scan(_eventId, body) {
      control.scans++;
      if (!control.reachable) throw unreachable();
      let answer = answers.get(body.nonce);
      if (!answer) {
        const registrationId =
          'ticket' in body && body.ticket ? parseTicket(body.ticket)?.registrationId : undefined;
        if (!registrationId) answer = { result: 'unknown' };
        else if (admitted.has(registrationId)) {
          const first = admitted.get(registrationId);
          answer = {
            result: 'already_admitted',
            registrationId,
            admittedAt: first?.at,
            admittedBy: first?.by,
          };
        } else {
          admitted.set(registrationId, { at: body.at, by: body.device });
          log.push(body);
          answer = {
            result: 'admitted',
            registrationId,
            admittedAt: body.at,
            admittedBy: body.device,
          };
        }
        answers.set(body.nonce, answer);
      }
      // Recorded, but the answer never reaches the door (a connection cut after the request).
      if (control.loseAnswers) throw unreachable();
      return answer;
    },
  };
  return { api, log, control };
}

function memoryStore(): DoorStore & { scans: Map<string, ScanRecord> } {
  const lists = new Map<string, StoredDoorList>();
  const scans = new Map<string, ScanRecord>();
  return {
    scans,
    async loadList(eventId) {
      const stored = lists.get(eventId);
      return stored ? fromStored(structuredClone(stored)) : undefined;
    },
    async saveList(list: DoorList) {
      lists.set(list.eventId, structuredClone(toStored(list)));
    },
    async loadScans(eventId) {
      return [...scans.values()]
        .filter((r) => r.eventId === eventId)
        .map((r) => structuredClone(r));
    },
    async saveScan(record) {
      scans.set(record.nonce, structuredClone(record));
    },
    async forget(eventId) {
      lists.delete(eventId);
    },
  };
}

const started: DoorStation[] = [];
afterEach(() => {
  for (const station of started.splice(0)) station.stop();
});

async function door(api: DoorApi, store = memoryStore(), device = 'door-a') {
  const network = { online: true };
  const station = new DoorStation({
    eventId: EVENT,
    api,
    store,
    device: () => device,
    browserOnline: () => network.online,
  });
  started.push(station);
  await station.start();
  await station.syncNow();
  return { station, store, network };
}

describe('the door station', () => {
  it('asks the API online and keeps the scan, answered, before showing it', async () => {
    const tickets = await issuer();
    const server = fakeServer(tickets.key, 3);
    const { station, store } = await door(server.api);
    expect(station.snapshot().list?.tickets.size).toBe(3);
    const shown = await station.scan({ ticket: await tickets.ticket(1) }, 'entry');
    expect(shown).toMatchObject({ local: false, answer: { result: 'admitted' } });
    expect(store.scans.get(shown.record.nonce)).toMatchObject({ state: 'sent' });
    expect(station.snapshot().last).toEqual(shown);
  });

  it('decides itself when the API does not answer, goes offline, and asks no more', async () => {
    const tickets = await issuer();
    const server = fakeServer(tickets.key, 3);
    const { station, store } = await door(server.api);
    server.control.reachable = false;
    const first = await station.scan({ ticket: await tickets.ticket(1) }, 'entry');
    expect(first).toMatchObject({
      local: true,
      answer: { result: 'admitted', userName: 'Attendee 1' },
    });
    expect(station.snapshot().connection.mode).toBe('offline');
    const asked = server.control.scans;
    const again = await station.scan({ ticket: await tickets.ticket(1) }, 'entry');
    expect(again.answer?.result).toBe('already_admitted');
    expect(server.control.scans).toBe(asked);
    expect([...store.scans.values()].map((r) => r.state)).toEqual(['queued', 'queued']);
  });

  it('uploads the queue once back, with each scan’s nonce and time; a lost answer is resent and adds nothing', async () => {
    const tickets = await issuer();
    const server = fakeServer(tickets.key, 10);
    const { station, store, network } = await door(server.api);
    network.online = false;
    station.browserSignal(false);
    const scanned: ScanRecord[] = [];
    for (let n = 1; n <= 6; n++) {
      scanned.push((await station.scan({ ticket: await tickets.ticket(n) }, 'entry')).record);
    }
    expect(server.control.scans).toBe(0);
    // Back, but the first answers are lost on the way: recorded by the API, still queued here.
    network.online = true;
    server.control.loseAnswers = true;
    station.browserSignal(true);
    await station.syncNow();
    expect(server.log.length).toBeGreaterThan(0);
    expect(station.snapshot().connection.mode).toBe('offline');
    server.control.loseAnswers = false;
    await station.syncNow();
    expect(station.snapshot().connection.mode).toBe('online');
    expect(server.log).toHaveLength(6);
    expect(new Set(server.log.map((b) => b.nonce)).size).toBe(6);
    expect(server.log.map((b) => [b.nonce, b.at]).sort()).toEqual(
      scanned.map((r) => [r.nonce, r.at]).sort(),
    );
    expect([...store.scans.values()].every((r) => r.state === 'sent')).toBe(true);
    expect(conflictsOf(station.snapshot().records)).toEqual([]);
  });

  it('shows one conflict when two offline doors admitted the same ticket', async () => {
    const tickets = await issuer();
    const server = fakeServer(tickets.key, 3);
    const a = await door(server.api, memoryStore(), 'door-a');
    const b = await door(server.api, memoryStore(), 'door-b');
    const ticket = await tickets.ticket(2);
    for (const { station, network } of [a, b]) {
      network.online = false;
      station.browserSignal(false);
      expect((await station.scan({ ticket }, 'entry')).answer?.result).toBe('admitted');
    }
    for (const { station, network } of [a, b]) {
      network.online = true;
      station.browserSignal(true);
      await station.syncNow();
    }
    expect(conflictsOf(a.station.snapshot().records)).toEqual([]);
    const [conflict, ...more] = conflictsOf(b.station.snapshot().records);
    expect(more).toEqual([]);
    expect(conflict).toMatchObject({
      kind: 'admitted_elsewhere',
      record: { server: { result: 'already_admitted', admittedBy: 'door-a' } },
    });
    expect(server.log).toHaveLength(1);
  });

  it('keeps its list and queue across a restart, and refuses a forged ticket offline', async () => {
    const tickets = await issuer();
    const forger = await issuer();
    const server = fakeServer(tickets.key, 3);
    const store = memoryStore();
    const first = await door(server.api, store);
    server.control.reachable = false;
    await first.station.scan({ ticket: await tickets.ticket(3) }, 'entry');
    first.station.stop();
    // The next start finds the API unreachable: it works from what it kept.
    const { station } = await door(server.api, store);
    expect(station.snapshot().connection.mode).toBe('offline');
    expect(station.snapshot().list?.tickets.size).toBe(3);
    expect((await station.scan({ ticket: await tickets.ticket(3) }, 'entry')).answer?.result).toBe(
      'already_admitted',
    );
    expect((await station.scan({ ticket: await forger.ticket(1) }, 'entry')).answer?.result).toBe(
      'unknown',
    );
  });

  it('does not ask the API while the browser says it has no network, and syncs when it has', async () => {
    const tickets = await issuer();
    const server = fakeServer(tickets.key, 3);
    const { station, network } = await door(server.api);
    const manifests = server.control.manifests;
    network.online = false;
    station.browserSignal(false);
    await station.syncNow();
    expect(server.control.manifests).toBe(manifests);
    network.online = true;
    station.browserSignal(true);
    await station.syncNow();
    expect(server.control.manifests).toBeGreaterThan(manifests);
    expect(station.snapshot().connection.mode).toBe('online');
  });
});
