import type { Event } from './events.model.js';
import type { RegistrationTimes } from './events.stats.model.js';

/** What the dashboard's numbers of an event read besides the event itself. */
export interface RegistrationTimeline {
  /**
   * The timestamps of every registration row of an event, page by page (one query of the event's
   * own registrations per page — of each shard's, for a sharded event —, never a scan).
   */
  registrationTimes(event: Pick<Event, 'eventId' | 'shards'>): AsyncIterable<RegistrationTimes[]>;
}
