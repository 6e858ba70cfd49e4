import { randomUUID } from 'node:crypto';
import {
  atPath,
  type BusEvent,
  type EventBus,
  type EventRule,
  matches,
} from '../../platform/event-bus/bus.js';
import type { Logger } from '../../platform/logger.js';
import type { AnyModule } from '../../platform/module.js';
import type { Workflows } from '../../platform/workflow/workflow.js';
import { Journal } from './journal.js';

export interface LocalEventBusOptions {
  /**
   * A directory where an accepted event stays until its targets have started (the local
   * runtime's `<data dir>/event-bus`): `recover()` delivers what a crash left there. Without
   * one, accepted events live in memory only (tests).
   */
  readonly journal?: string;
}

type Envelope = Record<string, unknown> & { readonly id: string };

/** One accepted event and the rules it goes to, as the journal keeps it (rules by name). */
interface Accepted {
  readonly envelope: Envelope;
  readonly rules: readonly string[];
}

/** An accepted event and the rules it matched. */
interface Matched {
  readonly envelope: Envelope;
  readonly rules: readonly EventRule[];
}

/**
 * The event bus in-process, with EventBridge's semantics where the code relies on them: an
 * event is put in EventBridge's envelope (`source`, `detail-type`, `detail`, `id`, `time`, …),
 * every listed module's rule whose pattern matches gets it, and delivery is asynchronous —
 * `publish` resolves once the event is accepted, not once its targets ran. A target that fails
 * is logged (EventBridge would retry it, then drop it or dead-letter it); with a journal, the
 * event is delivered again at the next start.
 *
 * EventBridge does not lose an event it accepted. Here, with a journal, "accepted" means written
 * to disk: the entry goes once every target has started (the local workflow engine keeps a
 * started run in its own journal until it ends), so an event a crash caught before that is
 * delivered by `recover()` at the next start — at least once, as on AWS.
 */
export class LocalEventBus implements EventBus {
  private readonly rules: readonly EventRule[];
  private readonly journal: Journal<Accepted> | undefined;
  /** Deliveries whose targets have not started yet. */
  private readonly deliveries = new Set<Promise<unknown>>();
  /** Ids of the journal entries this bus wrote or recovered and has not removed yet. */
  private readonly journalled = new Set<string>();

  constructor(
    modules: readonly AnyModule[],
    private readonly workflows: Workflows,
    private readonly logger: Logger,
    options: LocalEventBusOptions = {},
  ) {
    this.rules = modules.flatMap((module) => module.eventRules ?? []);
    this.journal = options.journal ? new Journal(options.journal) : undefined;
  }

  async publish(events: readonly BusEvent[]): Promise<void> {
    const accepted = events.flatMap((event): Matched[] => {
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
      return rules.length > 0 ? [{ envelope, rules }] : [];
    });
    const { journal } = this;
    if (journal) {
      // All on disk before any is acknowledged (or delivered): a failed write fails the
      // publish, and takes back the entries written (the publisher keeps the events).
      for (const { envelope } of accepted) this.journalled.add(envelope.id);
      const written = await Promise.allSettled(
        accepted.map(({ envelope, rules }) =>
          journal.write(envelope.id, { envelope, rules: rules.map((rule) => rule.name) }),
        ),
      );
      const failed = written.find((result) => result.status === 'rejected');
      if (failed) {
        await Promise.all(accepted.map(({ envelope }) => this.forget(envelope.id)));
        throw failed.reason;
      }
    }
    for (const event of accepted) this.deliver(event);
  }

  /** Delivers the events a previous process accepted and did not deliver (at start-up). */
  async recover(): Promise<number> {
    if (!this.journal) return 0;
    const left = (
      await this.journal.entries((file, error) =>
        this.logger.error('unreadable event left in the journal', { file, error }),
      )
    )
      .filter(([id]) => !this.journalled.has(id)) // this process's own, under way
      .map(([, event]) => event)
      // In the order they were accepted.
      .sort((a, b) => String(a.envelope.time).localeCompare(String(b.envelope.time)));
    for (const { envelope, rules: names } of left) {
      this.journalled.add(envelope.id);
      this.deliver({ envelope, rules: this.rules.filter((rule) => names.includes(rule.name)) });
    }
    if (left.length > 0) {
      this.logger.info('delivering events accepted before a restart', { recovered: left.length });
    }
    return left.length;
  }

  /** Deliveries not made yet. */
  get pending(): number {
    return this.deliveries.size;
  }

  /** Resolves when every delivery so far (and any started meanwhile) has been made. */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.all([...this.deliveries]);
  }

  private deliver({ envelope, rules }: Matched): void {
    const delivery = (async () => {
      // After the publisher's turn, as EventBridge delivers after PutEvents has answered.
      await new Promise((done) => setImmediate(done));
      const started = await Promise.all(rules.map((rule) => this.start(rule, envelope)));
      // A target that could not start keeps the entry: the next start delivers it again.
      if (!started.every(Boolean)) return;
      // Every target has its run: the event is delivered.
      await this.forget(envelope.id).catch((error: unknown) => {
        // The entry stays: the event is delivered again at the next start.
        this.logger.error('delivered event left in the journal', { id: envelope.id, error });
      });
    })();
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }

  /** Starts the rule's target; false (logged) when it could not. */
  private async start(rule: EventRule, envelope: Envelope): Promise<boolean> {
    const { workflow, inputPath } = rule.target;
    try {
      await this.workflows.start(workflow.id, atPath(inputPath ?? '$', envelope));
      return true;
    } catch (error) {
      this.logger.error('event rule target failed', { rule: rule.name, error });
      return false;
    }
  }

  private async forget(id: string): Promise<void> {
    await this.journal?.remove(id);
    this.journalled.delete(id);
  }
}
