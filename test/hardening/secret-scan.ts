import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkCpf } from '../../src/modules/enrollments/enrollments.rules.js';

/**
 * The scan behind "no full CPF, password, token or API key in any log line": what it looks for
 * and where. It reads text (the captured output of the whole suite, see
 * test/support/log-capture.ts) and reports each line holding
 * - a CPF in full: `123.456.789-09`, or 11 digits standing alone whose check digits are right
 *   (a masked `***.456.789-**` is fine);
 * - a JWT (`eyJ….….…`) or a bearer credential (`Bearer <16+ token characters>`);
 * - a key the local runtime generates (`rk_…`);
 * - any secret the tests use, taken from their source (`knownTestSecrets`): API keys, right and
 *   wrong, and passwords.
 * The start-up banner of `npm start` prints the API key on purpose (docs/spec.md#authentication:
 * a generated key is printed at start-up, so whoever started the runtime can use it): its two lines that show the
 * key are the only lines exempt.
 */

export type SecretKind = 'cpf' | 'jwt' | 'bearer' | 'generated-key' | 'test-secret';

export interface Finding {
  readonly kind: SecretKind;
  /** `<file>:<line>` */
  readonly where: string;
  /** The line with the secret replaced by `<kind>`, shortened. */
  readonly excerpt: string;
}

const FORMATTED_CPF = /(?<![\w.])\d{3}\.\d{3}\.\d{3}-\d{2}(?!\w)/g;
/** 11 digits that are not part of a longer word, number or decimal fraction. */
const DIGITS_CPF = /(?<![\w.])\d{11}(?![\w]|\.\d)/g;
const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/gi;
const GENERATED_KEY = /\brk_[A-Za-z0-9_-]{20,}/g;

/** The banner lines of src/runtime/local/main.ts that show the key on purpose. */
const BANNER_KEY_LINES = [
  /^\s*API key\s+\S+ \((?:from API_KEYS|kept in .+)\)\s*$/,
  /^\s*Try: curl -H 'x-api-key: [^']+' \S+\/events\s*$/,
];

/**
 * 11 digits (nothing else) whose check digits are right, by the enrollments rules (`checkCpf`):
 * one digit repeated 11 times is not a CPF.
 */
export const isValidCpf = (digits: string): boolean =>
  /^\d{11}$/.test(digits) && checkCpf(digits).ok;

/** Every secret in `text`, line by line; `source` names the text in the findings. */
export function scanText(text: string, source: string, known: readonly string[] = []): Finding[] {
  const findings: Finding[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (BANNER_KEY_LINES.some((banner) => banner.test(line))) return;
    const hits: { kind: SecretKind; value: string }[] = [];
    for (const match of line.matchAll(FORMATTED_CPF)) hits.push({ kind: 'cpf', value: match[0] });
    for (const match of line.matchAll(DIGITS_CPF)) {
      if (isValidCpf(match[0])) hits.push({ kind: 'cpf', value: match[0] });
    }
    for (const match of line.matchAll(JWT)) hits.push({ kind: 'jwt', value: match[0] });
    for (const match of line.matchAll(BEARER)) hits.push({ kind: 'bearer', value: match[0] });
    for (const match of line.matchAll(GENERATED_KEY)) {
      hits.push({ kind: 'generated-key', value: match[0] });
    }
    for (const secret of known) {
      if (line.includes(secret)) hits.push({ kind: 'test-secret', value: secret });
    }
    if (hits.length === 0) return;
    let excerpt = line;
    for (const hit of hits) excerpt = excerpt.replaceAll(hit.value, `<${hit.kind}>`);
    for (const hit of hits) {
      findings.push({
        kind: hit.kind,
        where: `${source}:${index + 1}`,
        excerpt: excerpt.length > 240 ? `${excerpt.slice(0, 240)}…` : excerpt,
      });
    }
  });
  return findings;
}

/** Scans every file in a folder (the capture folder); names findings by file name. */
export function scanFolder(dir: string, known: readonly string[]): Finding[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => statSync(join(dir, name)).isFile())
    .flatMap((name) => scanText(readFileSync(join(dir, name), 'utf8'), name, known));
}

/**
 * The API keys (valid ones and the wrong ones tests present) and passwords the test sources
 * use: constants named `…KEY`, `…PASSWORD`, `…SECRET`, `…TOKEN`, `password:` fields,
 * `API_KEYS` values, `x-api-key` headers and `key:` options of the test caller. Values shorter
 * than 8 characters or made of letters only (`'x'`, `'password'`) are left out: they are words
 * any log line may contain, not credentials a leak would show.
 */
export function knownTestSecrets(roots: readonly string[]): string[] {
  const patterns = [
    /\b(?:[A-Z0-9]+_)*(?:KEY|PASSWORD|SECRET|TOKEN)S?\s*=\s*'([^'\n]+)'/g,
    /\bpassword:\s*'([^'\n]+)'/g,
    /\bAPI_KEYS:\s*'([^'\n]+)'/g,
    /'x-api-key':\s*'([^'\n]+)'/g,
    /\bkey:\s*'([^'\n]+)'/g,
  ];
  const found = new Set<string>();
  for (const file of roots.flatMap((root) => sourceFiles(root))) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        for (const value of (match[1] ?? '').split(',')) {
          const secret = value.trim();
          if (secret.length >= 8 && !/^[A-Za-z]+$/.test(secret)) found.add(secret);
        }
      }
    }
  }
  return [...found].sort();
}

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(?:ts|tsx|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}
