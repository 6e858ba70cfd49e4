import { describe, expect, it } from 'vitest';
import {
  clientKey,
  decideAttempt,
  normalizeUsername,
  passwordProblems,
  USERNAME_PATTERN,
} from '../../src/modules/auth/auth.rules.js';

const settings = { burst: 3, decaySeconds: 60 };

describe('decideAttempt (per-username throttle)', () => {
  it('starts afresh when nothing counts', () => {
    expect(decideAttempt('unknown', 1000, settings)).toEqual({ kind: 'start', tat: 61_000 });
    expect(decideAttempt(undefined, 1000, settings)).toEqual({ kind: 'start', tat: 61_000 });
    expect(decideAttempt(999, 1000, settings)).toEqual({ kind: 'start', tat: 61_000 });
  });

  it('extends while fewer than burst attempts count', () => {
    expect(decideAttempt(121_000, 1000, settings)).toEqual({
      kind: 'extend',
      by: 60_000,
      limit: 121_000,
    });
  });

  it('refuses once burst attempts count, for as long as one attempt needs to decay', () => {
    expect(decideAttempt(181_000, 1000, settings)).toEqual({
      kind: 'refuse',
      retryAfterSeconds: 60,
    });
    expect(decideAttempt(181_000, 31_000, settings)).toEqual({
      kind: 'refuse',
      retryAfterSeconds: 30,
    });
    expect(decideAttempt(181_000, 61_000, settings).kind).toBe('extend');
  });
});

describe('passwordProblems', () => {
  it('accepts a password that meets the policy', () => {
    expect(passwordProblems('Correct-Horse-9', 'alice')).toEqual([]);
  });

  it.each([
    ['Sh0rt-Pass', 'shorter than 12 characters'],
    ['correct-horse-9', 'no uppercase letter'],
    ['CORRECT-HORSE-9', 'no lowercase letter'],
    ['Correct-Horse-X', 'no digit'],
    ['CorrectHorse99', 'no symbol'],
  ])('refuses %s: %s', (password, problem) => {
    expect(passwordProblems(password, 'alice')).toContain(problem);
  });

  it('refuses the username as the password, whatever its case', () => {
    expect(passwordProblems('Alice-Smith-1', 'alice-smith-1')).toContain(
      'the same as the username',
    );
  });

  it('counts characters, not UTF-16 units, against the limits', () => {
    expect(passwordProblems('Ünïcödé-Pässwörd-1', 'x')).toEqual([]);
    expect(passwordProblems(`A1-${'😀'.repeat(254)}`, 'x')).toContain('longer than 256 characters');
  });
});

describe('usernames', () => {
  it('normalises case and compatibility forms', () => {
    expect(normalizeUsername('ALICE')).toBe('alice');
    expect(normalizeUsername('ｂｏｂ')).toBe('bob');
  });

  it.each(['alice', 'a.b_c@d+e-f', '0day'])('accepts %s', (name) => {
    expect(USERNAME_PATTERN.test(name)).toBe(true);
  });

  it.each(['', '.hidden', 'has space', 'x'.repeat(129), 'semi;colon'])('refuses %j', (name) => {
    expect(USERNAME_PATTERN.test(name)).toBe(false);
  });
});

describe('clientKey (what the per-client limit counts by)', () => {
  it('keeps an IPv4 address, also when a dual-stack socket writes it IPv4-mapped', () => {
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::FFFF:192.0.2.7')).toBe('192.0.2.7');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const key = clientKey('2001:db8:0:1::1');
    expect(key).toBe('2001:db8:0:1::/64');
    expect(clientKey('2001:0db8:0000:0001:ffff:ffff:ffff:fffe')).toBe(key);
    expect(clientKey('2001:DB8:0:1:a::%eth0')).toBe(key);
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('2001:db8:0:2::1')).not.toBe(key);
  });
});
