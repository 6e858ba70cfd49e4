import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { idempotencyKey, unwrap } from '../../api/client';
import { itemsOf } from '../../api/pages';
import { useApi } from '../../auth/session';
import { DownloadCsv } from '../../components/DownloadCsv';
import { Field } from '../../components/Field';
import { textOf, useFormProblem } from '../../components/forms';
import { LoadMore } from '../../components/LoadMore';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading, StatusMessage } from '../../components/Status';
import { durationText, formatTime } from '../../lib/time';
import { EndedOffers, OffersOut } from './Offers';
import {
  type Event,
  eventPath,
  keys,
  type Registration,
  useEvent,
  useRefreshEvent,
  useRegistrations,
  userPath,
  useUserList,
} from './queries';

/** An event: its counters, the confirmed list and the waitlist in order; register, unregister. */
export function EventPage() {
  const { eventId = '' } = useParams();
  const event = useEvent(eventId);
  const [news, setNews] = useState<string>();

  return (
    <Page
      title={event.data?.title ?? eventId}
      actions={
        event.data ? (
          <>
            <Link className="button" to={`${eventPath(eventId)}/door`}>
              Door: check tickets
            </Link>
            <Link className="button secondary" to={`${eventPath(eventId)}/edit`}>
              Edit event
            </Link>
          </>
        ) : null
      }
    >
      {event.isPending ? <Loading what="the event" /> : null}
      <ProblemMessage error={event.error} />
      {event.data ? (
        <>
          <EventSummary event={event.data} />
          <StatusMessage>{news}</StatusMessage>
          <RegisterForm event={event.data} onDone={setNews} />
          <RegistrationLists event={event.data} onDone={setNews} />
          <DeleteEvent event={event.data} />
        </>
      ) : null}
    </Page>
  );
}

function EventSummary({ event }: { readonly event: Event }) {
  // Offers out hold their seats as confirmed registrations do.
  const free = Math.max(event.capacity - event.registeredCount - event.offeredCount, 0);
  const offers = event.promotion === 'offer';
  return (
    <section aria-labelledby="summary-heading" className="summary">
      <h2 id="summary-heading" className="visually-hidden">
        Summary
      </h2>
      <p>
        <span className={`badge badge-${event.status}`}>{event.status}</span> {event.date} ·{' '}
        {event.location} · organized by {event.organizer}
      </p>
      <p className="description">{event.description}</p>
      {event.hasWaitlist ? <p className="muted small">{promotionSentence(event)}</p> : null}
      <dl className="counters">
        <div>
          <dt>Capacity</dt>
          <dd>{event.capacity}</dd>
        </div>
        <div>
          <dt>Confirmed</dt>
          <dd data-testid="confirmed-count">{event.registeredCount}</dd>
        </div>
        {offers || event.offeredCount > 0 ? (
          <div>
            <dt>Offers out</dt>
            <dd data-testid="offered-count">{event.offeredCount}</dd>
          </div>
        ) : null}
        <div>
          <dt>Free seats</dt>
          <dd>{free}</dd>
        </div>
        <div>
          <dt>Waitlisted</dt>
          <dd data-testid="waitlist-count">
            {event.hasWaitlist ? event.waitlistCount : 'no waitlist'}
          </dd>
        </div>
      </dl>
    </section>
  );
}

/** How a freed seat reaches the waitlist, in a sentence. */
function promotionSentence(event: Event): string {
  if (event.promotion !== 'offer') return 'A freed seat goes to the next in line at once.';
  const batch =
    event.offerBatch === 1
      ? 'one offer out at a time'
      : `up to ${event.offerBatch} offers out at once`;
  const closing =
    event.offersCloseBefore > 0
      ? `; in the last ${event.offersCloseBefore} hours before the event seats go to the next in line at once`
      : '';
  return `A freed seat is offered to the next in line, who has ${durationText(
    event.offerWindowSeconds * 1000,
  )} to answer (${batch}${closing}).`;
}

function RegisterForm(props: { readonly event: Event; readonly onDone: (news: string) => void }) {
  const { eventId } = props.event;
  const api = useApi();
  const refresh = useRefreshEvent();
  const users = useUserList();
  const form = useRef<HTMLFormElement>(null);
  const register = useMutation({
    mutationFn: async (userId: string) =>
      (
        await unwrap(
          api.POST('/events/{eventId}/registrations', {
            params: { path: { eventId }, header: { 'idempotency-key': idempotencyKey() } },
            body: { userId },
          }),
        )
      ).data,
    onSuccess: (registration) => {
      form.current?.reset();
      props.onDone(
        registration.status === 'confirmed'
          ? `${registration.userId} is registered (confirmed).`
          : registration.status === 'waitlisted'
            ? `${registration.userId} is on the waitlist, position ${registration.waitlistPosition}.`
            : `${registration.userId} is registered (${registration.status}).`,
      );
      void refresh(eventId);
    },
  });
  const { problem, byField, unplaced } = useFormProblem(form, register.error, ['userId']);

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    register.mutate(textOf(new FormData(submitted.currentTarget), 'userId').trim());
  };

  return (
    <section aria-labelledby="register-heading">
      <h2 id="register-heading">Register a user</h2>
      <form ref={form} onSubmit={submit} noValidate className="form inline-form">
        <ProblemMessage problem={problem} unplaced={unplaced} />
        <Field
          name="userId"
          label="User id"
          hint="An existing user; suggestions come from the users list."
          errors={byField.userId}
        >
          {(control) => (
            <input {...control} type="text" list="user-suggestions" autoComplete="off" />
          )}
        </Field>
        <datalist id="user-suggestions">
          {itemsOf(users.data?.pages).map((user) => (
            <option key={user.userId} value={user.userId}>
              {user.name}
            </option>
          ))}
        </datalist>
        <button type="submit" disabled={register.isPending}>
          {register.isPending ? 'Registering…' : 'Register'}
        </button>
      </form>
    </section>
  );
}

function RegistrationLists(props: {
  readonly event: Event;
  readonly onDone: (news: string) => void;
}) {
  const { eventId } = props.event;
  const api = useApi();
  const refresh = useRefreshEvent();
  const registrations = useRegistrations(eventId);
  const all = itemsOf(registrations.data?.pages);
  const confirmed = all.filter((registration) => registration.status === 'confirmed');
  const waitlisted = all.filter((registration) => registration.status === 'waitlisted');
  const offered = all.filter((registration) => registration.status === 'offered');
  const ended = all.filter(
    (registration) => registration.status === 'expired' || registration.status === 'declined',
  );
  const offers = props.event.promotion === 'offer' || offered.length > 0;

  const unregister = useMutation({
    mutationFn: async (userId: string) =>
      (
        await unwrap(
          api.DELETE('/events/{eventId}/registrations/{userId}', {
            params: { path: { eventId, userId } },
          }),
        )
      ).data,
    onSuccess: (result) => {
      const promoted = result.promoted.map((registration) => registration.userId);
      props.onDone(
        `${result.userId} is unregistered.${
          promoted.length > 0
            ? ` Promoted from the waitlist: ${promoted.join(', ')}.`
            : waitlisted.length > 0 && props.event.promotion === 'offer'
              ? ' Nobody was promoted at once: the seat goes to the next in line as an offer (see Offers out).'
              : ' Nobody was waiting for the seat.'
        }`,
      );
      void refresh(eventId);
    },
  });

  const row = (registration: Registration) => (
    <li key={registration.registrationId}>
      <span className="who">
        <Link to={userPath(registration.userId)}>{registration.userId}</Link>
        {registration.promotedAt ? <span className="badge badge-promoted">promoted</span> : null}
      </span>
      <span className="muted small">
        {registration.status === 'waitlisted' ? 'joined' : 'registered'}{' '}
        {formatTime(registration.registeredAt)}
      </span>
      <button
        type="button"
        className="secondary small-button"
        aria-label={`Unregister ${registration.userId}`}
        disabled={unregister.isPending}
        onClick={() => unregister.mutate(registration.userId)}
      >
        Unregister
      </button>
    </li>
  );

  return (
    <>
      <ProblemMessage error={registrations.error} />
      <ProblemMessage error={unregister.error} />
      {offers && registrations.isSuccess ? (
        <OffersOut
          eventId={eventId}
          offers={offered}
          fetchedAt={registrations.dataUpdatedAt}
          onDone={props.onDone}
        />
      ) : null}
      <div className="lists">
        <section aria-labelledby="confirmed-heading">
          <h2 id="confirmed-heading">Confirmed ({confirmed.length})</h2>
          {registrations.isPending ? <Loading what="registrations" /> : null}
          {registrations.isSuccess && confirmed.length === 0 ? (
            <p className="muted">Nobody yet.</p>
          ) : null}
          <ol className="registrations" aria-label="Confirmed, in join order">
            {confirmed.map(row)}
          </ol>
        </section>
        <section aria-labelledby="waitlist-heading">
          <h2 id="waitlist-heading">Waitlist ({waitlisted.length})</h2>
          {registrations.isSuccess && waitlisted.length === 0 ? (
            <p className="muted">Nobody is waiting.</p>
          ) : null}
          <ol className="registrations" aria-label="Waitlist, first in line first">
            {waitlisted.map(row)}
          </ol>
        </section>
      </div>
      <EndedOffers offers={ended} />
      <LoadMore query={registrations} label="Load more registrations" />
      {all.length > 0 ? (
        <div className="toolbar">
          <DownloadCsv
            label="Download registrations (CSV)"
            fallbackName="registrations.csv"
            call={() =>
              api.GET('/events/{eventId}/registrations.csv', {
                params: { path: { eventId } },
                parseAs: 'blob',
              })
            }
          />
        </div>
      ) : null}
    </>
  );
}

function DeleteEvent({ event }: { readonly event: Event }) {
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: async () =>
      unwrap(api.DELETE('/events/{eventId}', { params: { path: { eventId: event.eventId } } })),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: keys.event(event.eventId) });
      void queryClient.invalidateQueries({ queryKey: keys.events });
      await navigate('/events');
    },
  });
  return (
    <section aria-labelledby="danger-heading" className="danger-zone">
      <h2 id="danger-heading">Delete</h2>
      <ProblemMessage error={remove.error} />
      <p>Deleting the event removes its registrations too.</p>
      <button
        type="button"
        className="danger"
        disabled={remove.isPending}
        onClick={() => {
          if (window.confirm(`Delete ${event.title} and its registrations?`)) remove.mutate();
        }}
      >
        Delete event
      </button>
    </section>
  );
}
