import { EventsErrors } from './events.errors.js';
import type { EventRepository } from './events.repository.js';
import type { EventStats } from './events.stats.model.js';
import type { RegistrationTimeline } from './events.stats.repository.js';
import { HourlyTally, registrationChanges } from './events.stats.rules.js';

export interface EventStatsDeps {
  readonly events: EventRepository;
  readonly timeline: RegistrationTimeline;
}

/** The numbers of an event for the operator's dashboard. */
export class EventStatsService {
  constructor(private readonly deps: EventStatsDeps) {}

  /**
   * The counts now (the event's counters) and, per hour of `[from, to)`, the registrations made
   * and the counts at the hour's end, from its registration rows (see events.stats.rules.ts for
   * what they can't show). One read of the event, then its rows page by page. The two are read one
   * after the other, not as one snapshot: a change committed in between shows in one only.
   */
  async stats(
    eventId: string,
    window: { from?: string | undefined; to?: string | undefined },
  ): Promise<EventStats> {
    const event = await this.deps.events.getEvent(eventId);
    if (!event) throw EventsErrors.eventNotFound(eventId);
    const tally = new HourlyTally();
    for await (const page of this.deps.timeline.registrationTimes(event)) {
      for (const row of page) tally.add(registrationChanges(row));
    }
    return {
      eventId,
      capacity: event.capacity,
      confirmed: event.registeredCount,
      offered: event.offeredCount,
      waitlisted: event.waitlistCount,
      ...tally.series(window, event.createdAt),
    };
  }
}
