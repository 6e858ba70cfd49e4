/**
 * Runs work on one key at a time in this process, folding the calls that arrive meanwhile into a
 * single next run: a call made while a run is under way waits for the run that starts after it
 * (which sees whatever the call came about), and every call made during that wait shares it.
 * For work that is one pass over a key's current state — lapsing an event's due offers — where
 * concurrent passes would only race each other's conditions.
 */
export class Coalescer<Result> {
  private readonly runs = new Map<string, { current: Promise<Result>; next?: Promise<Result> }>();

  constructor(private readonly work: (key: string) => Promise<Result>) {}

  run(key: string): Promise<Result> {
    const runs = this.runs.get(key);
    if (!runs) return this.start(key);
    if (!runs.next) {
      runs.next = runs.current.then(
        () => this.start(key),
        () => this.start(key),
      );
    }
    return runs.next;
  }

  /** The run under way for `key`, if any (what it does may already answer a caller). */
  current(key: string): Promise<Result> | undefined {
    return this.runs.get(key)?.current;
  }

  private start(key: string): Promise<Result> {
    const current = (async () => this.work(key))();
    this.runs.set(key, { current });
    const settled = () => {
      const runs = this.runs.get(key);
      // A next run already queued takes the slot when it starts.
      if (runs?.current === current && !runs.next) this.runs.delete(key);
    };
    current.then(settled, settled);
    return current;
  }
}
