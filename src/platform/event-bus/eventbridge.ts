import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { sendInBatches } from '../retry.js';
import { type BusEvent, type EventBus, EventPublishError } from './bus.js';

/** PutEvents takes at most 10 entries per call. */
const MAX_ENTRIES = 10;
/** Entries PutEvents refused (throttled, internal failure) are sent again this many times. */
const RETRIES = 2;

/** The event bus port on Amazon EventBridge (PutEvents to the account's default bus). */
export class EventBridgeBus implements EventBus {
  constructor(private readonly client: EventBridgeClient) {}

  async publish(events: readonly BusEvent[]): Promise<void> {
    // PutEvents can accept some entries and refuse others (throttled, internal failure).
    const failed = await sendInBatches(events, {
      size: MAX_ENTRIES,
      attempts: 1 + RETRIES,
      baseMs: 100,
      capMs: 1000,
      send: async (chunk) => {
        const out = await this.client.send(
          new PutEventsCommand({
            Entries: chunk.map((event) => ({
              Source: event.source,
              DetailType: event.detailType,
              Detail: JSON.stringify(event.detail),
            })),
          }),
        );
        if (!out.FailedEntryCount) return [];
        return chunk.filter((_, i) => out.Entries?.[i]?.ErrorCode !== undefined);
      },
    });
    if (failed.length > 0) {
      throw new EventPublishError(`EventBridge refused ${failed.length} event(s)`, failed);
    }
  }
}
