import { Link } from 'react-router';
import { itemsOf } from '../../api/pages';
import { LoadMore } from '../../components/LoadMore';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading } from '../../components/Status';
import { formatTime } from '../../lib/time';
import { EndpointState } from './EndpointState';
import { endpointPath, typesText, useEndpoints } from './queries';

/** The account's webhook endpoints, oldest first: where events go, which, and how it goes. */
export function WebhooksList() {
  const list = useEndpoints();
  const endpoints = itemsOf(list.data?.pages);
  return (
    <Page
      title="Webhooks"
      actions={
        <Link className="button" to="/webhooks/new">
          New endpoint
        </Link>
      }
    >
      <p className="muted">
        Endpoints receive Roster’s domain events (a registration promoted, an enrollment processed…)
        as signed POSTs. An endpoint that answers 410, or fails every attempt for days, is disabled
        by Roster.
      </p>
      {list.isPending ? <Loading what="webhook endpoints" /> : null}
      <ProblemMessage error={list.error} />
      {list.isSuccess && endpoints.length === 0 ? <p>No webhook endpoints yet.</p> : null}
      {endpoints.length > 0 ? (
        <table className="cards">
          <caption className="visually-hidden">Webhook endpoints, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Event types</th>
              <th scope="col">State</th>
              <th scope="col">Failing since</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((endpoint) => (
              <tr key={endpoint.id}>
                <td data-label="URL" className="break">
                  <Link to={endpointPath(endpoint.id)}>{endpoint.url}</Link>
                </td>
                <td data-label="Event types" className="break small">
                  {typesText(endpoint.eventTypes)}
                </td>
                <td data-label="State">
                  <EndpointState endpoint={endpoint} />
                </td>
                <td data-label="Failing since">{formatTime(endpoint.failingSince)}</td>
                <td data-label="Description" className="break">
                  {endpoint.description || '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore query={list} label="Load more endpoints" />
    </Page>
  );
}
