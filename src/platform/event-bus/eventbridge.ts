import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type BusEvent, type EventBus, EventPublishError } from './bus.js';

/** PutEvents takes at most 10 entries per call. */
const MAX_ENTRIES = 10;
/** Entries PutEvents refused (throttled, internal failure) are sent again this many times. */
const RETRIES = 2;

/** The event bus port on Amazon EventBridge (PutEvents to the account's default bus). */
export class EventBridgeBus implements EventBus {
  constructor(private readonly client: EventBridgeClient) {}

  async publish(events: readonly BusEvent[]): Promise<void> {
    const failed: BusEvent[] = [];
    for (let i = 0; i < events.length; i += MAX_ENTRIES) {
      failed.push(...(await this.putBatch(events.slice(i, i + MAX_ENTRIES))));
    }
    if (failed.length > 0) {
      throw new EventPublishError(`EventBridge refused ${failed.length} event(s)`, failed);
    }
  }

  /** One batch; PutEvents can accept some entries and refuse others: those are sent again. */
  private async putBatch(batch: readonly BusEvent[]): Promise<BusEvent[]> {
    let pending = [...batch];
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > RETRIES) return pending;
      if (attempt > 0) await sleep(Math.random() * 100 * 2 ** attempt);
      const out = await this.client.send(
        new PutEventsCommand({
          Entries: pending.map((event) => ({
            Source: event.source,
            DetailType: event.detailType,
            Detail: JSON.stringify(event.detail),
          })),
        }),
      );
      if (!out.FailedEntryCount) return [];
      pending = pending.filter((_, i) => out.Entries?.[i]?.ErrorCode !== undefined);
    }
    return [];
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
