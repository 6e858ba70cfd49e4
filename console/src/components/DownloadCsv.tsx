import { useState } from 'react';
import { unwrap } from '../api/client';
import { filenameOf, saveFile } from '../lib/download';
import { ProblemMessage } from './ProblemMessage';

/** What an export's call answers (an openapi-fetch GET with `parseAs: 'blob'`). */
type BlobCall = Promise<{ data?: Blob; error?: unknown; response: Response }>;

/**
 * A button that downloads a list as CSV: the API's CSV twin of the list, asked for with the
 * signed-in credential (a header: a plain link could not carry it), saved under the name the API
 * offers. A refusal shows as the API's problem.
 */
export function DownloadCsv(props: {
  /** The button's text, naming what is downloaded ("Download registrations (CSV)"). */
  readonly label: string;
  readonly fallbackName: string;
  readonly call: () => BlobCall;
}) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>();

  const download = async () => {
    setPending(true);
    setError(undefined);
    try {
      const { data, response } = await unwrap(props.call());
      saveFile(data, filenameOf(response.headers.get('content-disposition'), props.fallbackName));
    } catch (failure) {
      setError(failure);
    } finally {
      setPending(false);
    }
  };

  return (
    <>
      <button
        type="button"
        className="secondary small-button"
        disabled={pending}
        onClick={() => void download()}
      >
        {pending ? 'Preparing the file…' : props.label}
      </button>
      <ProblemMessage error={error} />
    </>
  );
}
