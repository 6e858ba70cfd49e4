import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  atPath,
  type BusEvent,
  type EventBus,
  type EventRule,
  matches,
} from '../../platform/event-bus/bus.js';
import type { Logger } from '../../platform/logger.js';
import type { AnyModule } from '../../platform/module.js';
import type { ExecutionDescription, Workflows } from '../../platform/workflow/workflow.js';

/** What the bus needs of the workflow engine: starting a run, and knowing when it ended. */
export interface BusWorkflows extends Workflows {
  /** How the execution ended, once it has (undefined if the engine does not know it). */
  settled(workflow: string, executionId: string): Promise<ExecutionDescription | undefined>;
}

export interface LocalEventBusOptions {
  /**
   * A directory where an accepted event stays until the runs it started have ended (the local
   * runtime's `<data dir>/event-bus`): `recover()` delivers what a crash left there. Without
   * one, accepted events live in memory only (tests).
   */
  readonly journal?: string;
}

type Envelope = Record<string, unknown> & { readonly id: string };

/** One accepted event and the rules it goes to, as the journal keeps it. */
interface Accepted {
  readonly envelope: Envelope;
  readonly rules: readonly string[];
}

/**
 * The event bus in-process, with EventBridge's semantics where the code relies on them: an
 * event is put in EventBridge's envelope (`source`, `detail-type`, `detail`, `id`, `time`, …),
 * every listed module's rule whose pattern matches gets it, and delivery is asynchronous —
 * `publish` resolves once the event is accepted, not once its targets ran. A target that fails
 * is logged (EventBridge would retry it, then drop it or dead-letter it).
 *
 * EventBridge does not lose an event it accepted. Here, with a journal, "accepted" means written
 * to disk (fsync'd): the entry goes once every run the event started has ended, so an event
 * whose runs a crash (or a stop that aborted them) cut short is delivered again by `recover()`
 * at the next start — at least once, as on AWS.
 */
export class LocalEventBus implements EventBus {
  private readonly rules: readonly EventRule[];
  /** Deliveries whose targets have not started yet. */
  private readonly deliveries = new Set<Promise<unknown>>();
  /** Ids of the journal entries this bus wrote or recovered and has not removed yet. */
  private readonly journalled = new Set<string>();
  /** Journal writes and removals under way. */
  private readonly journalling = new Set<Promise<unknown>>();

  constructor(
    modules: readonly AnyModule[],
    private readonly workflows: BusWorkflows,
    private readonly logger: Logger,
    private readonly options: LocalEventBusOptions = {},
  ) {
    this.rules = modules.flatMap((module) => module.eventRules ?? []);
  }

  async publish(events: readonly BusEvent[]): Promise<void> {
    const accepted = events.flatMap((event): Accepted[] => {
      const envelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': event.detailType,
        source: event.source,
        account: '000000000000',
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: [],
        detail: event.detail,
      };
      const rules = this.rules.filter((rule) => matches(rule.pattern, envelope));
      return rules.length > 0 ? [{ envelope, rules: rules.map((rule) => rule.name) }] : [];
    });
    // All on disk before any is acknowledged (or delivered): a failed write fails the publish,
    // and takes back the entries written (the publisher keeps the events and tries again).
    const written = await Promise.allSettled(
      accepted.map((event) => this.track(this.write(event))),
    );
    const failed = written.find((result) => result.status === 'rejected');
    if (failed) {
      await Promise.all(accepted.map((event) => this.remove(event.envelope.id)));
      throw failed.reason;
    }
    for (const event of accepted) this.deliver(event);
  }

  /** Delivers the events a previous process accepted and did not see through (at start-up). */
  async recover(): Promise<number> {
    const { journal } = this.options;
    if (!journal) return 0;
    const names = await readdir(journal).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const left: Accepted[] = [];
    for (const name of names) {
      const file = join(journal, name);
      // A write a crash cut short: its publish never answered, so it was never accepted.
      if (name.endsWith('.json.tmp')) {
        await rm(file, { force: true });
        continue;
      }
      if (this.journalled.has(name.slice(0, -'.json'.length))) continue; // this process's own
      try {
        left.push(JSON.parse(await readFile(file, 'utf8')) as Accepted);
      } catch (error) {
        this.logger.error('unreadable event left in the journal', { file, error });
      }
    }
    // In the order they were accepted.
    left.sort((a, b) => String(a.envelope.time).localeCompare(String(b.envelope.time)));
    for (const event of left) {
      this.journalled.add(event.envelope.id);
      this.deliver(event);
    }
    const recovered = left.length;
    if (recovered > 0)
      this.logger.info('delivering events accepted before a restart', { recovered });
    return recovered;
  }

  /** Deliveries not made yet. */
  get pending(): number {
    return this.deliveries.size;
  }

  /** Resolves when every delivery so far (and any started meanwhile) has been made. */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.all([...this.deliveries]);
  }

  /**
   * Resolves when every journal write is done and every entry has been removed whose runs ended
   * (so it waits for the runs under way; entries of aborted runs stay).
   */
  async flushed(): Promise<void> {
    while (this.journalling.size > 0) await Promise.allSettled([...this.journalling]);
  }

  private deliver({ envelope, rules: names }: Accepted): void {
    const rules = this.rules.filter((rule) => names.includes(rule.name));
    const delivery = (async () => {
      // After the publisher's turn, as EventBridge delivers after PutEvents has answered.
      await new Promise((done) => setImmediate(done));
      return Promise.all(rules.map((rule) => this.start(rule, envelope)));
    })();
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
    if (!this.options.journal) return;
    this.track(
      delivery
        .then((runs) => Promise.all(runs.map((run) => run && this.workflows.settled(...run))))
        .then(async (outcomes) => {
          // An aborted run (the process stopped before it ended) is delivered again next time.
          if (outcomes.some((outcome) => outcome?.status === 'ABORTED')) return;
          await this.remove(envelope.id);
        })
        .catch((error: unknown) => {
          // The entry stays: the event is delivered again at the next start.
          this.logger.error('event left in the journal', { id: envelope.id, error });
        }),
    );
  }

  /** Starts the rule's target; `[workflow, executionId]`, or undefined when it failed. */
  private async start(rule: EventRule, envelope: Envelope): Promise<[string, string] | undefined> {
    const { workflow, inputPath } = rule.target;
    try {
      const { executionId } = await this.workflows.start(
        workflow.id,
        atPath(inputPath ?? '$', envelope),
      );
      return [workflow.id, executionId];
    } catch (error) {
      this.logger.error('event rule target failed', { rule: rule.name, error });
      return undefined;
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.journalling.add(work);
    const forget = () => this.journalling.delete(work);
    void work.then(forget, forget);
    return work;
  }

  /** Writes the entry to a temporary file, fsyncs it, then renames it into place. */
  private async write(event: Accepted): Promise<void> {
    const { journal } = this.options;
    if (!journal) return;
    this.journalled.add(event.envelope.id);
    await mkdir(journal, { recursive: true });
    const file = join(journal, `${event.envelope.id}.json`);
    const handle = await open(`${file}.tmp`, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(event));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(`${file}.tmp`, file);
    // The rename itself survives a crash once the directory is synced too.
    const directory = await open(journal, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  private async remove(id: string): Promise<void> {
    const { journal } = this.options;
    if (!journal) return;
    await rm(join(journal, `${id}.json`), { force: true });
    this.journalled.delete(id);
  }
}
