import { describe, expect, it } from 'vitest';
import {
  base64urlToBytes,
  bytesToBase64url,
  createVerifier,
  Ed25519UnavailableError,
  judgeTicket,
  looksLikeTicket,
  parseTicket,
  TICKET_LENGTH,
} from '../src/lib/door-ticket';

/**
 * A ticket the API made (src/platform/signing.ts and events.checkins.rules.ts, master secret 32
 * bytes of 7, purpose `door-vector`, key version 2, event `door-vector-event`): the console reads
 * the bytes the API writes, not a copy of its own making.
 */
const API_TICKET = {
  ticket:
    'AQIT3aor7igPj61b2ctGn6FlcIZ3KJUOqaHOeJZ420YJ3D3S9EpLMv-QnDuk8EiSt_UdYfXyBJCEjGAS8ehMR8FkjHIDVI89L5Q5f8pgsFaRfiN8i_f3AA',
  eventTag: 'E92qK-4o',
  keys: [
    { version: 1, publicKey: 'BWt_6HabVUalE4yddg35qIRDxi0wjJiZFKI623cgn0E' },
    { version: 2, publicKey: 'KGUA6C4Qdn3uvSU3DWRN6cpNhVcg0WrwNKU6sU4enX8' },
  ],
  registrationId: '0f8fad5b-d9cb-469f-a165-70867728950e',
};

const tagOf = (text: string) => base64urlToBytes(text) as Uint8Array<ArrayBuffer>;

/** A key pair and tickets signed with it, as the API makes them. */
async function issuer(version = 1) {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const publicKey = bytesToBase64url(
    new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)),
  );
  const sign = async (tag: Uint8Array, registrationId: string, format = 1) => {
    const id = registrationId.replaceAll('-', '');
    const signed = new Uint8Array([
      format,
      version,
      ...tag,
      ...Array.from({ length: 16 }, (_, i) => Number.parseInt(id.slice(i * 2, i * 2 + 2), 16)),
    ]);
    const signature = new Uint8Array(
      await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, signed),
    );
    return bytesToBase64url(new Uint8Array([...signed, ...signature]));
  };
  return { key: { version, publicKey }, sign };
}

const TAG = tagOf('E92qK-4o');
const OTHER_TAG = tagOf('qbKGesw2');
const REGISTRATION = '6c1c5f3e-8a1b-4f57-9a43-2f1d0b7e9c21';

describe('reading a ticket', () => {
  it('reads the parts of a ticket the API made', () => {
    const parsed = parseTicket(API_TICKET.ticket);
    expect(API_TICKET.ticket).toHaveLength(TICKET_LENGTH);
    expect(parsed?.keyVersion).toBe(2);
    expect(parsed?.registrationId).toBe(API_TICKET.registrationId);
    expect(bytesToBase64url(parsed?.tag ?? new Uint8Array())).toBe(API_TICKET.eventTag);
    expect(parsed?.signed).toHaveLength(24);
    expect(parsed?.signature).toHaveLength(64);
  });

  it('takes a ticket with the spaces or line end a paste or a scanner adds', () => {
    expect(parseTicket(` ${API_TICKET.ticket}\n`)?.registrationId).toBe(API_TICKET.registrationId);
    expect(looksLikeTicket(`${API_TICKET.ticket}\r\n`)).toBe(true);
  });

  it('refuses what is not a ticket: length, alphabet, format', () => {
    expect(parseTicket(API_TICKET.ticket.slice(1))).toBeUndefined();
    expect(parseTicket(`${API_TICKET.ticket}A`)).toBeUndefined();
    expect(parseTicket(`${API_TICKET.ticket.slice(0, -1)}+`)).toBeUndefined();
    expect(parseTicket('')).toBeUndefined();
    expect(parseTicket('Ana Souza')).toBeUndefined();
    expect(looksLikeTicket('ana-souza')).toBe(false);
    // Format byte 2 (a format this console doesn't know).
    const bytes = base64urlToBytes(API_TICKET.ticket) as Uint8Array;
    bytes[0] = 2;
    expect(parseTicket(bytesToBase64url(bytes))).toBeUndefined();
  });

  it('round-trips base64url and refuses other alphabets', () => {
    const bytes = new Uint8Array([0, 251, 255, 62, 63, 1]);
    expect(base64urlToBytes(bytesToBase64url(bytes))).toEqual(bytes);
    expect(bytesToBase64url(bytes)).not.toMatch(/[+/=]/);
    expect(base64urlToBytes('ab+c')).toBeUndefined();
    expect(base64urlToBytes('abcde')).toBeUndefined();
  });
});

describe('verifying a ticket offline', () => {
  it('verifies a ticket the API signed with the keys of its manifest', async () => {
    const verifier = await createVerifier(API_TICKET.keys);
    expect(await judgeTicket(API_TICKET.ticket, tagOf(API_TICKET.eventTag), verifier)).toEqual({
      result: 'valid',
      registrationId: API_TICKET.registrationId,
    });
  });

  it('says unknown for a signature changed by one bit, or a registration id changed', async () => {
    const verifier = await createVerifier(API_TICKET.keys);
    const bytes = base64urlToBytes(API_TICKET.ticket) as Uint8Array;
    const flipped = bytes.slice();
    flipped[87] = (flipped[87] as number) ^ 1;
    expect(await judgeTicket(bytesToBase64url(flipped), TAG, verifier)).toEqual({
      result: 'unknown',
    });
    const otherId = bytes.slice();
    otherId[10] = (otherId[10] as number) ^ 1;
    expect(await judgeTicket(bytesToBase64url(otherId), TAG, verifier)).toEqual({
      result: 'unknown',
    });
    expect(await judgeTicket('not a ticket', TAG, verifier)).toEqual({ result: 'unknown' });
  });

  it('says wrong_event for a genuine ticket of another event', async () => {
    const { key, sign } = await issuer();
    const verifier = await createVerifier([key]);
    const ticket = await sign(OTHER_TAG, REGISTRATION);
    expect(await judgeTicket(ticket, TAG, verifier)).toEqual({ result: 'wrong_event' });
    expect(await judgeTicket(ticket, OTHER_TAG, verifier)).toEqual({
      result: 'valid',
      registrationId: REGISTRATION,
    });
  });

  it('verifies nothing signed with a key version the manifest no longer lists', async () => {
    const retired = await issuer(1);
    const current = await issuer(2);
    const verifier = await createVerifier([current.key]);
    expect(await judgeTicket(await retired.sign(TAG, REGISTRATION), TAG, verifier)).toEqual({
      result: 'unknown',
    });
    expect((await judgeTicket(await current.sign(TAG, REGISTRATION), TAG, verifier)).result).toBe(
      'valid',
    );
    // A key listed under another version doesn't verify a ticket that names this one.
    const swapped = await createVerifier([{ ...retired.key, version: 2 }]);
    expect(await judgeTicket(await current.sign(TAG, REGISTRATION), TAG, swapped)).toEqual({
      result: 'unknown',
    });
  });

  it('skips a malformed public key rather than failing the whole list', async () => {
    const { key, sign } = await issuer(3);
    const verifier = await createVerifier([{ version: 1, publicKey: 'short' }, key]);
    expect((await judgeTicket(await sign(TAG, REGISTRATION), TAG, verifier)).result).toBe('valid');
  });

  it('says so when the browser has no Ed25519', async () => {
    const subtle = {
      importKey: () => Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError')),
    } as unknown as SubtleCrypto;
    await expect(createVerifier(API_TICKET.keys, subtle)).rejects.toBeInstanceOf(
      Ed25519UnavailableError,
    );
  });
});
