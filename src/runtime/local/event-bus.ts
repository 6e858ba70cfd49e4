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

/**
 * The event bus in-process, with EventBridge's semantics where the code relies on them: an
 * event is put in EventBridge's envelope (`source`, `detail-type`, `detail`, `id`, `time`, …),
 * every listed module's rule whose pattern matches gets it, and delivery is asynchronous —
 * `publish` resolves once the event is accepted, not once its targets ran. A target that fails
 * is logged (EventBridge would retry it, then drop it or dead-letter it).
 */
export class LocalEventBus implements EventBus {
  private readonly rules: readonly EventRule[];
  private readonly deliveries = new Set<Promise<void>>();

  constructor(
    modules: readonly AnyModule[],
    private readonly workflows: Workflows,
    private readonly logger: Logger,
  ) {
    this.rules = modules.flatMap((module) => module.eventRules ?? []);
  }

  async publish(events: readonly BusEvent[]): Promise<void> {
    for (const event of events) {
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
      for (const rule of this.rules) {
        if (matches(rule.pattern, envelope)) this.deliver(rule, envelope);
      }
    }
  }

  /** Deliveries not made yet. */
  get pending(): number {
    return this.deliveries.size;
  }

  /** Resolves when every delivery so far (and any started meanwhile) has been made. */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.all([...this.deliveries]);
  }

  private deliver(rule: EventRule, envelope: Record<string, unknown>): void {
    const { workflow, inputPath } = rule.target;
    const delivery = (async () => {
      // After the publisher's turn, as EventBridge delivers after PutEvents has answered.
      await new Promise((done) => setImmediate(done));
      try {
        await this.workflows.start(workflow.id, atPath(inputPath ?? '$', envelope));
      } catch (error) {
        this.logger.error('event rule target failed', { rule: rule.name, error });
      }
    })();
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }
}
