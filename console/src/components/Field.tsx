import type { ReactNode } from 'react';

export interface FieldControlProps {
  readonly id: string;
  readonly name: string;
  readonly 'aria-invalid': boolean | undefined;
  readonly 'aria-describedby': string | undefined;
}

/**
 * A labelled form control with its hint and its validation errors (from the API's 422 problem)
 * right below it, tied to the control with aria-describedby so a screen reader reads them too.
 */
export function Field(props: {
  readonly name: string;
  readonly label: string;
  readonly hint?: string;
  readonly errors?: readonly string[] | undefined;
  /** Marks the control invalid without an error of its own (a refusal the form shows above). */
  readonly invalid?: boolean;
  readonly required?: boolean;
  readonly children: (control: FieldControlProps) => ReactNode;
}) {
  const id = `field-${props.name}`;
  const errors = props.errors ?? [];
  const describedBy = [props.hint ? `${id}-hint` : '', errors.length > 0 ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div className={errors.length > 0 ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>
        {props.label}
        {props.required ? <span className="required"> (required)</span> : null}
      </label>
      {props.children({
        id,
        name: props.name,
        'aria-invalid': errors.length > 0 || props.invalid ? true : undefined,
        'aria-describedby': describedBy || undefined,
      })}
      {props.hint ? (
        <p id={`${id}-hint`} className="hint">
          {props.hint}
        </p>
      ) : null}
      {errors.length > 0 ? (
        <p id={`${id}-error`} className="field-error">
          {errors.join('; ')}
        </p>
      ) : null}
    </div>
  );
}
