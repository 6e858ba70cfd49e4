import type { ReactNode } from 'react';

/** A polite live region: what just happened ("user-3 was promoted"), announced once. */
export function StatusMessage(props: { readonly children: ReactNode }) {
  return (
    <div className="status" role="status">
      {props.children}
    </div>
  );
}

export function Loading(props: { readonly what: string }) {
  return (
    <p className="muted" role="status">
      Loading {props.what}…
    </p>
  );
}
