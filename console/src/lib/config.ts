/** What the console reads at start from `config.json`, next to index.html. */
export interface ConsoleConfig {
  /** The API's base URL, without a trailing slash. */
  readonly apiUrl: string;
}

/**
 * `{"apiUrl": ""}` (the local build) means the API is on the console's own origin; a deployment
 * writes the API Gateway URL there. Anything unusable falls back to the console's origin.
 */
export function parseConfig(value: unknown, origin: string): ConsoleConfig {
  const apiUrl =
    typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>).apiUrl
      : undefined;
  if (typeof apiUrl !== 'string' || apiUrl.trim() === '') return { apiUrl: origin };
  try {
    const url = new URL(apiUrl, origin);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return { apiUrl: origin };
    return { apiUrl: url.href.replace(/\/+$/, '') };
  } catch {
    return { apiUrl: origin };
  }
}
