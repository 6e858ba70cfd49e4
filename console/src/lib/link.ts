/**
 * RFC 8288 `Link` headers, as the API sends them: `<?status=active&cursor=…>; rel="next"`. The
 * target may be relative (query-only): it resolves against the URL that was called.
 */
export interface Link {
  readonly target: string;
  readonly rels: readonly string[];
}

/** Every link in a header value; commas inside `<…>` or quotes don't split links. */
export function parseLinkHeader(header: string | null | undefined): Link[] {
  if (!header) return [];
  const links: Link[] = [];
  for (const part of splitOutside(header, ',')) {
    const match = /^\s*<([^>]*)>(.*)$/s.exec(part);
    if (!match) continue;
    const [, target = '', rest = ''] = match;
    const rels: string[] = [];
    for (const param of splitOutside(rest, ';')) {
      const pair = /^\s*([A-Za-z*-]+)\s*=\s*(?:"([^"]*)"|([^\s";]+))\s*$/.exec(param);
      if (pair?.[1]?.toLowerCase() === 'rel') {
        rels.push(...(pair[2] ?? pair[3] ?? '').toLowerCase().split(/\s+/).filter(Boolean));
      }
    }
    links.push({ target, rels });
  }
  return links;
}

/** The cursor of the `rel="next"` link, or undefined on the last page. */
export function nextCursor(
  header: string | null | undefined,
  calledUrl: string,
): string | undefined {
  const next = parseLinkHeader(header).find((link) => link.rels.includes('next'));
  if (!next) return undefined;
  try {
    return new URL(next.target, calledUrl).searchParams.get('cursor') ?? undefined;
  } catch {
    return undefined;
  }
}

function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inAngle = false;
  let inQuote = false;
  for (const char of text) {
    if (char === '<' && !inQuote) inAngle = true;
    else if (char === '>' && !inQuote) inAngle = false;
    else if (char === '"' && !inAngle) inQuote = !inQuote;
    if (char === separator && !inAngle && !inQuote) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (current.trim()) parts.push(current);
  return parts;
}
