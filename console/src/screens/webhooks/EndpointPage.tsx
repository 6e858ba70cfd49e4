import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { unwrap } from '../../api/client';
import { useApi } from '../../auth/session';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading, StatusMessage } from '../../components/Status';
import { formatTime } from '../../lib/time';
import { DeliveryLog } from './DeliveryLog';
import { EndpointForm } from './EndpointForm';
import { EndpointState } from './EndpointState';
import { type Endpoint, hostOf, keys, typesText, useEndpoint, withoutSecret } from './queries';
import { Replay } from './Replay';
import { SecretPanel } from './SecretPanel';

/** How long the delivery log is asked again every second after a replay. */
const WATCH_AFTER_REPLAY_MS = 15_000;

/**
 * An endpoint: what it receives and its state; disable or enable it, rotate its secret (the new
 * one shown once), its delivery log, replays, its settings, and deletion.
 */
export function EndpointPage() {
  const { id = '' } = useParams();
  const endpoint = useEndpoint(id);
  const [news, setNews] = useState<string>();
  const [watchUntil, setWatchUntil] = useState<number>();

  return (
    <Page title={endpoint.data ? `Webhook to ${hostOf(endpoint.data.url)}` : 'Webhook endpoint'}>
      {endpoint.isPending ? <Loading what="the endpoint" /> : null}
      <ProblemMessage error={endpoint.error} />
      {endpoint.data ? (
        <>
          <Summary endpoint={endpoint.data} />
          <StatusMessage>{news}</StatusMessage>
          <Controls endpoint={endpoint.data} onDone={setNews} />
          <DeliveryLog endpointId={id} watchUntil={watchUntil} />
          <Replay
            endpointId={id}
            onReplayed={(replayed) => {
              setNews(`Replayed ${replayed} event${replayed === 1 ? '' : 's'}.`);
              setWatchUntil(Date.now() + WATCH_AFTER_REPLAY_MS);
            }}
          />
          <EditEndpoint endpoint={endpoint.data} onDone={setNews} />
          <DeleteEndpoint endpoint={endpoint.data} />
        </>
      ) : null}
    </Page>
  );
}

function Summary({ endpoint }: { readonly endpoint: Endpoint }) {
  return (
    <section aria-labelledby="summary-heading">
      <h2 id="summary-heading" className="visually-hidden">
        Summary
      </h2>
      <dl className="details">
        <div className="wide">
          <dt>URL</dt>
          <dd className="mono">{endpoint.url}</dd>
        </div>
        <div>
          <dt>State</dt>
          <dd data-testid="endpoint-state">
            <EndpointState endpoint={endpoint} />
          </dd>
        </div>
        <div>
          <dt>Event types</dt>
          <dd data-testid="endpoint-types">{typesText(endpoint.eventTypes)}</dd>
        </div>
        <div>
          <dt>Failing since</dt>
          <dd>{formatTime(endpoint.failingSince)}</dd>
        </div>
        <div>
          <dt>Description</dt>
          <dd>{endpoint.description || '—'}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatTime(endpoint.createdAt)}</dd>
        </div>
        <div>
          <dt>Last changed</dt>
          <dd>{formatTime(endpoint.updatedAt)}</dd>
        </div>
      </dl>
    </section>
  );
}

/** Disable or enable; rotate the secret and show the new one, once (as a create does). */
function Controls(props: { readonly endpoint: Endpoint; readonly onDone: (news: string) => void }) {
  const { endpoint } = props;
  const api = useApi();
  const queryClient = useQueryClient();
  const path = { params: { path: { id: endpoint.id } } };

  const toggle = useMutation({
    mutationFn: async (enabled: boolean) =>
      (await unwrap(api.PATCH('/webhooks/{id}', { ...path, body: { enabled } }))).data,
    onSuccess: (changed) => {
      queryClient.setQueryData(keys.endpoint(changed.id), changed);
      void queryClient.invalidateQueries({ queryKey: keys.lists });
      props.onDone(
        changed.enabled
          ? 'Endpoint enabled: new events are delivered to it again.'
          : 'Endpoint disabled: nothing is delivered to it, and its pending deliveries are abandoned.',
      );
    },
  });
  const rotate = useMutation({
    gcTime: 0,
    mutationFn: async () => (await unwrap(api.POST('/webhooks/{id}/rotate', path))).data,
    onSuccess: (rotated) => {
      queryClient.setQueryData(keys.endpoint(rotated.id), withoutSecret(rotated));
    },
  });

  return (
    <section aria-labelledby="controls-heading">
      <h2 id="controls-heading">State and secret</h2>
      <ProblemMessage error={toggle.error} />
      <ProblemMessage error={rotate.error} />
      {rotate.data ? (
        <SecretPanel
          key={rotate.data.secret}
          secret={rotate.data.secret}
          url={rotate.data.url}
          rotated
          onDone={() => rotate.reset()}
        />
      ) : null}
      <p className="muted small">
        Disabling stops deliveries and abandons those pending; enabling starts afresh with new
        events (earlier ones by replay). Rotating makes a new signing secret, shown once; the
        current one keeps signing for 24 hours.
      </p>
      <div className="form-actions wrap">
        <button
          type="button"
          className="secondary"
          disabled={toggle.isPending}
          onClick={() => toggle.mutate(!endpoint.enabled)}
        >
          {endpoint.enabled ? 'Disable endpoint' : 'Enable endpoint'}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={rotate.isPending}
          onClick={() => rotate.mutate()}
        >
          Rotate secret
        </button>
      </div>
    </section>
  );
}

function EditEndpoint(props: {
  readonly endpoint: Endpoint;
  readonly onDone: (news: string) => void;
}) {
  const { endpoint } = props;
  const api = useApi();
  const queryClient = useQueryClient();
  const edit = useMutation({
    mutationFn: async (body: { url: string; eventTypes: string[]; description: string }) =>
      (await unwrap(api.PATCH('/webhooks/{id}', { params: { path: { id: endpoint.id } }, body })))
        .data,
    onSuccess: (changed) => {
      queryClient.setQueryData(keys.endpoint(changed.id), changed);
      void queryClient.invalidateQueries({ queryKey: keys.lists });
      props.onDone('Changes saved.');
    },
  });
  return (
    <section aria-labelledby="edit-heading">
      <h2 id="edit-heading">Edit endpoint</h2>
      <EndpointForm
        // Filled again with what the API holds after a save; a state change keeps what is typed.
        key={`${endpoint.url} ${endpoint.eventTypes.join(',')} ${endpoint.description}`}
        endpoint={endpoint}
        labelledBy="edit-heading"
        submitLabel="Save changes"
        pendingLabel="Saving…"
        pending={edit.isPending}
        error={edit.error}
        onSubmit={(fields) => edit.mutate(fields)}
      />
    </section>
  );
}

function DeleteEndpoint({ endpoint }: { readonly endpoint: Endpoint }) {
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: async () =>
      unwrap(api.DELETE('/webhooks/{id}', { params: { path: { id: endpoint.id } } })),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: keys.endpoint(endpoint.id) });
      queryClient.removeQueries({ queryKey: keys.attempts(endpoint.id) });
      void queryClient.invalidateQueries({ queryKey: keys.lists });
      await navigate('/webhooks');
    },
  });
  return (
    <section aria-labelledby="danger-heading" className="danger-zone">
      <h2 id="danger-heading">Delete</h2>
      <ProblemMessage error={remove.error} />
      <p>Deleting the endpoint abandons its pending deliveries; its delivery log goes with it.</p>
      <button
        type="button"
        className="danger"
        disabled={remove.isPending}
        onClick={() => {
          if (window.confirm(`Delete the webhook endpoint for ${endpoint.url}?`)) remove.mutate();
        }}
      >
        Delete endpoint
      </button>
    </section>
  );
}
