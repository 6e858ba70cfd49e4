/**
 * The Content-Security-Policy of a single-page app that loads nothing but its own files: no
 * inline script or style, no third-party host, no framing. `connectSrc` adds the origins its
 * scripts may call (an API on another origin). The local server and the CDN send the same
 * policy, so what works locally works behind CloudFront.
 */
export function singlePageAppCsp(connectSrc: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    `connect-src ${["'self'", ...connectSrc].join(' ')}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers beside the CSP, for the local server (CloudFront's policy sets its own equivalents). */
export const SINGLE_PAGE_APP_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': singlePageAppCsp(),
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * The docs page (Swagger UI, served by the app): its own script and stylesheet, the icons its
 * stylesheet carries as `data:` images, and calls to this API only (the OpenAPI document, "Try it
 * out"). No inline script, no other host: it works offline and can't be framed.
 */
export function docsCsp(): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers of the docs page and its assets. */
export const DOCS_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': docsCsp(),
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
};
