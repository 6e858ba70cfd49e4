import { type RefObject, useEffect } from 'react';
import { type FieldProblem, fieldErrorsOf, type Problem, toProblem } from '../lib/problem';

/** A form's text value: '' when the field is empty or absent. */
export const textOf = (form: FormData, name: string): string => {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
};

/** A number field as the API should see it: absent when empty, else the number typed. */
export const numberOf = (form: FormData, name: string): number | undefined => {
  const value = textOf(form, name).trim();
  return value === '' ? undefined : Number(value);
};

/** After a failed submit, the first field the API refused takes the focus. */
function useFocusFirstInvalid(form: RefObject<HTMLFormElement | null>, error: unknown) {
  useEffect(() => {
    if (!error) return;
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [form, error]);
}

/**
 * A form's failed submit as it shows: the problem, its validation errors by field (see
 * `fieldErrorsOf` for `fields` and `prefix`) and the rest; the first refused field takes the focus.
 */
export function useFormProblem(
  form: RefObject<HTMLFormElement | null>,
  error: unknown,
  fields: readonly string[],
  prefix?: string | readonly string[],
): {
  problem: Problem | undefined;
  byField: Record<string, string[]>;
  unplaced: FieldProblem[];
} {
  const problem = error ? toProblem(error) : undefined;
  const { byField, unplaced } = fieldErrorsOf(problem, fields, prefix);
  useFocusFirstInvalid(form, error);
  return { problem, byField, unplaced };
}
