import { Link, useSearchParams } from 'react-router';
import { itemsOf } from '../../api/pages';
import { LoadMore } from '../../components/LoadMore';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading } from '../../components/Status';
import { EVENT_STATUSES, type EventStatus, eventPath, useEventList } from './queries';

const isStatus = (value: string | null): value is EventStatus =>
  EVENT_STATUSES.includes(value as EventStatus);

/** Events, oldest first, optionally of one status (kept in the URL: `?status=active`). */
export function EventsList() {
  const [search, setSearch] = useSearchParams();
  const requested = search.get('status');
  const status = isStatus(requested) ? requested : undefined;
  const list = useEventList(status);
  const events = itemsOf(list.data?.pages);

  return (
    <Page
      title="Events"
      actions={
        <Link className="button" to="/events/new">
          New event
        </Link>
      }
    >
      <div className="toolbar">
        <label htmlFor="status-filter">Status</label>
        <select
          id="status-filter"
          value={status ?? ''}
          onChange={(change) =>
            setSearch(change.target.value ? { status: change.target.value } : {})
          }
        >
          <option value="">All statuses</option>
          {EVENT_STATUSES.map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </select>
      </div>

      {list.isPending ? <Loading what="events" /> : null}
      <ProblemMessage error={list.error} />
      {list.isSuccess && events.length === 0 ? (
        <p>
          No {status ?? ''} events yet. <Link to="/events/new">Create one</Link>.
        </p>
      ) : null}
      {events.length > 0 ? (
        <table className="cards">
          <caption className="visually-hidden">
            Events{status ? ` with status ${status}` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Date</th>
              <th scope="col">Status</th>
              <th scope="col">Confirmed</th>
              <th scope="col">Waitlist</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.eventId}>
                <td data-label="Title">
                  <Link to={eventPath(event.eventId)}>{event.title}</Link>
                </td>
                <td data-label="Date">{event.date}</td>
                <td data-label="Status">
                  <span className={`badge badge-${event.status}`}>{event.status}</span>
                </td>
                <td data-label="Confirmed">
                  {event.registeredCount} / {event.capacity}
                </td>
                <td data-label="Waitlist">
                  {event.hasWaitlist ? event.waitlistCount : <span className="muted">off</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore query={list} label="Load more events" />
    </Page>
  );
}
