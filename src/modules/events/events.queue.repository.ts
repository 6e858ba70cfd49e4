import type { QueueConfig, QueueEntry } from './events.queue.model.js';

/**
 * The waiting room's port. Every key it reads or writes is a `QUEUE#<eventId>…` item or the user's
 * own partition: never the event's.
 */
export interface QueueRepository {
  /** The event's mirrored admission settings; undefined for an event never given a queue. */
  config(eventId: string): Promise<QueueConfig | undefined>;
  /** The user's place, strongly consistent (a client asks right after joining). */
  entry(eventId: string, userId: string): Promise<QueueEntry | undefined>;
  /** The numbers each position counter has handed out (index k: counter k; 0 for none). */
  counters(eventId: string): Promise<number[]>;
  /** The next number (1, 2, …) of the event's position counter `counter`. */
  takeNumber(eventId: string, counter: number): Promise<number>;
  /**
   * Puts the place unless the user holds one in this incarnation of the event; answers the one
   * that stands (theirs, or the one a concurrent join of theirs put first).
   */
  putEntry(entry: QueueEntry, purgeAt: number): Promise<QueueEntry>;
}
