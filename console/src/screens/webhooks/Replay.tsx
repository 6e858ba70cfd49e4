import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { type Api, unwrap } from '../../api/client';
import { useApi } from '../../auth/session';
import { Field } from '../../components/Field';
import { textOf, useFormProblem } from '../../components/forms';
import { ProblemMessage } from '../../components/ProblemMessage';
import { formatTime, localInputToIso, utcOffsetLabel } from '../../lib/time';
import { type Delivery, keys } from './queries';

/**
 * Sending events again: one by id (or first seeing where it stands with this endpoint), or every
 * event of a time window that the endpoint subscribes to. Each starts a new round of attempts.
 */
export function Replay(props: {
  readonly endpointId: string;
  readonly onReplayed: (replayed: number) => void;
}) {
  return (
    <section aria-labelledby="replay-heading">
      <h2 id="replay-heading">Replay</h2>
      <p className="muted small">
        A replayed event keeps its <code>webhook-id</code>, so a receiver that had it can tell.
        Events stay in the log for 30 days by default.
      </p>
      <div className="replay-forms">
        <OneEvent {...props} />
        <TimeWindow {...props} />
      </div>
    </section>
  );
}

type EventAction = 'show' | 'replay';

type EventOutcome =
  | { readonly action: 'show'; readonly delivery: Delivery }
  | { readonly action: 'replay'; readonly replayed: number };

async function perform(
  api: Api,
  id: string,
  action: EventAction,
  eventId: string,
): Promise<EventOutcome> {
  if (action === 'show') {
    const { data } = await unwrap(
      api.GET('/webhooks/{id}/deliveries/{eventId}', { params: { path: { id, eventId } } }),
    );
    return { action, delivery: data };
  }
  const { data } = await unwrap(
    api.POST('/webhooks/{id}/replay', { params: { path: { id } }, body: { eventId } }),
  );
  return { action, replayed: data.replayed };
}

function OneEvent(props: {
  readonly endpointId: string;
  readonly onReplayed: (replayed: number) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [shown, setShown] = useState<Delivery>();
  const act = useMutation({
    mutationFn: ({ action, eventId }: { action: EventAction; eventId: string }) =>
      perform(api, props.endpointId, action, eventId),
    onSuccess: (outcome) => {
      if (outcome.action === 'show') {
        setShown(outcome.delivery);
        return;
      }
      props.onReplayed(outcome.replayed);
      void queryClient.invalidateQueries({ queryKey: keys.attempts(props.endpointId) });
    },
  });
  const { problem, byField, unplaced } = useFormProblem(
    form,
    act.error,
    ['eventId'],
    ['body', 'path'],
  );

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    const submitter = (submitted.nativeEvent as SubmitEvent).submitter;
    const action: EventAction =
      submitter instanceof HTMLButtonElement && submitter.value === 'show' ? 'show' : 'replay';
    setShown(undefined);
    act.mutate({
      action,
      eventId: textOf(new FormData(submitted.currentTarget), 'eventId').trim(),
    });
  };

  return (
    <div>
      <form
        ref={form}
        onSubmit={submit}
        noValidate
        className="form"
        aria-labelledby="one-event-heading"
      >
        <h3 id="one-event-heading">One event</h3>
        <ProblemMessage problem={problem} unplaced={unplaced} />
        <Field
          name="eventId"
          label="Event id"
          hint="The webhook-id a receiver got, or an event id of the log above."
          required
          errors={byField.eventId}
        >
          {(control) => (
            <input
              {...control}
              type="text"
              className="mono"
              autoComplete="off"
              spellCheck={false}
            />
          )}
        </Field>
        <div className="form-actions wrap">
          <button type="submit" name="action" value="replay" disabled={act.isPending}>
            Replay event
          </button>
          <button
            type="submit"
            name="action"
            value="show"
            className="secondary"
            disabled={act.isPending}
          >
            Show its delivery
          </button>
        </div>
      </form>
      {shown ? <DeliveryDetails delivery={shown} /> : null}
    </div>
  );
}

function DeliveryDetails({ delivery }: { readonly delivery: Delivery }) {
  return (
    <section aria-labelledby="delivery-heading" className="delivery">
      <h3 id="delivery-heading">Delivery of {delivery.eventId}</h3>
      <dl className="details">
        <div>
          <dt>Status</dt>
          <dd>
            <span className={`badge badge-${delivery.status}`}>{delivery.status}</span>
          </dd>
        </div>
        <div>
          <dt>Event</dt>
          <dd className="mono small">{delivery.eventType}</dd>
        </div>
        <div>
          <dt>Occurred</dt>
          <dd>{formatTime(delivery.occurredAt)}</dd>
        </div>
        <div>
          <dt>Round</dt>
          <dd>
            {delivery.round}, {delivery.attempts} attempt{delivery.attempts === 1 ? '' : 's'}
          </dd>
        </div>
        <div>
          <dt>Next attempt</dt>
          <dd>{formatTime(delivery.nextAttemptAt)}</dd>
        </div>
        <div>
          <dt>Last answer</dt>
          <dd>
            {delivery.lastStatusCode ?? '—'}
            {delivery.lastError ? ` (${delivery.lastError})` : ''}
          </dd>
        </div>
      </dl>
    </section>
  );
}

function TimeWindow(props: {
  readonly endpointId: string;
  readonly onReplayed: (replayed: number) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const replay = useMutation({
    mutationFn: async (range: { since: string; until: string }) =>
      (
        await unwrap(
          api.POST('/webhooks/{id}/replay', {
            params: { path: { id: props.endpointId } },
            body: range,
          }),
        )
      ).data,
    onSuccess: ({ replayed }) => {
      props.onReplayed(replayed);
      void queryClient.invalidateQueries({ queryKey: keys.attempts(props.endpointId) });
    },
  });
  const { problem, byField, unplaced } = useFormProblem(form, replay.error, ['since', 'until']);
  const zone = utcOffsetLabel();

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    const data = new FormData(submitted.currentTarget);
    // As typed (an empty field stays empty): the API says which one is missing or wrong.
    replay.mutate({
      since: localInputToIso(textOf(data, 'since')) ?? '',
      until: localInputToIso(textOf(data, 'until')) ?? '',
    });
  };

  return (
    <form ref={form} onSubmit={submit} noValidate className="form" aria-labelledby="window-heading">
      <h3 id="window-heading">A time window</h3>
      <ProblemMessage problem={problem} unplaced={unplaced} />
      <Field
        name="since"
        label="Since"
        hint={`Included; your time (${zone}).`}
        required
        errors={byField.since}
      >
        {(control) => <input {...control} type="datetime-local" />}
      </Field>
      <Field
        name="until"
        label="Until"
        hint={`Not included; your time (${zone}).`}
        required
        errors={byField.until}
      >
        {(control) => <input {...control} type="datetime-local" />}
      </Field>
      <div className="form-actions">
        <button type="submit" disabled={replay.isPending}>
          Replay window
        </button>
      </div>
    </form>
  );
}
