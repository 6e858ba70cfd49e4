import { itemsOf } from '../../api/pages';
import { LoadMore } from '../../components/LoadMore';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading } from '../../components/Status';
import { formatTime } from '../../lib/time';
import { type DeliveryAttempt, useAttempts } from './queries';

/** Excerpts longer than this show their start, and the rest on demand. */
const SHORT_EXCERPT = 160;

/**
 * Every attempt to the endpoint, newest first: what was sent, what came back and when the next
 * attempt is due. Refreshed by itself after a replay and while a retry is due within the minute;
 * otherwise on request.
 */
export function DeliveryLog(props: {
  readonly endpointId: string;
  readonly watchUntil: number | undefined;
}) {
  const attempts = useAttempts(props.endpointId, props.watchUntil);
  const items = itemsOf(attempts.data?.pages);
  return (
    <section aria-labelledby="log-heading">
      <div className="section-header">
        <h2 id="log-heading">Delivery log</h2>
        <button
          type="button"
          className="secondary small-button"
          onClick={() => void attempts.refetch()}
        >
          Refresh<span className="visually-hidden"> the delivery log</span>
        </button>
      </div>
      {attempts.isPending ? <Loading what="delivery attempts" /> : null}
      <ProblemMessage error={attempts.error} />
      {attempts.isSuccess && items.length === 0 ? <p>No delivery attempts yet.</p> : null}
      {items.length > 0 ? (
        <table className="cards delivery-log">
          <caption className="visually-hidden">Delivery attempts, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Attempted</th>
              <th scope="col">Event</th>
              <th scope="col">Attempt</th>
              <th scope="col">Result</th>
              <th scope="col">Latency</th>
              <th scope="col">Response</th>
              <th scope="col">Next attempt</th>
            </tr>
          </thead>
          <tbody>
            {items.map((attempt) => (
              <tr key={`${attempt.eventId} ${attempt.round} ${attempt.attempt}`}>
                <td data-label="Attempted">{formatTime(attempt.attemptedAt)}</td>
                <td data-label="Event">
                  <span className="mono small">{attempt.eventType}</span>
                  <br />
                  <span className="mono small break">{attempt.eventId}</span>
                </td>
                <td data-label="Attempt">
                  round {attempt.round} · attempt {attempt.attempt}
                </td>
                <td data-label="Result">
                  <Result attempt={attempt} />
                </td>
                <td data-label="Latency">{attempt.latencyMs} ms</td>
                <td data-label="Response">
                  <Excerpt text={attempt.responseExcerpt} />
                </td>
                <td data-label="Next attempt">{formatTime(attempt.nextAttemptAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore query={attempts} label="Load more attempts" />
    </section>
  );
}

/** The status code the endpoint answered (or that none came), and the error, if any. */
function Result({ attempt }: { readonly attempt: DeliveryAttempt }) {
  return (
    <>
      <span className={`badge ${attempt.ok ? 'badge-succeeded' : 'badge-failed'}`}>
        {attempt.statusCode ?? 'no answer'}
      </span>
      {attempt.error ? <span className="small break"> {attempt.error}</span> : null}
    </>
  );
}

function Excerpt({ text }: { readonly text: string }) {
  if (text === '') return <>—</>;
  if (text.length <= SHORT_EXCERPT) return <span className="excerpt">{text}</span>;
  return (
    <details>
      <summary className="excerpt">{text.slice(0, SHORT_EXCERPT)}…</summary>
      <span className="excerpt">{text}</span>
    </details>
  );
}
