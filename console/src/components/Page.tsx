import { type ReactNode, useEffect, useRef } from 'react';

/**
 * A screen: its heading takes the focus when the screen opens, so keyboard and screen-reader
 * users land on the new content after a client-side navigation, and the tab title follows.
 */
export function Page(props: {
  readonly title: string;
  readonly actions?: ReactNode;
  readonly children: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · Roster console`;
    heading.current?.focus();
  }, [props.title]);
  return (
    <>
      <div className="page-header">
        <h1 ref={heading} tabIndex={-1}>
          {props.title}
        </h1>
        {props.actions ? <div className="page-actions">{props.actions}</div> : null}
      </div>
      {props.children}
    </>
  );
}
