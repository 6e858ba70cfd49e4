import { type FormEvent, useRef } from 'react';
import { Link, useSearchParams } from 'react-router';
import { itemsOf } from '../../api/pages';
import { useApi } from '../../auth/session';
import { DownloadCsv } from '../../components/DownloadCsv';
import { Field } from '../../components/Field';
import { textOf, useFormProblem } from '../../components/forms';
import { LoadMore } from '../../components/LoadMore';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading } from '../../components/Status';
import { formatTime, isoToLocalInput, localInputToIso, utcOffsetLabel } from '../../lib/time';
import { type SlaErrorFilter, useSlaErrors } from './queries';

const FILTER_FIELDS = ['fileName', 'from', 'to'] as const;

/** The filter in the URL (`?fileName=…&from=…&to=…`, ISO 8601): empty values are left out. */
function filterOf(search: URLSearchParams): SlaErrorFilter {
  const value = (name: string) => search.get(name)?.trim() || undefined;
  return { fileName: value('fileName'), from: value('from'), to: value('to') };
}

/** SLA error records by file and time range, newest first; a link to file one. */
export function SlaErrorsList() {
  const [search, setSearch] = useSearchParams();
  const filter = filterOf(search);
  const api = useApi();
  const list = useSlaErrors(filter);
  const records = itemsOf(list.data?.pages);
  const form = useRef<HTMLFormElement>(null);
  const { problem, byField, unplaced } = useFormProblem(form, list.error, FILTER_FIELDS, 'query');
  const zone = utcOffsetLabel();

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    const data = new FormData(submitted.currentTarget);
    const next: Record<string, string> = {};
    const fileName = textOf(data, 'fileName').trim();
    if (fileName) next.fileName = fileName;
    for (const name of ['from', 'to'] as const) {
      const iso = localInputToIso(textOf(data, name));
      if (iso) next[name] = iso;
    }
    setSearch(next);
  };

  return (
    <Page
      title="SLA errors"
      actions={
        <Link className="button" to="/sla-errors/new">
          File an SLA error
        </Link>
      }
    >
      <form
        ref={form}
        onSubmit={submit}
        noValidate
        className="form filter-form"
        aria-label="Filter SLA errors"
        // Remount with the URL's values when the filter changes from elsewhere (a link).
        key={search.toString()}
      >
        <div className="field-row">
          <Field
            name="fileName"
            label="File name"
            hint="Exactly as filed; empty for every file."
            errors={byField.fileName}
          >
            {(control) => (
              <input {...control} type="text" spellCheck={false} defaultValue={filter.fileName} />
            )}
          </Field>
          <Field
            name="from"
            label="Received from"
            hint={`Included; your time (${zone}).`}
            errors={byField.from}
          >
            {(control) => (
              <input
                {...control}
                type="datetime-local"
                defaultValue={isoToLocalInput(filter.from)}
              />
            )}
          </Field>
          <Field
            name="to"
            label="Received before"
            hint={`Not included; your time (${zone}).`}
            errors={byField.to}
          >
            {(control) => (
              <input {...control} type="datetime-local" defaultValue={isoToLocalInput(filter.to)} />
            )}
          </Field>
        </div>
        <div className="form-actions">
          <button type="submit" className="secondary">
            Show
          </button>
          {search.size > 0 ? <Link to="/sla-errors">Clear the filter</Link> : null}
        </div>
      </form>

      <section aria-labelledby="records-heading">
        <h2 id="records-heading">
          {filter.fileName ? `Records of ${filter.fileName}` : 'Records'}, newest first
        </h2>
        {list.isPending ? <Loading what="SLA errors" /> : null}
        <ProblemMessage problem={problem} unplaced={unplaced} />
        {list.isSuccess && records.length === 0 ? <p>No SLA errors match.</p> : null}
        {records.length > 0 ? (
          <div className="toolbar">
            <DownloadCsv
              label="Download these records (CSV)"
              fallbackName="sla-errors.csv"
              call={() =>
                api.GET('/sla-errors.csv', { params: { query: filter }, parseAs: 'blob' })
              }
            />
          </div>
        ) : null}
        {records.length > 0 ? (
          <table className="cards">
            <caption className="visually-hidden">SLA error records, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">File</th>
                <th scope="col">Severity</th>
                <th scope="col">Code</th>
                <th scope="col">Message</th>
                <th scope="col">Deadline</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {records.map((record) => (
                <tr key={record.id}>
                  <td data-label="Received">{formatTime(record.receivedAt)}</td>
                  <td data-label="File" className="break">
                    {record.fileName}
                  </td>
                  <td data-label="Severity">
                    <span className={`badge badge-${record.severity}`}>{record.severity}</span>
                  </td>
                  <td data-label="Code" className="mono small">
                    {record.errorCode}
                  </td>
                  <td data-label="Message" className="description">
                    {record.message}
                  </td>
                  <td data-label="Deadline">{formatTime(record.slaDeadline)}</td>
                  <td data-label="Source" className="break">
                    {record.source}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <LoadMore query={list} label="Load more records" />
      </section>
    </Page>
  );
}
