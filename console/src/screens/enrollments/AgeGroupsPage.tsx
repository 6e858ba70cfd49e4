import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { idempotencyKey, unwrap } from '../../api/client';
import { itemsOf } from '../../api/pages';
import { useApi } from '../../auth/session';
import { Field } from '../../components/Field';
import { numberOf, useFormProblem } from '../../components/forms';
import { LoadMore } from '../../components/LoadMore';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading, StatusMessage } from '../../components/Status';
import { type AgeGroup, keys, useAgeGroups } from './queries';

const ages = (group: AgeGroup) => `${group.min_age}–${group.max_age}`;

/** Age groups in min_age order; create one (the API refuses overlaps) and delete one. */
export function AgeGroupsPage() {
  const [news, setNews] = useState<string>();
  return (
    <Page title="Age groups">
      <p className="muted">
        An enrollment is accepted only for an age some group covers; groups never overlap.
      </p>
      <NewAgeGroupForm onDone={setNews} />
      <StatusMessage>{news}</StatusMessage>
      <AgeGroupList onDone={setNews} />
    </Page>
  );
}

function NewAgeGroupForm(props: { readonly onDone: (news: string) => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const create = useMutation({
    mutationFn: async (body: { min_age: number; max_age: number }) =>
      (
        await unwrap(
          api.POST('/age-groups', {
            body,
            params: { header: { 'idempotency-key': idempotencyKey() } },
          }),
        )
      ).data,
    onSuccess: (group) => {
      form.current?.reset();
      props.onDone(`Age group ${ages(group)} created.`);
      void queryClient.invalidateQueries({ queryKey: keys.ageGroups });
    },
  });
  const { problem, byField, unplaced } = useFormProblem(form, create.error, ['min_age', 'max_age']);

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    const data = new FormData(submitted.currentTarget);
    // What was typed goes as typed (a blank not at all): the API's schema says what is wrong.
    create.mutate({
      min_age: numberOf(data, 'min_age') as number,
      max_age: numberOf(data, 'max_age') as number,
    });
  };

  return (
    <section aria-labelledby="new-group-heading">
      <h2 id="new-group-heading">New age group</h2>
      <form ref={form} onSubmit={submit} noValidate className="form">
        <ProblemMessage problem={problem} unplaced={unplaced} />
        <div className="field-row">
          <Field
            name="min_age"
            label="From age"
            hint="Whole years, 0–150."
            required
            errors={byField.min_age}
          >
            {(control) => <input {...control} type="number" inputMode="numeric" />}
          </Field>
          <Field
            name="max_age"
            label="To age"
            hint="Included; not below the first."
            required
            errors={byField.max_age}
          >
            {(control) => <input {...control} type="number" inputMode="numeric" />}
          </Field>
        </div>
        <div className="form-actions">
          <button type="submit" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create age group'}
          </button>
        </div>
      </form>
    </section>
  );
}

function AgeGroupList(props: { readonly onDone: (news: string) => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const list = useAgeGroups();
  const groups = itemsOf(list.data?.pages);
  const remove = useMutation({
    mutationFn: async (group: AgeGroup) => {
      await unwrap(api.DELETE('/age-groups/{id}', { params: { path: { id: group.id } } }));
      return group;
    },
    onSuccess: (group) => {
      props.onDone(
        `Age group ${ages(group)} deleted. Enrollments still pending for it will be rejected.`,
      );
      void queryClient.invalidateQueries({ queryKey: keys.ageGroups });
    },
  });

  return (
    <section aria-labelledby="groups-heading">
      <h2 id="groups-heading">All age groups</h2>
      {list.isPending ? <Loading what="age groups" /> : null}
      <ProblemMessage error={list.error} />
      <ProblemMessage error={remove.error} />
      {list.isSuccess && groups.length === 0 ? (
        <p>No age groups yet: create one above before taking enrollments.</p>
      ) : null}
      {groups.length > 0 ? (
        <table className="cards">
          <caption className="visually-hidden">Age groups, youngest first</caption>
          <thead>
            <tr>
              <th scope="col">Ages</th>
              <th scope="col">Group id</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {groups.map((group) => (
              <tr key={group.id}>
                <td data-label="Ages">{ages(group)}</td>
                <td data-label="Group id" className="muted small mono break">
                  {group.id}
                </td>
                <td data-label="">
                  <button
                    type="button"
                    className="secondary small-button"
                    aria-label={`Delete age group ${ages(group)}`}
                    disabled={remove.isPending}
                    onClick={() => remove.mutate(group)}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore query={list} label="Load more age groups" />
    </section>
  );
}
