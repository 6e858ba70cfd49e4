/**
 * Downloads the console asks the API for with the signed-in credential (in a header, so never a
 * plain link): the answer's body is handed to the browser as a file.
 */

const FILENAME = /filename="?([^";]*)"?/i;

/**
 * The file name an answer's `Content-Disposition` offers, else `fallback` (the header is not
 * readable across origins unless the API exposes it). Only characters safe in a file name stay.
 */
export function filenameOf(disposition: string | null, fallback: string): string {
  const offered = disposition?.match(FILENAME)?.[1]?.trim();
  return offered ? offered.replace(/[^A-Za-z0-9._-]/g, '_') : fallback;
}

/** Hands `blob` to the browser as a download named `filename`. */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Once the browser has started the download (the click is handled synchronously).
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
