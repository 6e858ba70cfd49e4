import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { strictBody, text } from '../../src/platform/input.js';

// zod/mini speaks no language of its own: the app installs English (the route layer, the
// configuration), and so does this test.
z.config(en());

/** The messages a schema answers for a value (none when it accepts it). */
const messagesOf = (schema: z.ZodMiniType, value: unknown): string[] =>
  schema.safeParse(value).error?.issues.map((issue) => issue.message) ?? [];

const oneLine = text(50);
const multiline = text(500, { multiline: true });

describe('text(): the rule for user-visible text', () => {
  it.each([
    ['NUL', 'a\u0000b', 'U+0000 (a control character) at character 2'],
    ['ESC, which starts terminal escape sequences', 'a\u001b[31m', 'U+001B (a control character)'],
    ['DEL', 'ab\u007f', 'U+007F (a control character) at character 3'],
    ['a C1 control (CSI)', 'a\u009b31m', 'U+009B (a control character) at character 2'],
    ['a C1 control (NEL)', 'a\u0085b', 'U+0085 (a control character)'],
    ['U+0080, the first C1 control', '\u0080', 'U+0080 (a control character) at character 1'],
    ['LEFT-TO-RIGHT EMBEDDING', 'a\u202Ab', 'U+202A (a bidirectional formatting character)'],
    ['RIGHT-TO-LEFT EMBEDDING', 'a\u202Bb', 'U+202B (a bidirectional formatting character)'],
    ['POP DIRECTIONAL FORMATTING', 'a\u202Cb', 'U+202C (a bidirectional formatting character)'],
    ['LEFT-TO-RIGHT OVERRIDE', 'a\u202Db', 'U+202D (a bidirectional formatting character)'],
    ['RIGHT-TO-LEFT OVERRIDE', 'txt.\u202Eexe', 'U+202E (a bidirectional formatting character)'],
    ['LEFT-TO-RIGHT ISOLATE', 'a\u2066b', 'U+2066 (a bidirectional formatting character)'],
    ['RIGHT-TO-LEFT ISOLATE', 'a\u2067b', 'U+2067 (a bidirectional formatting character)'],
    ['FIRST STRONG ISOLATE', 'a\u2068b', 'U+2068 (a bidirectional formatting character)'],
    ['POP DIRECTIONAL ISOLATE', 'a\u2069b', 'U+2069 (a bidirectional formatting character)'],
    ['an unpaired high surrogate', 'a\ud800b', 'U+D800 (an unpaired surrogate) at character 2'],
    ['an unpaired low surrogate', 'ab\udc00', 'U+DC00 (an unpaired surrogate) at character 3'],
  ])('refuses %s in any text field, naming the character and where it is', (_c, value, says) => {
    for (const schema of [oneLine, multiline]) {
      expect(messagesOf(schema, value)).toEqual([
        expect.stringContaining(`must not contain ${says}`),
      ]);
    }
  });

  it.each([
    ['a line feed', 'one\ntwo', 'U+000A (a line break) at character 4'],
    ['a carriage return', 'one\rtwo', 'U+000D (a line break) at character 4'],
    ['a tab', 'one\ttwo', 'U+0009 (a tab) at character 4'],
    ['LINE SEPARATOR', 'one\u2028two', 'U+2028 (a line break) at character 4'],
    ['PARAGRAPH SEPARATOR', 'one\u2029two', 'U+2029 (a line break) at character 4'],
  ])('refuses %s in a one-line field', (_c, value, says) => {
    expect(messagesOf(oneLine, value)).toEqual([`must not contain ${says}`]);
  });

  it('keeps line feeds, carriage returns, tabs and Unicode line separators in a multi-line field', () => {
    expect(messagesOf(multiline, 'Agenda:\r\n\t09:00 talks\n\t12:00 lunch\u2028end\u2029')).toEqual(
      [],
    );
  });

  it.each([
    ['accented Latin and punctuation', 'São Paulo — Café “Ação”'],
    ['Hebrew with digits and a RIGHT-TO-LEFT MARK', 'כנס 2024\u200F'],
    ['a LEFT-TO-RIGHT MARK', 'abc\u200Edef'],
    ['an ARABIC LETTER MARK', 'مؤتمر\u061C 2024'],
    ['emoji joined by ZERO WIDTH JOINER', 'Team 👩‍💻👨‍👩‍👧'],
    ['CJK', '技術会議'],
    ['a no-break space inside', 'a\u00A0b'],
  ])('accepts %s', (_c, value) => {
    expect(messagesOf(oneLine, value)).toEqual([]);
  });

  it('counts the position in characters, so a character outside the BMP counts once', () => {
    expect(messagesOf(oneLine, '😀😀\u202E')).toEqual([
      'must not contain U+202E (a bidirectional formatting character) at character 3',
    ]);
  });

  it('names the first offending character only, and never quotes the value', () => {
    const messages = messagesOf(oneLine, 'secret\u0000value\u202E');

    expect(messages).toEqual(['must not contain U+0000 (a control character) at character 7']);
    expect(messages.join()).not.toContain('secret');
  });

  it.each([
    ['empty', '', 'Too small: expected string to have >=1 characters'],
    ['blank', ' \u00A0 ', 'must not be blank'],
    ['over the maximum', 'x'.repeat(51), 'Too big: expected string to have <=50 characters'],
  ])('refuses a value that is %s', (_c, value, message) => {
    expect(messagesOf(oneLine, value)).toContain(message);
  });

  it('takes a minimum length', () => {
    expect(messagesOf(text(10, { min: 3 }), 'ab')).toEqual([
      'Too small: expected string to have >=3 characters',
    ]);
    expect(messagesOf(text(10, { min: 3 }), 'abc')).toEqual([]);
  });

  it('refuses what is not a string', () => {
    expect(messagesOf(oneLine, 42)).toEqual(['Invalid input: expected string, received number']);
  });
});

describe('strictBody(): request bodies refuse unknown fields', () => {
  const body = strictBody({ title: text(20), capacity: z.optional(z.int()) });

  it('refuses an unknown field, naming it and the fields there are', () => {
    const result = body.safeParse({ title: 'Conf', hasWaitlst: false });

    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: [],
        message: 'unknown field "hasWaitlst" (the fields are title, capacity)',
      }),
    ]);
  });

  it('names every unknown field at once, beside the other errors', () => {
    const messages = messagesOf(body, { title: '', titel: 'Conf', capacty: 3 });

    expect(messages).toContain(
      'unknown fields "titel", "capacty" (the fields are title, capacity)',
    );
    expect(messages).toContain('Too small: expected string to have >=1 characters');
  });

  it('quotes an unknown field name escaped and cut short, and at most five of them', () => {
    const long = `a${'b'.repeat(100)}`;
    const input = Object.fromEntries(
      ['x\u202Ey', 'nul\u0000', long, 'k4', 'k5', 'k6', 'k7'].map((key) => [key, 1]),
    );

    const [message] = messagesOf(body, { title: 'Conf', ...input });

    expect(message).toBe(
      `unknown fields "x\\u202ey", "nul\\u0000", "a${'b'.repeat(39)}…", "k4", "k5" and 2 more (the fields are title, capacity)`,
    );
  });

  it('keeps its refinements and its JSON Schema says additionalProperties: false', () => {
    const refined = body.check(z.refine((value) => value.capacity !== 0, 'capacity must not be 0'));

    expect(messagesOf(refined, { title: 'Conf', capacity: 0 })).toEqual(['capacity must not be 0']);
    expect(z.toJSONSchema(body, { io: 'input' })).toMatchObject({ additionalProperties: false });
  });

  it('answers the usual message for a body that is not an object', () => {
    expect(messagesOf(body, ['Conf'])).toEqual(['Invalid input: expected object, received array']);
  });
});
