import { parse } from 'csv-parse/sync';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authModule } from '../../src/modules/auth/auth.module.js';
import type { SlaError } from '../../src/modules/sla-errors/sla-errors.model.js';
import { slaErrorsModule } from '../../src/modules/sla-errors/sla-errors.module.js';
import { type CsvColumn, csvResponse, everyPage } from '../../src/platform/http/csv.js';
import type { PageRequest } from '../../src/platform/page.js';
import { addUser, createLocalIssuer, type LocalIssuer, signIn } from '../auth/fixtures.js';
import { validRecord } from '../sla-errors/fixtures.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { allPages, expectProblem, uniqueId } from '../support/fixture-app.js';

interface Row {
  readonly name: string;
  readonly count?: number;
}

const columns: readonly CsvColumn<Row>[] = [
  { header: 'name', value: (row) => row.name },
  { header: 'count', value: (row) => row.count },
];

/** The helper behind a route of a bare Hono app, fed `pages`; the answer as it reaches a client. */
async function exported(pages: AsyncIterable<readonly Row[]> | (readonly Row[])[]) {
  const app = new Hono();
  app.get('/export', (c) =>
    csvResponse(c, {
      filename: 'rows: "all".csv',
      columns,
      pages: Symbol.asyncIterator in pages ? pages : iterate(pages),
    }),
  );
  const res = await app.request('/export');
  const bytes = new Uint8Array(await res.arrayBuffer());
  // `fatal`: bytes that are not UTF-8 fail the test instead of becoming U+FFFD.
  return { res, bytes, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
}

async function* iterate<T>(pages: readonly T[]): AsyncGenerator<T> {
  for (const page of pages) yield page;
}

describe('csvResponse', () => {
  it('answers a UTF-8 CSV download with a header row and CRLF line ends', async () => {
    const { res, text } = await exported([[{ name: 'Ada', count: 3 }]]);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="rows___all_.csv"');
    expect(text).toBe('name,count\r\nAda,3\r\n');
  });

  it('quotes fields holding a quote, a comma, CR or LF and doubles their quotes (RFC 4180)', async () => {
    const names = ['say "hi"', 'a,b', 'line\nbreak', 'carriage\rreturn', 'crlf\r\nend', 'plain'];
    const { text } = await exported([names.map((name) => ({ name }))]);
    expect(text).toBe(
      'name,count\r\n' +
        '"say ""hi""",\r\n' +
        '"a,b",\r\n' +
        '"line\nbreak",\r\n' +
        '"carriage\rreturn",\r\n' +
        '"crlf\r\nend",\r\n' +
        'plain,\r\n',
    );
    const parsed: Row[] = parse(text, { columns: true });
    expect(parsed.map((row) => row.name)).toEqual(names);
  });

  it('neutralises text cells a spreadsheet would run as a formula, with a leading quote', async () => {
    const names = [
      '=HYPERLINK("http://x","y")',
      '+1',
      '-2',
      '@SUM(A1:A2)',
      '\tindented',
      '\rreturned',
      'a=b',
      '1+1',
    ];
    const { text } = await exported([names.map((name) => ({ name }))]);
    const parsed: Row[] = parse(text, { columns: true });
    expect(parsed.map((row) => row.name)).toEqual([
      `'=HYPERLINK("http://x","y")`,
      "'+1",
      "'-2",
      "'@SUM(A1:A2)",
      "'\tindented",
      "'\rreturned",
      'a=b',
      '1+1',
    ]);
    expect(text).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
  });

  it('writes the numbers it is given as numbers, negative ones included', async () => {
    const { text } = await exported([[{ name: 'x', count: -2 }]]);
    expect(text).toBe('name,count\r\nx,-2\r\n');
  });

  it('keeps unicode as UTF-8', async () => {
    const name = 'Zoë Ñúñez 李小龍 🎟️ ‏עברית';
    const { res, bytes, text } = await exported([[{ name }]]);
    expect(res.headers.get('content-type')).toContain('charset=utf-8');
    expect(text).toBe(`name,count\r\n${name},\r\n`);
    // No byte-order mark: the first bytes are the header's.
    expect([...bytes.slice(0, 4)]).toEqual([...Buffer.from('name')]);
  });

  it('answers only the header row for an empty list', async () => {
    expect((await exported([])).text).toBe('name,count\r\n');
    expect((await exported([[], []])).text).toBe('name,count\r\n');
  });

  it('writes every page in order, one header, empty pages skipped', async () => {
    const { text } = await exported([[{ name: 'a' }], [], [{ name: 'b' }, { name: 'c' }], []]);
    expect(text).toBe('name,count\r\na,\r\nb,\r\nc,\r\n');
  });

  it('reads a page only when the client has taken the previous one', async () => {
    let read = 0;
    async function* counted() {
      for (let page = 0; page < 100; page++) {
        read++;
        yield [{ name: `row ${page}` }];
      }
    }
    const { res } = await (async () => {
      const app = new Hono();
      app.get('/export', (c) => csvResponse(c, { filename: 'x.csv', columns, pages: counted() }));
      return { res: await app.request('/export') };
    })();
    const reader = res.body?.getReader();
    await reader?.read();
    // The first page before answering, maybe one more buffered: never the whole list.
    expect(read).toBeLessThanOrEqual(3);
    await reader?.cancel();
  });

  it('answers a failure on the first page as an error, not a download', async () => {
    const app = new Hono();
    app.onError((error, c) => c.json({ error: error.message }, 503));
    app.get('/export', (c) =>
      csvResponse(c, {
        filename: 'x.csv',
        columns,
        pages: (async function* (): AsyncGenerator<Row[]> {
          yield* [];
          throw new Error('database down');
        })(),
      }),
    );
    const res = await app.request('/export');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'database down' });
  });

  it('aborts the transfer when a later page fails, so a partial file never looks whole', async () => {
    const { res } = await (async () => {
      const app = new Hono();
      app.get('/export', (c) =>
        csvResponse(c, {
          filename: 'x.csv',
          columns,
          pages: (async function* () {
            yield [{ name: 'first' }];
            throw new Error('database down');
          })(),
        }),
      );
      return { res: await app.request('/export') };
    })();
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow('database down');
  });
});

describe('everyPage', () => {
  it('follows a paged list to its end, one page at a time', async () => {
    const items = Array.from({ length: 7 }, (_, i) => i);
    const asked: PageRequest[] = [];
    const list = async (page: PageRequest) => {
      asked.push(page);
      const start = Number(page.cursor ?? 0);
      const next = start + page.limit;
      return {
        items: items.slice(start, next),
        nextCursor: next < items.length ? String(next) : undefined,
      };
    };
    const pages: number[][] = [];
    for await (const page of everyPage(list, 3)) pages.push(page);
    expect(pages).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(asked).toEqual([
      { limit: 3, cursor: undefined },
      { limit: 3, cursor: '3' },
      { limit: 3, cursor: '6' },
    ]);
  });
});

describe('GET /sla-errors as CSV (the helper in a real route)', () => {
  let issuer: LocalIssuer;
  let app: TestApp;
  const fileName = `${uniqueId('late')}.csv`;
  /** More than one page of the list (200), so the export follows a cursor. */
  const RECORDS = 230;
  const message = '=cmd|\' /C calc\'!A0\r\nsecond line, with "quotes"';

  beforeAll(async () => {
    issuer = await createLocalIssuer();
    app = await createTestApp({
      modules: [authModule, slaErrorsModule],
      ports: { tokens: issuer.tokens },
    });
    await addUser(app, 'reporter');
    const bearer = (await signIn(app, 'reporter')).access_token;
    const lanes = Array.from({ length: 10 }, async (_, lane) => {
      for (let i = lane; i < RECORDS; i += 10) {
        const receivedAt = new Date(Date.UTC(2026, 10, 21, 10, 0, i)).toISOString();
        const res = await app.call('/sla-errors', {
          method: 'POST',
          key: null,
          headers: { authorization: `Bearer ${bearer}` },
          json: { ...validRecord, fileName, receivedAt, message },
        });
        expect(res.status).toBe(200);
      }
    });
    await Promise.all(lanes);
  }, 60_000);

  afterAll(async () => {
    await issuer.cleanup();
  });

  const query = `fileName=${fileName}&from=2026-11-21T10:00:10Z&to=2026-11-21T10:03:40Z`;

  it('exports every matching record, newest first, as the JSON list pages them', async () => {
    const json = (await allPages<SlaError>(app, `/sla-errors?${query}&limit=200`)).flat();
    expect(json).toHaveLength(210);
    for (const res of [
      await app.call(`/sla-errors?${query}`, { headers: { accept: 'text/csv' } }),
      await app.call(`/sla-errors.csv?${query}`),
    ]) {
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="sla-errors.csv"');
      const rows: Record<string, string>[] = parse(await res.text(), { columns: true });
      expect(rows).toEqual(json.map((record) => ({ ...record, message: `'${message}` })));
    }
  });

  it('answers a bad filter as a 400 problem, not a CSV', async () => {
    await expectProblem(
      await app.call('/sla-errors.csv?from=2026-11-21T11:00:00Z&to=2026-11-21T10:00:00Z'),
      400,
    );
    await expectProblem(
      await app.call('/sla-errors?from=not-a-date', { headers: { accept: 'text/csv' } }),
      400,
    );
  });

  it('asks for credentials like the JSON list', async () => {
    await expectProblem(await app.call(`/sla-errors.csv?${query}`, { key: null }), 401);
  });
});
