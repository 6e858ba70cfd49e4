import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { unwrap } from '../../api/client';
import { useApi } from '../../auth/session';
import { Page } from '../../components/Page';
import { StatusMessage } from '../../components/Status';
import { type EndpointFields, EndpointForm } from './EndpointForm';
import { endpointPath, keys, withoutSecret } from './queries';
import { SecretPanel } from './SecretPanel';

/**
 * Create an endpoint, then show its secret on this page, once. The secret is the create
 * mutation's answer and nothing else holds it: `gcTime: 0` drops it from memory when the page is
 * left, and the endpoint goes into the cache without it. (No Idempotency-Key: the API does not
 * replay this answer, since a stored answer would keep the secret.)
 */
export function NewWebhook() {
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const create = useMutation({
    gcTime: 0,
    mutationFn: async (body: EndpointFields) =>
      (await unwrap(api.POST('/webhooks', { body }))).data,
    onSuccess: (created) => {
      queryClient.setQueryData(keys.endpoint(created.id), withoutSecret(created));
      void queryClient.invalidateQueries({ queryKey: keys.lists });
    },
  });
  const created = create.data;

  return (
    <Page title="New webhook endpoint">
      {created ? (
        <>
          <StatusMessage>Endpoint created for {created.url}.</StatusMessage>
          <SecretPanel
            key={created.secret}
            secret={created.secret}
            url={created.url}
            rotated={false}
            onDone={() => {
              create.reset();
              void navigate(endpointPath(created.id));
            }}
          >
            <p>
              Its page shows its deliveries, without the secret:{' '}
              <Link to={endpointPath(created.id)}>go to the endpoint</Link>.
            </p>
          </SecretPanel>
        </>
      ) : (
        <>
          <p className="muted">
            An endpoint receives every event of the chosen types from now on (earlier ones by
            replay), each as a POST signed to the Standard Webhooks spec, retried for about three
            days until it answers 2xx.
          </p>
          <EndpointForm
            submitLabel="Create endpoint"
            pendingLabel="Creating…"
            pending={create.isPending}
            error={create.error}
            onSubmit={(fields) =>
              create.mutate({
                url: fields.url,
                eventTypes: fields.eventTypes,
                ...(fields.description ? { description: fields.description } : {}),
              })
            }
          />
          <p>
            <Link to="/webhooks">Back to webhooks</Link>
          </p>
        </>
      )}
    </Page>
  );
}
