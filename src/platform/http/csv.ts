import type { Context, Hono } from 'hono';
import { accepts } from 'hono/accepts';
import * as z from 'zod/mini';
import { onFirstUse } from '../on-first-use.js';
import type { Page, PageRequest } from '../page.js';
import type { AppEnv } from './context.js';
import { type PublicRoute, publicRouteMatcher } from './public-routes.js';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/** One column of an export: its header and the cell of a row. */
export interface CsvColumn<T> {
  readonly header: string;
  /**
   * Text is neutralised against formula injection; numbers are written as they are (a negative
   * number stays a number). Undefined is an empty cell.
   */
  readonly value: (row: T) => string | number | undefined;
}

export interface CsvExport<T> {
  /** Offered to the client as the download's name; characters unsafe in a file name become `_`. */
  readonly filename: string;
  readonly columns: readonly CsvColumn<T>[];
  /** The rows, page by page: each page is written out before the next is read. */
  readonly pages: AsyncIterable<readonly T[]>;
}

/** Whether the request's `Accept` prefers CSV to JSON (JSON unless it names `text/csv` higher). */
export function prefersCsv(c: Context): boolean {
  return (
    accepts(c, {
      header: 'Accept',
      supports: ['application/json', 'text/csv'],
      default: 'application/json',
    }) === 'text/csv'
  );
}

/**
 * Sends a list's CSV variant to its `.csv` twin (307, same query, `Vary: Accept`) for every twin
 * in `twins`: where this app's answers are buffered and the twins stream elsewhere. The location
 * is relative to the list's own URL (its last segment + `.csv`), so it stays right behind a stage
 * prefix; clients that follow redirects (browsers, `curl -L`) get the file whatever its size.
 */
export function redirectCsvToTwins(app: Hono<AppEnv>, twins: readonly PublicRoute[]): void {
  const isTwin = publicRouteMatcher(twins);
  app.use('*', async (c, next) => {
    if (c.req.method !== 'GET' || !prefersCsv(c) || !isTwin('GET', `${c.req.path}.csv`)) {
      return next();
    }
    const search = new URL(c.req.url).search;
    c.header('vary', 'Accept');
    return c.redirect(`${c.req.path.split('/').at(-1)}.csv${search}`, 307);
  });
}

/**
 * Every page of a paged list, following its cursors to the end: a list method as an export's
 * pages. Each page is fetched only when the previous one has been written.
 */
export async function* everyPage<T>(
  list: (page: PageRequest) => Promise<Page<T>>,
  limit: number,
): AsyncGenerator<T[]> {
  let cursor: string | undefined;
  do {
    const page = await list({ limit, cursor });
    yield page.items;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/**
 * A CSV download (RFC 4180: CRLF line ends, fields with `"`, `,`, CR or LF quoted, quotes
 * doubled; UTF-8, a header row) streamed page by page, so memory stays flat whatever the number
 * of rows. A text cell starting with `=`, `+`, `-`, `@`, tab or CR (or their full-width forms)
 * gets a leading `'`, so a spreadsheet shows it as text instead of running it as a formula
 * (OWASP, CSV Injection).
 *
 * The first page is read before answering: a missing resource, a bad filter or a database that
 * does not answer is still a problem answer, not a broken download. A failure on a later page
 * aborts the transfer (the body is never ended cleanly), so a partial file can't pass for a
 * whole one.
 */
export async function csvResponse<T>(c: Context, spec: CsvExport<T>): Promise<Response> {
  const pages = spec.pages[Symbol.asyncIterator]();
  // The writer loads (on the first CSV answer) while the first page is read.
  const [first, { stringify }] = await Promise.all([pages.next(), csvStringify()]);
  let next: IteratorResult<readonly T[]> | undefined = first;
  let headerSent = false;
  const encoder = new TextEncoder();
  const options = {
    columns: spec.columns.map((column) => column.header),
    record_delimiter: 'windows',
    // Given a record delimiter, csv-stringify quotes only fields holding that delimiter: a lone
    // LF or CR would go out bare and split the row for every reader.
    quote_record_delimiter: true,
    escape_formulas: true,
  } as const;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      // An empty page writes nothing: read on until there is text to hand over, or the end
      // (a pull that enqueues nothing is not called again).
      for (;;) {
        const page = next ?? (await pages.next());
        next = undefined;
        if (page.done) {
          if (!headerSent)
            controller.enqueue(encoder.encode(stringify([], { ...options, header: true })));
          controller.close();
          return;
        }
        const rows = page.value.map((row) => spec.columns.map((column) => column.value(row)));
        const text = stringify(rows, { ...options, header: !headerSent });
        if (text === '') continue;
        headerSent = true;
        controller.enqueue(encoder.encode(text));
        return;
      }
    },
    async cancel() {
      // The client went away: stop reading pages.
      await pages.return?.();
    },
  });
  return c.body(body, 200, {
    'content-type': CSV_CONTENT_TYPE,
    'content-disposition': `attachment; filename="${safeFilename(spec.filename)}"`,
  });
}

/** The CSV writer, loaded by the first CSV answer: a function that writes none never loads it. */
const csvStringify = onFirstUse(() => import('csv-stringify/sync'));

const safeFilename = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '_');

/** A CSV body in the OpenAPI document. */
export const csvSchema = z.string().check(
  z.meta({
    description: 'RFC 4180 CSV, UTF-8, with a header row',
    example: 'id,name\r\n1,Ada\r\n',
  }),
);
