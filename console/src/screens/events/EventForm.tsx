import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { idempotencyKey, type Schemas, unwrap } from '../../api/client';
import { useApi } from '../../auth/session';
import { Field } from '../../components/Field';
import { numberOf, textOf, useFormProblem } from '../../components/forms';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading } from '../../components/Status';
import {
  isOfferWindowUnit,
  OFFER_WINDOW_UNITS,
  type OfferWindowUnit,
  windowInputOf,
  windowSecondsOf,
} from '../../lib/offers';
import {
  EVENT_STATUSES,
  type Event,
  eventPath,
  keys,
  type PromotionMode,
  useEvent,
  useRefreshEvent,
} from './queries';

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
  'promotion',
  'offerWindowSeconds',
  'offersCloseBefore',
  'offerBatch',
] as const;

/** The API's defaults, shown in a new event's form (the API applies the same when they're absent). */
const OFFER_DEFAULTS = { offerWindowSeconds: 86_400, offersCloseBefore: 0, offerBatch: 1 };

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
    ...offerSettingsOf(data),
  };
}

/**
 * The promotion mode and, for offers, their settings. The window is typed in a unit and sent in
 * seconds; the settings of instant promotion are not sent (their fields are disabled), so an
 * event switched back to instant keeps the ones it had for the next time.
 */
function offerSettingsOf(data: FormData): Partial<EventFields> {
  const promotion = textOf(data, 'promotion') as PromotionMode;
  if (promotion !== 'offer') return { promotion };
  const unit = textOf(data, 'offerWindowUnit');
  const settings = {
    promotion,
    offerWindowSeconds: windowSecondsOf(
      numberOf(data, 'offerWindowSeconds'),
      isOfferWindowUnit(unit) ? unit : 'minutes',
    ),
    offersCloseBefore: numberOf(data, 'offersCloseBefore'),
    offerBatch: numberOf(data, 'offerBatch'),
  };
  return Object.fromEntries(
    Object.entries(settings).filter(([, value]) => value !== undefined),
  ) as Partial<EventFields>;
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
        sent={create.variables}
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
          sent={update.variables}
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
  /** What the refused submit sent (the offer window in seconds, to show next to its error). */
  readonly sent: Partial<EventFields> | undefined;
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
      <PromotionFields
        event={event}
        byField={byField}
        sentWindowSeconds={props.sent?.offerWindowSeconds}
      />
      <div className="form-actions">
        <button type="submit" disabled={props.pending}>
          {props.pending ? 'Saving…' : props.submitLabel}
        </button>
        <Link to={props.cancelTo}>Cancel</Link>
      </div>
    </form>
  );
}

const PROMOTION_CHOICES: readonly { value: PromotionMode; label: string; hint: string }[] = [
  {
    value: 'instant',
    label: 'Confirm the next person in line at once',
    hint: 'They are registered as soon as the seat frees up.',
  },
  {
    value: 'offer',
    label: 'Hold it as an offer',
    hint: 'The next person in line gets a link to accept or decline by a deadline; if they don’t answer in time, or decline, the seat is offered to the one after them.',
  },
];

/** "When a seat frees up": instant promotion, or offers with their window, closing time and batch. */
function PromotionFields(props: {
  readonly event: Event | undefined;
  readonly byField: Record<string, string[]>;
  readonly sentWindowSeconds: number | undefined;
}) {
  const { event, byField } = props;
  // The API's bounds are in seconds while the form takes a unit: say what was sent.
  const windowErrors = byField.offerWindowSeconds && [
    ...byField.offerWindowSeconds,
    ...(Number.isFinite(props.sentWindowSeconds)
      ? [`${props.sentWindowSeconds} seconds were sent`]
      : []),
  ];
  const [promotion, setPromotion] = useState<PromotionMode>(event?.promotion ?? 'instant');
  const initialWindow = windowInputOf(
    event?.offerWindowSeconds ?? OFFER_DEFAULTS.offerWindowSeconds,
  );
  const [unit, setUnit] = useState<OfferWindowUnit>(initialWindow.unit);
  const promotionErrors = byField.promotion ?? [];
  const offers = promotion === 'offer';

  return (
    <fieldset
      className={promotionErrors.length > 0 ? 'field choice field-invalid' : 'field choice'}
      aria-describedby={promotionErrors.length > 0 ? 'field-promotion-error' : undefined}
    >
      <legend>When a seat frees up</legend>
      {PROMOTION_CHOICES.map((choice) => (
        <div key={choice.value}>
          <div className="checkbox">
            <input
              id={`field-promotion-${choice.value}`}
              type="radio"
              name="promotion"
              value={choice.value}
              checked={promotion === choice.value}
              onChange={() => setPromotion(choice.value)}
              aria-describedby={`field-promotion-${choice.value}-hint`}
              aria-invalid={promotionErrors.length > 0 ? true : undefined}
            />
            <label htmlFor={`field-promotion-${choice.value}`}>{choice.label}</label>
          </div>
          <p id={`field-promotion-${choice.value}-hint`} className="hint choice-hint">
            {choice.hint}
          </p>
        </div>
      ))}
      {/* Kept while hidden, so switching back and forth loses nothing typed; disabled, so
          instant promotion sends none of it. */}
      <fieldset className="offer-settings" disabled={!offers} hidden={!offers}>
        <legend className="visually-hidden">Offers</legend>
        <div className="field-row">
          <Field
            name="offerWindowSeconds"
            label="Time to answer"
            hint="From 1 minute to 7 days (the API counts seconds: 60 to 604,800). An offer lapses then, or when offers close, whichever comes first."
            errors={windowErrors}
          >
            {(control) => (
              <div className="with-unit">
                <input
                  {...control}
                  type="number"
                  inputMode="decimal"
                  step="any"
                  defaultValue={initialWindow.value}
                />
                <label htmlFor="field-offerWindowUnit" className="visually-hidden">
                  Unit of the time to answer
                </label>
                <select
                  id="field-offerWindowUnit"
                  name="offerWindowUnit"
                  value={unit}
                  onChange={(change) =>
                    isOfferWindowUnit(change.target.value) && setUnit(change.target.value)
                  }
                >
                  {OFFER_WINDOW_UNITS.map((choice) => (
                    <option key={choice.unit} value={choice.unit}>
                      {choice.unit}
                    </option>
                  ))}
                </select>
              </div>
            )}
          </Field>
          <Field
            name="offerBatch"
            label="Offers out at once"
            hint="1 to 100. More free seats wait for the waitlist until an offer out is taken or passed on."
            errors={byField.offerBatch}
          >
            {(control) => (
              <input
                {...control}
                type="number"
                inputMode="numeric"
                defaultValue={event?.offerBatch ?? OFFER_DEFAULTS.offerBatch}
              />
            )}
          </Field>
        </div>
        <Field
          name="offersCloseBefore"
          label="Offers close (hours before it starts)"
          hint="0 to 8,760. In these last hours a freed seat goes straight to the next person, as with instant promotion, since there may be no time left to answer. 0: offers until the event starts."
          errors={byField.offersCloseBefore}
        >
          {(control) => (
            <input
              {...control}
              type="number"
              inputMode="numeric"
              defaultValue={event?.offersCloseBefore ?? OFFER_DEFAULTS.offersCloseBefore}
            />
          )}
        </Field>
      </fieldset>
      {promotionErrors.length > 0 ? (
        <p id="field-promotion-error" className="field-error">
          {promotionErrors.join('; ')}
        </p>
      ) : null}
    </fieldset>
  );
}
