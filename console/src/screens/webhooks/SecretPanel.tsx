import { type ReactNode, useEffect, useRef, useState } from 'react';
import { StatusMessage } from '../../components/Status';

/**
 * A signing secret, the one time the API shows it (creation, rotation). It lives in this
 * component's props only: never in storage, the URL or the query cache, and gone with a reload or
 * when the person says they have stored it. Its heading takes the focus when it appears, so a
 * screen reader reads the warning first: key it by the secret, so that a new one appears anew.
 */
export function SecretPanel(props: {
  readonly secret: string;
  readonly url: string;
  /** After a rotation: the previous secret still signs for 24 hours. */
  readonly rotated: boolean;
  readonly onDone: () => void;
  readonly children?: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<string>();

  useEffect(() => {
    heading.current?.focus();
  }, []);

  const copy = () => {
    const byHand = () => {
      input.current?.select();
      setCopied('The browser did not let the console copy it: it is selected, copy it yourself.');
    };
    if (!navigator.clipboard) return byHand();
    navigator.clipboard
      .writeText(props.secret)
      .then(() => setCopied('Copied to the clipboard.'), byHand);
  };

  return (
    <section className="secret-panel" aria-labelledby="secret-heading">
      <h2 id="secret-heading" ref={heading} tabIndex={-1}>
        Signing secret: shown only now
      </h2>
      <p>
        <strong>You will not see it again.</strong> Copy it now and store it where the receiver
        reads it: Roster keeps it encrypted and never shows it again. If it is lost, rotate the
        secret.
      </p>
      {props.rotated ? (
        <p>
          The previous secret keeps signing for 24 hours beside this one, so the receiver can switch
          without missing a delivery.
        </p>
      ) : null}
      <label htmlFor="signing-secret">Signing secret</label>
      <div className="secret-row">
        <input
          ref={input}
          id="signing-secret"
          type="text"
          className="mono"
          readOnly
          value={props.secret}
          autoComplete="off"
          spellCheck={false}
          aria-describedby="signing-secret-hint"
          onFocus={(focused) => focused.currentTarget.select()}
        />
        <button type="button" onClick={copy}>
          Copy secret
        </button>
      </div>
      <p id="signing-secret-hint" className="hint">
        For <span className="break">{props.url}</span>. A receiver checks the{' '}
        <code>webhook-signature</code> header of each delivery with it (Standard Webhooks).
      </p>
      <StatusMessage>{copied}</StatusMessage>
      {props.children}
      <div className="form-actions">
        <button type="button" className="secondary" onClick={props.onDone}>
          I have stored it
        </button>
      </div>
    </section>
  );
}
