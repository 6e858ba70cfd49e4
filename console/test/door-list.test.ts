import { describe, expect, it } from 'vitest';
import {
  applyManifest,
  deltaChanges,
  findAttendees,
  fromStored,
  type ListedTicket,
  type ManifestAnswer,
  searchable,
  ticketOfUser,
  toStored,
} from '../src/lib/door-list';

const ticket = (n: number, name?: string): ListedTicket => ({
  registrationId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  userId: `user-${n}`,
  ...(name ? { userName: name } : {}),
  ticketAt: `2026-05-01T10:00:${String(n % 60).padStart(2, '0')}.000Z`,
});

const answer = (change: Partial<ManifestAnswer> = {}): ManifestAnswer => ({
  event: { eventId: 'gala', title: 'Gala' },
  eventTag: 'E92qK-4o',
  keys: [{ version: 1, publicKey: 'k1' }],
  tickets: [],
  revoked: [],
  cursor: '2026-05-01T10:00:00.000Z',
  ...change,
});

describe('the door list from the manifest and its deltas', () => {
  it('takes the whole manifest first', () => {
    const list = applyManifest(
      undefined,
      answer({ tickets: [ticket(1, 'Ana'), ticket(2, 'Bo')] }),
      false,
      1000,
    );
    expect([...list.tickets.keys()]).toEqual([ticket(1).registrationId, ticket(2).registrationId]);
    expect(list).toMatchObject({ eventId: 'gala', title: 'Gala', eventTag: 'E92qK-4o' });
    expect(list.cursor).toBe('2026-05-01T10:00:00.000Z');
    expect(list.syncedAt).toBe(1000);
  });

  it('merges a delta by registration id: new tickets added, repeated ones once, the rest kept', () => {
    const first = applyManifest(undefined, answer({ tickets: [ticket(1), ticket(2)] }), false, 1);
    const next = applyManifest(
      first,
      answer({
        tickets: [ticket(2, 'Bo again'), ticket(3, 'Cy')],
        cursor: '2026-05-01T10:05:00.000Z',
        keys: [
          { version: 1, publicKey: 'k1' },
          { version: 2, publicKey: 'k2' },
        ],
      }),
      true,
      2,
    );
    expect(next.tickets.size).toBe(3);
    expect(next.tickets.get(ticket(2).registrationId)?.userName).toBe('Bo again');
    expect(next.cursor).toBe('2026-05-01T10:05:00.000Z');
    expect(next.keys.map((k) => k.version)).toEqual([1, 2]);
    // The same delta again changes nothing.
    const again = applyManifest(
      next,
      answer({ tickets: [ticket(2, 'Bo again'), ticket(3, 'Cy')] }),
      true,
      3,
    );
    expect([...again.tickets.values()]).toEqual([...next.tickets.values()]);
    // The list before the delta is left as it was (the screen may still be showing it).
    expect(first.tickets.size).toBe(2);
  });

  it('revokes a ticket for good: a revoked id never admits again, even listed again later', () => {
    const first = applyManifest(undefined, answer({ tickets: [ticket(1), ticket(2)] }), false, 1);
    const revokedAt = '2026-05-01T10:03:00.000Z';
    const revoked = applyManifest(
      first,
      answer({ revoked: [{ registrationId: ticket(1).registrationId, revokedAt }] }),
      true,
      2,
    );
    expect(revoked.tickets.has(ticket(1).registrationId)).toBe(false);
    expect(revoked.revoked.get(ticket(1).registrationId)).toBe(revokedAt);
    // A delta that repeats the confirmed row (changes may come twice, in any order).
    const repeated = applyManifest(revoked, answer({ tickets: [ticket(1)] }), true, 3);
    expect(repeated.tickets.has(ticket(1).registrationId)).toBe(false);
    // In the same delta as its revocation.
    const both = applyManifest(
      first,
      answer({
        tickets: [ticket(2)],
        revoked: [{ registrationId: ticket(2).registrationId, revokedAt }],
      }),
      true,
      4,
    );
    expect(both.tickets.has(ticket(2).registrationId)).toBe(false);
    // The first revocation time is kept.
    const later = applyManifest(
      revoked,
      answer({
        revoked: [{ registrationId: ticket(1).registrationId, revokedAt: '2026-05-02T00:00:00Z' }],
      }),
      true,
      5,
    );
    expect(later.revoked.get(ticket(1).registrationId)).toBe(revokedAt);
  });

  it('replaces the list with a whole manifest, and never merges another event into it', () => {
    const first = applyManifest(undefined, answer({ tickets: [ticket(1), ticket(2)] }), false, 1);
    expect(applyManifest(first, answer({ tickets: [ticket(3)] }), false, 2).tickets.size).toBe(1);
    const other = applyManifest(
      first,
      answer({ event: { eventId: 'other', title: 'Other' }, tickets: [ticket(9)] }),
      true,
      3,
    );
    expect([...other.tickets.keys()]).toEqual([ticket(9).registrationId]);
  });

  it('keeps the latest admission of each registration from every door, stored and read back', () => {
    const id = ticket(1).registrationId;
    const admitted = {
      registrationId: id,
      inside: true,
      admittedAt: 'T1',
      admittedBy: 'door-2',
      changedAt: '2026-05-01T10:01:00.000Z',
    };
    const exited = { registrationId: id, inside: false, changedAt: '2026-05-01T10:05:00.000Z' };
    const first = applyManifest(
      undefined,
      answer({ tickets: [ticket(1)], admissions: [admitted] }),
      false,
      1,
    );
    expect(first.admissions.get(id)).toEqual(admitted);
    const later = applyManifest(first, answer({ admissions: [exited] }), true, 2);
    expect(later.admissions.get(id)).toEqual(exited);
    // A repeated older change does not undo a newer one.
    expect(
      applyManifest(later, answer({ admissions: [admitted] }), true, 3).admissions.get(id),
    ).toEqual(exited);
    expect(fromStored(toStored(later)).admissions).toEqual(later.admissions);
    expect(deltaChanges(answer({ admissions: [exited] }))).toBe(1);
  });

  it('counts what a delta changed (an empty one is not written down)', () => {
    expect(deltaChanges(answer())).toBe(0);
    expect(
      deltaChanges(
        answer({ tickets: [ticket(1)], revoked: [{ registrationId: 'r', revokedAt: 'x' }] }),
      ),
    ).toBe(2);
  });

  it('stores as plain arrays and reads back the same list', () => {
    const list = applyManifest(
      undefined,
      answer({
        tickets: [ticket(1, 'Ana'), ticket(2)],
        revoked: [{ registrationId: ticket(3).registrationId, revokedAt: 'r' }],
      }),
      false,
      7,
    );
    const stored = toStored(list);
    expect(Array.isArray(stored.tickets)).toBe(true);
    expect(structuredClone(stored)).toEqual(stored);
    expect(fromStored(structuredClone(stored))).toEqual(list);
  });
});

describe('finding an attendee by name or user id', () => {
  const list = applyManifest(
    undefined,
    answer({
      tickets: [
        ticket(1, 'Ana Souza'),
        ticket(2, 'Anabela Costa'),
        ticket(3, 'José Anaya'),
        ticket(4, 'Bruno Lima'),
        ticket(5),
        { ...ticket(6, 'Carla Dias'), userId: 'ana' },
      ],
    }),
    false,
    1,
  );
  const names = (query: string) =>
    findAttendees(list, query).matches.map((t) => t.userName ?? t.userId);

  it('ranks the exact user id first, then names starting with the query, then containing it', () => {
    expect(names('ana')).toEqual(['Carla Dias', 'Ana Souza', 'Anabela Costa', 'José Anaya']);
    expect(names('lima')).toEqual(['Bruno Lima']);
    expect(names('user-5')).toEqual(['user-5']);
  });

  it('ignores case, accents and spaces around the query', () => {
    expect(names('  JOSE ')).toEqual(['José Anaya']);
    expect(searchable(' Zoë ')).toBe('zoe');
  });

  it('finds nobody for an empty query, and says when more match than shown', () => {
    expect(findAttendees(list, '   ')).toEqual({ matches: [], more: false });
    const some = findAttendees(list, 'a', 2);
    expect(some.matches).toHaveLength(2);
    expect(some.more).toBe(true);
  });

  it('finds a user’s ticket by user id, and none for a user not listed', () => {
    expect(ticketOfUser(list, 'user-4')?.userName).toBe('Bruno Lima');
    expect(ticketOfUser(list, 'user-99')).toBeUndefined();
  });

  it('finds one attendee among 10,000', () => {
    const big = applyManifest(
      undefined,
      answer({ tickets: Array.from({ length: 10_000 }, (_, i) => ticket(i, `Attendee ${i}`)) }),
      false,
      1,
    );
    expect(findAttendees(big, 'attendee 9999').matches[0]?.userId).toBe('user-9999');
    expect(findAttendees(big, 'attendee 12', 3).more).toBe(true);
  });
});
