import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';

/**
 * DynamoDB expressions written as tagged templates, so an adapter reads like the expression it
 * sends and never juggles placeholder names:
 *
 *   update: x`SET ${name('status')} = ${'confirmed'}, promotedAt = ${now}`
 *   condition: x`attribute_exists(PK) AND registeredCount < ${name('capacity')}`
 *
 * Interpolated values become `:v<n>` placeholders, `name(…)` becomes a `#n<n>` attribute name
 * (needed for reserved words such as `status` and `capacity`), `list(…)` becomes a
 * comma-separated list of placeholders (for `IN (…)`), and a nested fragment is inlined, so
 * conditions compose: x`${base} AND ${extra}`. `compile` numbers placeholders across every
 * expression of one request, as DynamoDB requires a single names/values map per request.
 */

export interface Fragment {
  readonly strings: readonly string[];
  readonly parts: readonly unknown[];
}

class AttributeName {
  constructor(readonly name: string) {}
}

class ValueList {
  constructor(readonly values: readonly NativeAttributeValue[]) {}
}

function isFragment(value: unknown): value is Fragment {
  return (
    typeof value === 'object' &&
    value !== null &&
    'strings' in value &&
    'parts' in value &&
    Array.isArray((value as Fragment).strings)
  );
}

/** An expression fragment. */
export function x(strings: TemplateStringsArray, ...parts: unknown[]): Fragment {
  return { strings: [...strings], parts };
}

/** An attribute name, always sent as a `#placeholder` (safe for reserved words). */
export const name = (attribute: string): AttributeName => new AttributeName(attribute);

/** Values for `IN (…)`. */
export const list = (values: readonly NativeAttributeValue[]): ValueList => new ValueList(values);

/** Fragments joined with a separator (e.g. several `SET` actions, or conditions with AND). */
export function join(fragments: readonly Fragment[], separator: string): Fragment {
  if (fragments.length === 0) return x``;
  const strings = ['', ...fragments.slice(1).map(() => separator), ''];
  return { strings, parts: fragments };
}

/** Conditions joined with AND; undefined entries are skipped. */
export const and = (...conditions: (Fragment | undefined)[]): Fragment =>
  join(
    conditions.filter((c): c is Fragment => c !== undefined),
    ' AND ',
  );

export type Compiled<K extends string> = Partial<Record<K, string>> & {
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, NativeAttributeValue>;
};

/**
 * Turns named fragments (e.g. `{ UpdateExpression, ConditionExpression }`) into the request
 * fields DynamoDB expects, sharing one placeholder numbering. Undefined fragments are omitted.
 */
export function compile<K extends string>(fragments: Partial<Record<K, Fragment>>): Compiled<K> {
  const names = new Map<string, string>();
  const values: Record<string, NativeAttributeValue> = {};
  let valueCount = 0;

  const render = (fragment: Fragment): string => {
    let out = fragment.strings[0] ?? '';
    fragment.parts.forEach((part, i) => {
      out += renderPart(part) + (fragment.strings[i + 1] ?? '');
    });
    return out;
  };
  const placeholder = (value: NativeAttributeValue): string => {
    const key = `:v${valueCount++}`;
    values[key] = value;
    return key;
  };
  const renderPart = (part: unknown): string => {
    if (part instanceof AttributeName) {
      let alias = names.get(part.name);
      if (!alias) {
        alias = `#n${names.size}`;
        names.set(part.name, alias);
      }
      return alias;
    }
    if (part instanceof ValueList) {
      if (part.values.length === 0) throw new Error('list() needs at least one value');
      return part.values.map(placeholder).join(', ');
    }
    if (isFragment(part)) return render(part);
    return placeholder(part as NativeAttributeValue);
  };

  const out: Record<string, unknown> = {};
  for (const [key, fragment] of Object.entries(fragments) as [K, Fragment | undefined][]) {
    if (fragment) out[key] = render(fragment);
  }
  if (names.size > 0) {
    out.ExpressionAttributeNames = Object.fromEntries([...names].map(([n, alias]) => [alias, n]));
  }
  if (valueCount > 0) out.ExpressionAttributeValues = values;
  return out as Compiled<K>;
}
