import * as z from 'zod/mini';
import type { $ZodLooseShape, $ZodType, GlobalMeta } from 'zod/v4/core';

/*
 * What every module's schemas share: what user-visible text may contain, bodies that refuse
 * fields they do not know, whole-number settings, and how a schema is described in the OpenAPI
 * document.
 *
 * Text is shown again — in the console, in logs read in a terminal, in exports — so it may not
 * carry characters that make it display other than it reads:
 * - control characters, C0 (U+0000–U+001F, NUL included), DEL and C1 (U+007F–U+009F): terminal
 *   escape sequences (ESC, CSI), truncation at NUL in C-based tools, NEL as a hidden line break;
 * - the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they
 *   reorder what follows them, so `invoice\u202Efdp.exe` displays as `invoiceexe.pdf` (the nine
 *   characters of "Trojan Source", CVE-2021-42574);
 * - unpaired surrogates: not text at all (they become U+FFFD or an error once encoded as UTF-8).
 * The implicit marks LRM, RLM and ALM (U+200E, U+200F, U+061C) stay allowed: they are how
 * right-to-left text is written correctly next to digits and Latin, and they change the direction
 * of no character beyond their neighbours. A one-line field also refuses line breaks (LF, CR,
 * U+2028, U+2029) and tabs; a multi-line one (`multiline: true`, e.g. a description) keeps them.
 */

export interface TextOptions {
  /** Fewest UTF-16 code units. @default 1 (a required text is also not blank) */
  readonly min?: number;
  /** Keeps line feeds, carriage returns, tabs, U+2028 and U+2029. @default false */
  readonly multiline?: boolean;
}

/** Line breaks and the tab, as a one-line field refuses them and a multi-line one keeps them. */
const layout: ReadonlyMap<number, string> = new Map([
  [0x09, 'a tab'],
  [0x0a, 'a line break'],
  [0x0d, 'a line break'],
  [0x2028, 'a line break'],
  [0x2029, 'a line break'],
]);

/** What kind of character a text field refuses `code` as, or undefined when it takes it. */
function refused(code: number, multiline: boolean): string | undefined {
  const kind = layout.get(code);
  if (kind !== undefined) return multiline ? undefined : kind;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return 'a control character';
  if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) {
    return 'a bidirectional formatting character';
  }
  // Iterating a string by code point yields a surrogate only when it is unpaired.
  if (code >= 0xd800 && code <= 0xdfff) return 'an unpaired surrogate';
  return undefined;
}

const codePointName = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why `value` breaks the text rule — the first character it refuses, by code point and position
 * (in characters, from 1) — or undefined. Never quotes the value: it may be personal data, and
 * the message ends up in a response.
 */
export function textProblem(value: string, { multiline = false } = {}): string | undefined {
  let position = 0;
  for (const character of value) {
    position++;
    const code = character.codePointAt(0) ?? 0;
    const kind = refused(code, multiline);
    if (kind) return `must not contain ${codePointName(code)} (${kind}) at character ${position}`;
  }
  return undefined;
}

/** A user-visible text field: `min`–`max` UTF-16 code units, not blank, under the text rule. */
export function text(max: number, { min = 1, multiline = false }: TextOptions = {}) {
  const schema = z.string().check(
    z.minLength(min),
    z.maxLength(max),
    z.superRefine((value, context) => {
      const problem = textProblem(value, { multiline });
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }),
  );
  return min > 0
    ? schema.check(z.refine((value) => value.trim().length > 0, 'must not be blank'))
    : schema;
}

/** How many unknown fields a message names; the rest are counted. */
const NAMED_FIELDS = 5;
/** How much of an unknown field's name a message quotes. */
const QUOTED_LENGTH = 40;

/**
 * A field name as a message quotes it: cut short, in quotes, with every character the text rule
 * refuses escaped (`\u202e`), so a hostile name can neither flood nor disguise the answer.
 */
function quoteField(name: string): string {
  const characters = [...name];
  const short =
    characters.length > QUOTED_LENGTH
      ? `${characters.slice(0, QUOTED_LENGTH).join('')}…`
      : characters.join('');
  let quoted = '';
  for (const character of short) {
    const code = character.codePointAt(0) ?? 0;
    if (code === 0x22 || code === 0x5c) quoted += `\\${character}`;
    else if (refused(code, false)) quoted += `\\u${code.toString(16).padStart(4, '0')}`;
    else quoted += character;
  }
  return `"${quoted}"`;
}

function unknownFieldsMessage(keys: readonly string[], known: readonly string[]): string {
  const named = keys.slice(0, NAMED_FIELDS).map(quoteField).join(', ');
  const more = keys.length > NAMED_FIELDS ? ` and ${keys.length - NAMED_FIELDS} more` : '';
  const noun = keys.length === 1 ? 'field' : 'fields';
  return `unknown ${noun} ${named}${more} (the fields are ${known.join(', ')})`;
}

/**
 * A request body: an object that refuses fields it does not know (a misspelt `hasWaitlst` would
 * otherwise be dropped without a word and its default used), naming them and the fields there
 * are. Its JSON Schema, and so the OpenAPI document, says `additionalProperties: false`.
 */
export function strictBody<Shape extends $ZodLooseShape>(shape: Shape) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? unknownFieldsMessage(issue.keys, known) : undefined,
  });
}

/**
 * A module setting that is a whole number from `min` to `max` (no upper bound without `max`),
 * read from its environment variable's text, and `fallback` when the variable is unset.
 */
export const integerSetting = (fallback: number, { min, max }: { min: number; max?: number }) =>
  z._default(
    z.optional(
      z.coerce
        .number()
        .check(z.int(), z.minimum(min), ...(max === undefined ? [] : [z.maximum(max)])),
    ),
    fallback,
  );

/**
 * A copy of `schema` that carries `meta` for the OpenAPI document: an `id` makes it a component
 * (`#/components/schemas/<id>`); `description`, `example`, `format` and `param` describe it where
 * it is used. The copy inherits the original's metadata but its `id`, and the original stays as
 * it was, so one schema can be described differently in each place it is used.
 *
 * Not zod/mini's `z.meta()` check: zod carries a schema's checks into every schema made from it
 * (`.check()`, `z.extend`) and registers their metadata again there, so an `id` would follow a
 * schema into each one extended from it.
 */
export function withMeta<T extends $ZodType>(schema: T, meta: GlobalMeta): T {
  const copy = z.clone(schema);
  z.globalRegistry.add(copy, meta);
  return copy;
}
