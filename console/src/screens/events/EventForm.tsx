import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { idempotencyKey, type Schemas, unwrap } from '../../api/client';
import { useApi } from '../../auth/session';
import { Field } from '../../components/Field';
import { numberOf, textOf, useFormProblem } from '../../components/forms';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading } from '../../components/Status';
import { EVENT_STATUSES, type Event, eventPath, keys, useEvent, useRefreshEvent } from './queries';

const FIELDS = [
  'eventId',
  'title',
  'description',
  'date',
  'location',
  'capacity',
  'organizer',
  'status',
  'hasWaitlist',
  'waitlistEnabled',
] as const;

type EventFields = Omit<Schemas['CreateEvent'], 'waitlistEnabled'>;

/** What the form holds; the API validates it (no browser-side rules to drift from the API's). */
function readForm(form: HTMLFormElement): EventFields {
  const data = new FormData(form);
  const eventId = textOf(data, 'eventId').trim();
  return {
    ...(eventId ? { eventId } : {}),
    title: textOf(data, 'title'),
    description: textOf(data, 'description'),
    date: textOf(data, 'date').trim(),
    location: textOf(data, 'location'),
    capacity: numberOf(data, 'capacity') as number,
    organizer: textOf(data, 'organizer'),
    status: textOf(data, 'status') as Schemas['EventStatus'],
    hasWaitlist: data.get('hasWaitlist') === 'on',
  };
}

/** The fields that differ from the event as loaded: a PUT changes only those. */
function changesOf(event: Event, fields: EventFields): Schemas['UpdateEvent'] {
  const changes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (name === 'eventId') continue;
    if (event[name as keyof Event] !== value) changes[name] = value;
  }
  return changes as Schemas['UpdateEvent'];
}

export function NewEvent() {
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: async (body: EventFields) =>
      (
        await unwrap(
          api.POST('/events', {
            body,
            params: { header: { 'idempotency-key': idempotencyKey() } },
          }),
        )
      ).data,
    onSuccess: async (event) => {
      queryClient.setQueryData(keys.event(event.eventId), event);
      void queryClient.invalidateQueries({ queryKey: keys.eventLists });
      await navigate(eventPath(event.eventId));
    },
  });
  return (
    <Page title="New event">
      <EventFormFields
        submitLabel="Create event"
        pending={create.isPending}
        error={create.error}
        onSubmit={(fields) => create.mutate(fields)}
        cancelTo="/events"
      />
    </Page>
  );
}

export function EditEvent() {
  const { eventId = '' } = useParams();
  const event = useEvent(eventId);
  const api = useApi();
  const navigate = useNavigate();
  const refresh = useRefreshEvent();
  const update = useMutation({
    mutationFn: async (body: Schemas['UpdateEvent']) =>
      (await unwrap(api.PUT('/events/{eventId}', { params: { path: { eventId } }, body }))).data,
    onSuccess: async (updated) => {
      // Raising the capacity may have promoted waitlisted users; the lists show the title and date.
      void refresh(eventId, updated);
      await navigate(eventPath(eventId));
    },
  });

  return (
    <Page title={event.data ? `Edit ${event.data.title}` : 'Edit event'}>
      {event.isPending ? <Loading what="the event" /> : null}
      <ProblemMessage error={event.error} />
      {event.data ? (
        <EventFormFields
          event={event.data}
          submitLabel="Save changes"
          pending={update.isPending}
          error={update.error}
          onSubmit={(fields) => event.data && update.mutate(changesOf(event.data, fields))}
          cancelTo={eventPath(eventId)}
        />
      ) : null}
    </Page>
  );
}

function EventFormFields(props: {
  readonly event?: Event;
  readonly submitLabel: string;
  readonly pending: boolean;
  readonly error: unknown;
  readonly onSubmit: (fields: EventFields) => void;
  readonly cancelTo: string;
}) {
  const { event } = props;
  const form = useRef<HTMLFormElement>(null);
  const { problem, byField, unplaced } = useFormProblem(form, props.error, FIELDS);
  const waitlistErrors = [...(byField.hasWaitlist ?? []), ...(byField.waitlistEnabled ?? [])];

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    props.onSubmit(readForm(submitted.currentTarget));
  };

  return (
    <form ref={form} onSubmit={submit} noValidate className="form">
      <ProblemMessage problem={problem} unplaced={unplaced} />
      {event ? null : (
        <Field
          name="eventId"
          label="Event id"
          hint="Optional: letters, digits and . _ : - (generated when empty)."
          errors={byField.eventId}
        >
          {(control) => <input {...control} type="text" autoComplete="off" />}
        </Field>
      )}
      <Field name="title" label="Title" required errors={byField.title}>
        {(control) => <input {...control} type="text" defaultValue={event?.title} />}
      </Field>
      <Field name="description" label="Description" required errors={byField.description}>
        {(control) => <textarea {...control} rows={3} defaultValue={event?.description} />}
      </Field>
      <div className="field-row">
        <Field
          name="date"
          label="Date"
          required
          hint="YYYY-MM-DD, or an ISO 8601 date-time."
          errors={byField.date}
        >
          {(control) => (
            <input {...control} type="text" placeholder="2026-12-15" defaultValue={event?.date} />
          )}
        </Field>
        <Field name="capacity" label="Capacity" required errors={byField.capacity}>
          {(control) => (
            <input {...control} type="number" inputMode="numeric" defaultValue={event?.capacity} />
          )}
        </Field>
      </div>
      <Field name="location" label="Location" required errors={byField.location}>
        {(control) => <input {...control} type="text" defaultValue={event?.location} />}
      </Field>
      <Field name="organizer" label="Organizer" required errors={byField.organizer}>
        {(control) => <input {...control} type="text" defaultValue={event?.organizer} />}
      </Field>
      <Field name="status" label="Status" errors={byField.status}>
        {(control) => (
          <select {...control} defaultValue={event?.status ?? 'active'}>
            {EVENT_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className={waitlistErrors.length > 0 ? 'field field-invalid' : 'field'}>
        <div className="checkbox">
          <input
            id="field-hasWaitlist"
            name="hasWaitlist"
            type="checkbox"
            defaultChecked={event?.hasWaitlist ?? true}
            aria-describedby="field-hasWaitlist-hint"
          />
          <label htmlFor="field-hasWaitlist">Waitlist</label>
        </div>
        <p id="field-hasWaitlist-hint" className="hint">
          When the event is full, later registrations wait in line and take freed seats in order.
        </p>
        {waitlistErrors.length > 0 ? (
          <p className="field-error">{waitlistErrors.join('; ')}</p>
        ) : null}
      </div>
      <div className="form-actions">
        <button type="submit" disabled={props.pending}>
          {props.pending ? 'Saving…' : props.submitLabel}
        </button>
        <Link to={props.cancelTo}>Cancel</Link>
      </div>
    </form>
  );
}
