import { type RefObject, useEffect } from 'react';

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
export function useFocusFirstInvalid(form: RefObject<HTMLFormElement | null>, error: unknown) {
  useEffect(() => {
    if (!error) return;
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [form, error]);
}
