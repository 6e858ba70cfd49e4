import { readdir } from 'node:fs/promises';

/** The records a local journal (src/runtime/local/journal.ts) holds in `directory`, by file. */
export const journalEntries = async (directory: string): Promise<string[]> =>
  (await readdir(directory).catch(() => [])).filter((name) => name.endsWith('.json'));
