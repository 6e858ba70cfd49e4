import { describe, expect, it } from 'vitest';
import { applyManifest, type ListedTicket } from '../src/lib/door-list';
import {
  admissionsOf,
  conflictsOf,
  decideLocally,
  knownAdmissions,
  newDeviceName,
  newNonce,
  nextUploads,
  retryUpload,
  type Scanned,
  type ScanRecord,
  uploadBody,
  validDeviceName,
} from '../src/lib/door-scans';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const listed = (n: number): ListedTicket => ({
  registrationId: id(n),
  userId: `user-${n}`,
  userName: `Attendee ${n}`,
  ticketAt: '2026-05-01T09:00:00.000Z',
});

const list = applyManifest(
  undefined,
  {
    event: { eventId: 'gala', title: 'Gala' },
    eventTag: 'E92qK-4o',
    keys: [],
    tickets: [listed(1), listed(2), listed(3)],
    revoked: [{ registrationId: id(4), revokedAt: '2026-05-01T09:30:00.000Z' }],
    cursor: 'c',
  },
  false,
  0,
);

const at = (second: number) => `2026-05-01T10:00:${String(second).padStart(2, '0')}.000Z`;

const record = (change: Partial<ScanRecord> & { nonce: string }): ScanRecord => ({
  eventId: 'gala',
  type: 'entry',
  at: at(0),
  device: 'door-a',
  state: 'queued',
  ...change,
});

const valid = (n: number): Scanned => ({ result: 'valid', registrationId: id(n) });

describe('the device’s own decision', () => {
  const decide = (scanned: Scanned, records: ScanRecord[] = [], type: 'entry' | 'exit' = 'entry') =>
    decideLocally({
      scanned,
      type,
      list,
      admissions: admissionsOf(records),
      at: at(30),
      device: 'door-a',
    });

  it('admits a listed ticket, naming who and when', () => {
    expect(decide(valid(1))).toEqual({
      result: 'admitted',
      registrationId: id(1),
      userId: 'user-1',
      userName: 'Attendee 1',
      admittedAt: at(30),
      admittedBy: 'door-a',
    });
  });

  it('refuses a second admission of a ticket this device admitted, saying when and where', () => {
    const first = record({
      nonce: 'n1',
      ticket: 't1',
      at: at(10),
      local: decide(valid(1)),
    });
    expect(decide(valid(1), [first])).toMatchObject({
      result: 'already_admitted',
      userName: 'Attendee 1',
      admittedAt: at(30),
      admittedBy: 'door-a',
    });
  });

  it('knows what the API said of other doors: an already_admitted answer counts as inside', () => {
    const told = record({
      nonce: 'n1',
      ticket: 't2',
      state: 'sent',
      server: {
        result: 'already_admitted',
        registrationId: id(2),
        admittedAt: at(1),
        admittedBy: 'door-b',
      },
    });
    expect(decide(valid(2), [told])).toMatchObject({
      result: 'already_admitted',
      admittedAt: at(1),
      admittedBy: 'door-b',
    });
  });

  it('admits again after an exit, and records exits only of who is inside', () => {
    const entered = record({ nonce: 'n1', at: at(1), local: decide(valid(3)) });
    expect(decide(valid(3), [entered], 'exit').result).toBe('exited');
    expect(decide(valid(3), [], 'exit').result).toBe('not_inside');
    const exited = record({
      nonce: 'n2',
      at: at(2),
      type: 'exit',
      local: decide(valid(3), [entered], 'exit'),
    });
    expect(decide(valid(3), [entered, exited]).result).toBe('admitted');
  });

  it('never admits a revoked registration', () => {
    expect(decide(valid(4))).toEqual({ result: 'revoked', registrationId: id(4) });
  });

  it('passes on what the ticket’s bytes decided: unknown, wrong_event', () => {
    expect(decide({ result: 'unknown' })).toEqual({ result: 'unknown' });
    expect(decide({ result: 'wrong_event' })).toEqual({ result: 'wrong_event' });
  });

  it('admits a genuine ticket newer than the list on its signature, marked unlisted', () => {
    expect(decide(valid(7))).toMatchObject({
      result: 'admitted',
      registrationId: id(7),
      unlisted: true,
    });
  });

  it('looks a typed user id up in the list', () => {
    expect(decide({ userId: 'user-2' })).toMatchObject({
      result: 'admitted',
      registrationId: id(2),
      userName: 'Attendee 2',
    });
    expect(decide({ userId: 'user-9' })).toEqual({ result: 'unknown', userId: 'user-9' });
  });

  it('takes the latest scan of a ticket, whatever order the records are in', () => {
    const entered = record({ nonce: 'b', at: at(1), local: decide(valid(1)) });
    const exited = record({
      nonce: 'a',
      at: at(2),
      type: 'exit',
      local: { result: 'exited', registrationId: id(1) },
    });
    expect(admissionsOf([exited, entered]).get(id(1))?.inside).toBe(false);
  });
});

describe('the upload queue', () => {
  it('uploads a scan with its nonce and the time it was scanned', () => {
    const scan = record({ nonce: 'abcdefgh12', ticket: 'T', at: at(5), device: 'gate 2' });
    expect(uploadBody(scan)).toEqual({
      ticket: 'T',
      nonce: 'abcdefgh12',
      type: 'entry',
      at: at(5),
      device: 'gate 2',
    });
    expect(uploadBody(record({ nonce: 'n', userId: 'user-1' }))).toMatchObject({
      userId: 'user-1',
    });
  });

  it('makes nonces the API accepts, a new one each scan', () => {
    const nonces = new Set(Array.from({ length: 1000 }, newNonce));
    expect(nonces.size).toBe(1000);
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(newDeviceName()).toMatch(/^door-[0-9a-f]{6}$/);
    expect(validDeviceName(' Gate B: north ')).toBe('Gate B: north');
    expect(validDeviceName('')).toBeUndefined();
    expect(validDeviceName('gate/1')).toBeUndefined();
  });

  it('takes queued scans in scan order, a few at a time, never one already in flight', () => {
    const records = [
      record({ nonce: 'c', ticket: 'T3', at: at(3) }),
      record({ nonce: 'a', ticket: 'T1', at: at(1) }),
      record({ nonce: 'sent', ticket: 'T0', at: at(0), state: 'sent' }),
      record({ nonce: 'refused', ticket: 'Tx', at: at(0), state: 'refused' }),
      record({ nonce: 'b', ticket: 'T2', at: at(2) }),
      record({ nonce: 'd', userId: 'user-4', at: at(4) }),
    ];
    expect(nextUploads(records, new Set(), 2).map((r) => r.nonce)).toEqual(['a', 'b']);
    expect(nextUploads(records, new Set(['a', 'b']), 4).map((r) => r.nonce)).toEqual(['c', 'd']);
    expect(nextUploads(records, new Set(), 10)).toHaveLength(4);
  });

  it('keeps the scans of one ticket in order: the next waits for the one before it', () => {
    const records = [
      record({ nonce: 'entry', ticket: 'T1', at: at(1) }),
      record({ nonce: 'other', ticket: 'T2', at: at(2) }),
      record({ nonce: 'exit', ticket: 'T1', at: at(3), type: 'exit' }),
    ];
    expect(nextUploads(records, new Set(), 4).map((r) => r.nonce)).toEqual(['entry', 'other']);
    expect(nextUploads(records, new Set(['entry']), 4).map((r) => r.nonce)).toEqual(['other']);
    const entrySent = records.map((r) =>
      r.nonce === 'entry' ? { ...r, state: 'sent' as const } : r,
    );
    expect(nextUploads(entrySent, new Set(), 4).map((r) => r.nonce)).toEqual(['other', 'exit']);
  });

  it('retries an upload the network or the API could not take, never one the API refused', () => {
    for (const status of [0, 401, 408, 429, 500, 502, 503, 504]) {
      expect(retryUpload(status), String(status)).toBe(true);
    }
    for (const status of [400, 404, 409, 422])
      expect(retryUpload(status), String(status)).toBe(false);
  });
});

describe('conflicts', () => {
  const admittedHere = {
    result: 'admitted' as const,
    registrationId: id(1),
    userName: 'Attendee 1',
    admittedAt: at(5),
    admittedBy: 'door-a',
  };

  it('lists an offline admission the API answered already_admitted (admitted elsewhere)', () => {
    const records = [
      record({
        nonce: 'x',
        at: at(5),
        state: 'sent',
        local: admittedHere,
        server: {
          result: 'already_admitted',
          registrationId: id(1),
          admittedAt: at(3),
          admittedBy: 'door-b',
        },
      }),
    ];
    expect(conflictsOf(records)).toEqual([{ record: records[0], kind: 'admitted_elsewhere' }]);
  });

  it('lists one the API found revoked, and none the API admitted too (a re-upload included)', () => {
    const records = [
      record({ nonce: 'ok', state: 'sent', local: admittedHere, server: admittedHere }),
      record({
        nonce: 'revoked',
        state: 'sent',
        local: { ...admittedHere, registrationId: id(2) },
        server: { result: 'revoked', registrationId: id(2) },
      }),
    ];
    expect(conflictsOf(records).map((c) => [c.record.nonce, c.kind])).toEqual([
      ['revoked', 'revoked'],
    ]);
  });

  it('lists nothing still queued, refused offline, or decided by the API from the start', () => {
    const records = [
      record({ nonce: 'queued', local: admittedHere }),
      record({
        nonce: 'refused-here',
        state: 'sent',
        local: { result: 'already_admitted', registrationId: id(1) },
        server: { result: 'already_admitted', registrationId: id(1) },
      }),
      record({
        nonce: 'online',
        state: 'sent',
        server: { result: 'already_admitted', registrationId: id(1) },
      }),
    ];
    expect(conflictsOf(records)).toEqual([]);
  });
});

describe('who is inside, as a door can know it', () => {
  it('takes every door’s admissions from the list, overlaid by this device’s newer scans', () => {
    const listed = new Map([
      ['r1', { inside: true, admittedBy: 'door-2', at: '2026-05-01T10:01:00.000Z' }],
      ['r2', { inside: false, at: '2026-05-01T10:09:00.000Z' }],
    ]);
    const local = new Map([
      // An exit here after door 2's admission: the newer one counts.
      ['r1', { inside: false, at: '2026-05-01T10:02:00.000Z' }],
      // An admission here before door 2 let them out, once synced: the list's exit counts.
      ['r2', { inside: true, at: '2026-05-01T10:03:00.000Z' }],
      ['r3', { inside: true, at: '2026-05-01T10:04:00.000Z' }],
    ]);
    const known = knownAdmissions(listed, local);
    expect(known.get('r1')?.inside).toBe(false);
    expect(known.get('r2')?.inside).toBe(false);
    expect(known.get('r3')?.inside).toBe(true);
  });
});
