import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Small JSON records on disk, kept until removed: what the local stand-ins of AWS services that
 * never lose what they accepted (the event bus, the workflow engine) hold across a crash. A
 * record is written to a temporary file, fsync'd, renamed into place and the directory fsync'd,
 * so once `write` resolves it survives a crash of the process or the machine.
 */
export class Journal<T> {
  private ready: Promise<unknown> | undefined;

  constructor(readonly directory: string) {}

  async write(id: string, value: T): Promise<void> {
    this.ready ??= mkdir(this.directory, { recursive: true });
    await this.ready;
    const file = this.fileOf(id);
    const handle = await open(`${file}.tmp`, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(value));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(`${file}.tmp`, file);
    // The rename itself survives a crash once the directory is synced too.
    const directory = await open(this.directory, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  async remove(id: string): Promise<void> {
    await rm(this.fileOf(id), { force: true });
  }

  /**
   * Every record left, by id. A temporary file is a write a crash cut short (its caller never
   * got an answer, so nothing was accepted): it is deleted. A record that can't be read is
   * reported through `unreadable` and left in place.
   */
  async entries(unreadable: (file: string, error: unknown) => void): Promise<[string, T][]> {
    const names = await readdir(this.directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const entries: [string, T][] = [];
    for (const name of names) {
      const file = join(this.directory, name);
      if (name.endsWith('.json.tmp')) {
        await rm(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        entries.push([
          decodeURIComponent(name.slice(0, -'.json'.length)),
          JSON.parse(await readFile(file, 'utf8')) as T,
        ]);
      } catch (error) {
        unreadable(file, error);
      }
    }
    return entries;
  }

  private fileOf(id: string): string {
    return join(this.directory, `${encodeURIComponent(id)}.json`);
  }
}
