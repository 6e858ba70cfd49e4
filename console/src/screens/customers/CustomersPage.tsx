import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { type Api, idempotencyKey, unwrap } from '../../api/client';
import { itemsOf } from '../../api/pages';
import { useApi } from '../../auth/session';
import { Field } from '../../components/Field';
import { textOf, useFormProblem } from '../../components/forms';
import { LoadMore } from '../../components/LoadMore';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading, StatusMessage } from '../../components/Status';
import type { ExpectedRun } from '../../lib/polling';
import { ApiError } from '../../lib/problem';
import { formatTime } from '../../lib/time';
import {
  isRunStatus,
  keys,
  RUN_STATUSES,
  type RunStatus,
  useAllRuns,
  useCustomers,
  useRuns,
} from './queries';

const ACTIONS = ['check', 'add', 'delete', 'start'] as const;
type Action = (typeof ACTIONS)[number];

type Outcome =
  | { readonly action: 'check'; readonly id: string; readonly exists: boolean }
  | {
      readonly action: 'add';
      readonly id: string;
      readonly created: boolean;
      readonly known: readonly string[];
    }
  | { readonly action: 'delete'; readonly id: string }
  | { readonly action: 'start'; readonly id: string; readonly executionId: string };

/** An empty id would make a request to another path (`/customers/`): asked for here instead. */
const noId = () =>
  new ApiError({
    title: 'A customer id is needed',
    status: 400,
    detail: 'Type the id to check, add, delete or start the workflow for.',
    errors: [{ path: 'path.id', message: 'type a customer id' }],
  });

async function perform(api: Api, action: Action, id: string): Promise<Outcome> {
  if (id === '') throw noId();
  const path = { params: { path: { id } } };
  switch (action) {
    case 'check': {
      const { data } = await unwrap(api.GET('/customers/{id}', path));
      return { action, id, exists: data.exists };
    }
    case 'add': {
      // The runs listed before the PUT: a run not among them is the one its event started.
      const before = await unwrap(api.GET('/workflow/executions', { params: { query: { id } } }));
      const { data } = await unwrap(api.PUT('/customers/{id}', path));
      return {
        action,
        id,
        created: data.created,
        known: before.data.map((run) => run.executionId),
      };
    }
    case 'delete':
      await unwrap(api.DELETE('/customers/{id}', path));
      return { action, id };
    case 'start': {
      const { data } = await unwrap(
        api.POST('/workflow/submit', {
          body: { id },
          params: { header: { 'idempotency-key': idempotencyKey() } },
        }),
      );
      return { action, id, executionId: data.executionId };
    }
  }
}

function describe(outcome: Outcome): string {
  switch (outcome.action) {
    case 'check':
      return outcome.exists ? `${outcome.id} is registered.` : `${outcome.id} is not registered.`;
    case 'add':
      return outcome.created
        ? `${outcome.id} added. Its CustomerCreated event starts a workflow run, listed below.`
        : `${outcome.id} was already registered; nothing changed.`;
    case 'delete':
      return `${outcome.id} deleted.`;
    case 'start':
      return `Workflow started for ${outcome.id} (run ${outcome.executionId}).`;
  }
}

const isAction = (value: unknown): value is Action => ACTIONS.includes(value as Action);

/**
 * The customers page: check, add and delete a customer id, start the workflow for it, and
 * follow the id's workflow runs (status and branch) as they happen; below, the registered ids and
 * every workflow run, filtered by status. The id being looked at (`?id=`) and the status filter
 * (`?status=`) are in the URL, so the page can be bookmarked or shared.
 */
export function CustomersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [search, setSearch] = useSearchParams();
  const current = search.get('id') ?? '';
  const statusParam = search.get('status');
  const status = isRunStatus(statusParam) ? statusParam : undefined;
  /** Changes one search parameter, keeping the other. */
  const setParam = (name: 'id' | 'status', value: string | undefined) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    setSearch(next);
  };
  const form = useRef<HTMLFormElement>(null);
  const [news, setNews] = useState<string>();
  const [expected, setExpected] = useState<ExpectedRun & { readonly id: string }>();

  const act = useMutation({
    mutationFn: ({ action, id }: { action: Action; id: string }) => perform(api, action, id),
    onSuccess: (outcome) => {
      setNews(describe(outcome));
      if (outcome.action === 'start') {
        setExpected({
          id: outcome.id,
          executionId: outcome.executionId,
          known: [],
          since: Date.now(),
        });
      } else if (outcome.action === 'add' && outcome.created) {
        setExpected({ id: outcome.id, known: outcome.known, since: Date.now() });
      }
      if (outcome.id !== current) setParam('id', outcome.id);
      void queryClient.invalidateQueries({ queryKey: keys.runs(outcome.id) });
      void queryClient.invalidateQueries({ queryKey: keys.list });
      void queryClient.invalidateQueries({ queryKey: ['customers', 'all-runs'] });
    },
  });
  const { problem, byField, unplaced } = useFormProblem(
    form,
    act.error,
    ['id'],
    ['path', 'body', 'query'],
  );

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    const submitter = (submitted.nativeEvent as SubmitEvent).submitter;
    const action = submitter instanceof HTMLButtonElement ? submitter.value : 'check';
    const id = textOf(new FormData(submitted.currentTarget), 'id').trim();
    setNews(undefined);
    act.mutate({ action: isAction(action) ? action : 'check', id });
  };

  return (
    <Page title="Customers">
      <p className="muted">
        Customer ids, and the workflow that checks an id and inserts it when it is new
        (ValidateExists → InsertId or AlreadyExists).
      </p>
      <form ref={form} onSubmit={submit} noValidate className="form">
        <ProblemMessage problem={problem} unplaced={unplaced} />
        <Field
          name="id"
          label="Customer id"
          hint="1–100 characters: letters, digits and . _ : -"
          errors={byField.id}
        >
          {(control) => (
            <input
              {...control}
              type="text"
              autoComplete="off"
              spellCheck={false}
              defaultValue={current}
            />
          )}
        </Field>
        <div className="form-actions wrap">
          <button type="submit" name="action" value="check" disabled={act.isPending}>
            Check
          </button>
          <button type="submit" name="action" value="add" disabled={act.isPending}>
            Add
          </button>
          <button
            type="submit"
            name="action"
            value="delete"
            className="danger"
            disabled={act.isPending}
          >
            Delete
          </button>
          <button
            type="submit"
            name="action"
            value="start"
            className="secondary"
            disabled={act.isPending}
          >
            Start workflow
          </button>
        </div>
      </form>
      <StatusMessage>{news}</StatusMessage>
      {current ? (
        <Runs id={current} expected={expected?.id === current ? expected : undefined} />
      ) : (
        <p className="muted">Check, add or start the workflow for an id to see its runs here.</p>
      )}
      <RegisteredCustomers />
      <AllRuns status={status} onStatus={(value) => setParam('status', value)} />
    </Page>
  );
}

function Runs(props: { readonly id: string; readonly expected: ExpectedRun | undefined }) {
  const runs = useRuns(props.id, props.expected);
  const items = itemsOf(runs.data?.pages);
  return (
    <section aria-labelledby="runs-heading">
      <h2 id="runs-heading">Workflow runs of {props.id}</h2>
      {runs.isPending ? <Loading what="workflow runs" /> : null}
      <ProblemMessage error={runs.error} />
      {runs.isSuccess && items.length === 0 ? <p>No runs for this id yet.</p> : null}
      {items.length > 0 ? (
        <table className="cards" aria-describedby="runs-note">
          <caption className="visually-hidden">Workflow runs of {props.id}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Status</th>
              <th scope="col">Branch</th>
              <th scope="col">Finished</th>
              <th scope="col">Run</th>
            </tr>
          </thead>
          <tbody>
            {items.map((run) => (
              <tr key={run.executionId}>
                <td data-label="Started">{formatTime(run.startedAt)}</td>
                <td data-label="Status">
                  <span className={`badge badge-${run.status.toLowerCase()}`}>{run.status}</span>
                  {run.error ? (
                    <span className="small">
                      {' '}
                      {run.error.error}: {run.error.cause}
                    </span>
                  ) : null}
                </td>
                <td data-label="Branch">{run.branch ?? '—'}</td>
                <td data-label="Finished">{formatTime(run.stoppedAt)}</td>
                <td data-label="Run" className="mono small break">
                  {run.executionId}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <p id="runs-note" className="muted small">
        Newest first, started by this page, by an id's CustomerCreated event or by the schedule. The
        list updates by itself while a run is RUNNING.
      </p>
      <LoadMore query={runs} label="Load more runs" />
    </section>
  );
}

function RegisteredCustomers() {
  const customers = useCustomers();
  const items = itemsOf(customers.data?.pages);
  return (
    <section aria-labelledby="customers-heading">
      <h2 id="customers-heading">Registered customers</h2>
      {customers.isPending ? <Loading what="customers" /> : null}
      <ProblemMessage error={customers.error} />
      {customers.isSuccess && items.length === 0 ? <p>No customer ids registered.</p> : null}
      {items.length > 0 ? (
        <table className="cards">
          <caption className="visually-hidden">Registered customer ids, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Customer id</th>
              <th scope="col">Registered</th>
            </tr>
          </thead>
          <tbody>
            {items.map((customer) => (
              <tr key={customer.id}>
                <td data-label="Customer id" className="mono break">
                  <Link to={`?id=${encodeURIComponent(customer.id)}`}>{customer.id}</Link>
                </td>
                <td data-label="Registered">{formatTime(customer.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore query={customers} label="Load more customers" />
    </section>
  );
}

function AllRuns(props: {
  readonly status: RunStatus | undefined;
  readonly onStatus: (status: string | undefined) => void;
}) {
  const runs = useAllRuns(props.status);
  const items = itemsOf(runs.data?.pages);
  return (
    <section aria-labelledby="all-runs-heading">
      <h2 id="all-runs-heading">All workflow runs</h2>
      <div className="toolbar">
        <label htmlFor="run-status-filter">Status</label>
        <select
          id="run-status-filter"
          value={props.status ?? ''}
          onChange={(change) => props.onStatus(change.target.value || undefined)}
        >
          <option value="">All statuses</option>
          {RUN_STATUSES.map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </select>
      </div>
      {runs.isPending ? <Loading what="workflow runs" /> : null}
      <ProblemMessage error={runs.error} />
      {runs.isSuccess && items.length === 0 ? (
        <p>{props.status ? `No ${props.status} runs.` : 'No runs yet.'}</p>
      ) : null}
      {items.length > 0 ? (
        <table className="cards">
          <caption className="visually-hidden">
            {props.status ? `${props.status} workflow runs` : 'Workflow runs'}, newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Customer id</th>
              <th scope="col">Status</th>
              <th scope="col">Branch</th>
              <th scope="col">Run</th>
            </tr>
          </thead>
          <tbody>
            {items.map((run) => (
              <tr key={run.executionId}>
                <td data-label="Started">{formatTime(run.startedAt)}</td>
                <td data-label="Customer id" className="mono break">
                  {run.id ?? '—'}
                </td>
                <td data-label="Status">
                  <span className={`badge badge-${run.status.toLowerCase()}`}>{run.status}</span>
                </td>
                <td data-label="Branch">{run.branch ?? '—'}</td>
                <td data-label="Run" className="mono small break">
                  {run.executionId}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore query={runs} label="Load more runs" />
    </section>
  );
}
