import { type FormEvent, useRef, useState } from 'react';
import type { Schemas } from '../../api/client';
import { Field } from '../../components/Field';
import { textOf, useFormProblem } from '../../components/forms';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading } from '../../components/Status';
import { ALL_EVENTS, type Endpoint, type EventType, useEventTypes } from './queries';

const FIELDS = ['url', 'eventTypes', 'description'] as const;

export type EndpointFields = Schemas['CreateWebhookEndpoint'];

/** What the form holds, as typed: the API's schema says what is wrong with it. */
function readForm(form: HTMLFormElement): Required<EndpointFields> {
  const data = new FormData(form);
  const all = data.get('eventTypesMode') === 'all';
  return {
    url: textOf(data, 'url').trim(),
    eventTypes: all
      ? [ALL_EVENTS]
      : data.getAll('eventTypes').filter((type): type is string => typeof type === 'string'),
    description: textOf(data, 'description'),
  };
}

/**
 * An endpoint's URL, event types and description: to create one, or to change one (`endpoint`
 * holds what it is now). Event types come from the catalogue; "all events" is `["*"]`, which also
 * takes the types a later version of the API adds.
 */
export function EndpointForm(props: {
  readonly endpoint?: Endpoint;
  readonly submitLabel: string;
  readonly pendingLabel: string;
  readonly pending: boolean;
  readonly error: unknown;
  readonly onSubmit: (fields: Required<EndpointFields>) => void;
  readonly labelledBy?: string;
}) {
  const form = useRef<HTMLFormElement>(null);
  const { problem, byField, unplaced } = useFormProblem(form, props.error, FIELDS);

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    props.onSubmit(readForm(submitted.currentTarget));
  };

  return (
    <form
      ref={form}
      onSubmit={submit}
      noValidate
      className="form"
      aria-labelledby={props.labelledBy}
    >
      <ProblemMessage problem={problem} unplaced={unplaced} />
      <Field
        name="url"
        label="URL"
        hint="Where Roster sends each event as a signed POST: http(s), no user or password in it."
        required
        errors={byField.url}
      >
        {(control) => (
          <input
            {...control}
            type="text"
            inputMode="url"
            autoComplete="off"
            spellCheck={false}
            defaultValue={props.endpoint?.url}
          />
        )}
      </Field>
      <EventTypesField chosen={props.endpoint?.eventTypes ?? []} errors={byField.eventTypes} />
      <Field
        name="description"
        label="Description"
        hint="What receives them, for the people reading this list later."
        errors={byField.description}
      >
        {(control) => <input {...control} type="text" defaultValue={props.endpoint?.description} />}
      </Field>
      <div className="form-actions">
        <button type="submit" disabled={props.pending}>
          {props.pending ? props.pendingLabel : props.submitLabel}
        </button>
      </div>
    </form>
  );
}

/** "All events", or the types ticked in the catalogue (and any the endpoint has beyond it). */
function EventTypesField(props: {
  readonly chosen: readonly string[];
  readonly errors: readonly string[] | undefined;
}) {
  const catalogue = useEventTypes();
  const [all, setAll] = useState(
    () => props.chosen.length === 0 || props.chosen.includes(ALL_EVENTS),
  );
  const known = new Set((catalogue.data ?? []).map((type) => type.type));
  const types: EventType[] = [
    ...(catalogue.data ?? []),
    ...props.chosen
      .filter((type) => type !== ALL_EVENTS && !known.has(type))
      .map((type) => ({ type, description: 'Not in the API’s catalogue any more.' })),
  ];
  const errors = props.errors ?? [];
  const errorId = 'field-eventTypes-error';

  return (
    <fieldset
      className="field event-types"
      aria-describedby={errors.length > 0 ? errorId : undefined}
    >
      <legend>Event types</legend>
      <div className="checkbox">
        <input
          type="radio"
          id="eventTypes-all"
          name="eventTypesMode"
          value="all"
          checked={all}
          onChange={() => setAll(true)}
        />
        <label htmlFor="eventTypes-all">All events, also types added later</label>
      </div>
      <div className="checkbox">
        <input
          type="radio"
          id="eventTypes-some"
          name="eventTypesMode"
          value="some"
          checked={!all}
          onChange={() => setAll(false)}
        />
        <label htmlFor="eventTypes-some">Only the types chosen below</label>
      </div>
      {catalogue.isPending ? <Loading what="event types" /> : null}
      <ProblemMessage error={catalogue.error} />
      {/* Disabled while "all events" is chosen: their ticks are kept, and not sent. */}
      <fieldset className="event-type-list" disabled={all}>
        <legend className="visually-hidden">Types to receive</legend>
        <ul>
          {types.map(({ type, description }) => {
            const id = `eventType-${type}`;
            return (
              <li key={type}>
                <div className="checkbox">
                  <input
                    type="checkbox"
                    id={id}
                    name="eventTypes"
                    value={type}
                    defaultChecked={props.chosen.includes(type)}
                    aria-describedby={`${id}-description`}
                    aria-invalid={errors.length > 0 && !all ? true : undefined}
                  />
                  <label htmlFor={id} className="mono">
                    {type}
                  </label>
                </div>
                <p id={`${id}-description`} className="hint">
                  {description}
                </p>
              </li>
            );
          })}
        </ul>
      </fieldset>
      {errors.length > 0 ? (
        <p id={errorId} className="field-error">
          {errors.join('; ')}
        </p>
      ) : null}
    </fieldset>
  );
}
