import {
  type FormEvent,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import { Link, useParams } from 'react-router';
import { useApi } from '../../auth/session';
import { Page } from '../../components/Page';
import { useNow } from '../../components/useNow';
import type { QrCamera } from '../../lib/door-camera';
import { ageText, STALE_AFTER_MS } from '../../lib/door-connection';
import { type DoorList, findAttendees, type ListedTicket } from '../../lib/door-list';
import {
  answerOf,
  type Conflict,
  conflictsOf,
  newDeviceName,
  type ScanAnswer,
  type ScanRecord,
  type ScanType,
  validDeviceName,
} from '../../lib/door-scans';
import { type DoorScan, type DoorState, DoorStation } from '../../lib/door-station';
import { openDoorStore, storeDeviceName, storedDeviceName } from '../../lib/door-store';
import { looksLikeTicket } from '../../lib/door-ticket';
import { formatTime } from '../../lib/time';
import { doorApi } from './doorApi';
import { eventPath, useEvent } from './queries';
import './door.css';

/**
 * The door of an event, on a phone: scans tickets with the camera or takes a ticket, a name or a
 * user id typed; shows each result in large type. Works offline from its door list (see
 * lib/door-station.ts), says so, and uploads what it scanned when the network is back.
 */
export default function DoorScreen() {
  const { eventId = '' } = useParams();
  const api = useApi();
  const event = useEvent(eventId);
  const [device, setDevice] = useState(() => {
    const stored = storedDeviceName();
    if (stored && validDeviceName(stored)) return stored;
    const made = newDeviceName();
    storeDeviceName(made);
    return made;
  });
  const deviceRef = useRef(device);
  deviceRef.current = device;
  const [station, setStation] = useState<DoorStation>();
  const [storeProblem, setStoreProblem] = useState<string>();

  useEffect(() => {
    let current: DoorStation | undefined;
    let cancelled = false;
    openDoorStore()
      .then((store) => {
        if (cancelled) return;
        current = new DoorStation({
          eventId,
          api: doorApi(api),
          store,
          device: () => deviceRef.current,
        });
        setStation(current);
        return current.start();
      })
      .catch((error: unknown) =>
        setStoreProblem(error instanceof Error ? error.message : String(error)),
      );
    return () => {
      cancelled = true;
      current?.stop();
    };
  }, [eventId, api]);

  useEffect(() => {
    if (!station) return;
    const online = () => station.browserSignal(true);
    const offline = () => station.browserSignal(false);
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    return () => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
    };
  }, [station]);

  const title = event.data?.title ?? station?.snapshot().list?.title ?? eventId;
  return (
    <Page
      title={`Door: ${title}`}
      actions={
        <Link className="button secondary" to={eventPath(eventId)}>
          Back to the event
        </Link>
      }
    >
      {storeProblem ? (
        <div className="problem" role="alert">
          <p className="problem-title">This browser can’t keep the door’s data</p>
          <p>IndexedDB is unavailable ({storeProblem}): the door can’t work offline here.</p>
        </div>
      ) : null}
      {station ? (
        <Door station={station} device={device} onDeviceChange={setDevice} />
      ) : storeProblem ? null : (
        <p className="muted" role="status">
          Opening the door…
        </p>
      )}
    </Page>
  );
}

function Door(props: {
  readonly station: DoorStation;
  readonly device: string;
  readonly onDeviceChange: (name: string) => void;
}) {
  const { station } = props;
  const state = useSyncExternalStore(station.subscribe, station.snapshot);
  const [type, setType] = useState<ScanType>('entry');
  const conflicts = useMemo(() => conflictsOf(state.records), [state.records]);
  const queued = useMemo(
    () => state.records.filter((r) => r.state === 'queued').length,
    [state.records],
  );
  return (
    <div className="door">
      <ConnectionBanner state={state} queued={queued} />
      <ScanResult state={state} />
      <Camera station={station} type={type} />
      <ScanForm station={station} state={state} type={type} onTypeChange={setType} />
      <Conflicts conflicts={conflicts} list={state.list} />
      <RecentScans records={state.records} list={state.list} />
      <DeviceSettings
        station={station}
        device={props.device}
        onDeviceChange={props.onDeviceChange}
        queued={queued}
      />
    </div>
  );
}

function ConnectionBanner(props: { readonly state: DoorState; readonly queued: number }) {
  const { state, queued } = props;
  const now = useNow(1_000);
  const list = state.list;
  const age = list ? now - list.syncedAt : undefined;
  const waiting =
    queued === 0
      ? 'No scans waiting to upload.'
      : `${queued} ${queued === 1 ? 'scan' : 'scans'} waiting to upload.`;
  return (
    <section aria-label="Connection and door list" className="door-state">
      {state.connection.mode === 'offline' ? (
        <div className="door-banner door-banner-offline" role="status" data-testid="door-mode">
          <p className="door-banner-title">
            <span aria-hidden="true">⚠ </span>Offline: tickets are checked on this device.
          </p>
          <p>
            Double admission is possible: a ticket admitted at another door while this one is
            offline is admitted here too. {waiting} They upload when the network is back.
          </p>
        </div>
      ) : (
        <p className="door-banner door-banner-online" role="status" data-testid="door-mode">
          Online: the API checks each ticket. {waiting}
        </p>
      )}
      <p className={age !== undefined && age > STALE_AFTER_MS ? 'door-age door-stale' : 'door-age'}>
        {list ? (
          <>
            Door list: <span data-testid="door-ticket-count">{count(list.tickets.size)}</span>{' '}
            {list.tickets.size === 1 ? 'ticket' : 'tickets'}, {count(list.revoked.size)} revoked,
            updated <span data-testid="door-list-age">{ageText(age ?? 0)}</span> ago
            {age !== undefined && age > STALE_AFTER_MS ? ' (it may miss recent changes)' : ''}.
          </>
        ) : state.phase === 'loading' || state.syncing ? (
          'Downloading the door list…'
        ) : (
          'No door list on this device yet: it downloads when the API can be reached.'
        )}
        {state.syncProblem && state.connection.mode === 'online' ? (
          <> Last update failed: {state.syncProblem}.</>
        ) : null}
      </p>
      {!state.canVerify ? (
        <p className="problem">
          This browser can’t check ticket signatures (no Ed25519 in WebCrypto): offline, only names
          and user ids typed can be checked.
        </p>
      ) : null}
    </section>
  );
}

const count = (n: number) => n.toLocaleString();

type Tone = 'ok' | 'warn' | 'bad' | 'idle';

/** How a result reads at the door: a word and a symbol as well as a colour. */
function verdictOf(scan: DoorScan | undefined): { tone: Tone; icon: string; verdict: string } {
  if (!scan) return { tone: 'idle', icon: '', verdict: 'Ready to scan' };
  const answer = scan.answer;
  if (!answer) {
    return scan.problem
      ? { tone: 'bad', icon: '✗', verdict: 'Refused by the API' }
      : { tone: 'warn', icon: '?', verdict: 'Can’t check now' };
  }
  switch (answer.result) {
    case 'admitted':
      return { tone: 'ok', icon: '✓', verdict: 'Admitted' };
    case 'exited':
      return { tone: 'ok', icon: '✓', verdict: 'Exit recorded' };
    case 'already_admitted':
      return { tone: 'warn', icon: '✗', verdict: 'Already admitted' };
    case 'not_inside':
      return { tone: 'warn', icon: '!', verdict: 'Not inside' };
    case 'revoked':
      return { tone: 'bad', icon: '✗', verdict: 'Ticket revoked' };
    case 'wrong_event':
      return { tone: 'bad', icon: '✗', verdict: 'Ticket for another event' };
    case 'unknown':
      return { tone: 'bad', icon: '✗', verdict: 'Not a valid ticket' };
  }
}

const nameOf = (answer: ScanAnswer | undefined, record: ScanRecord, list: DoorList | undefined) => {
  const listed = answer?.registrationId ? list?.tickets.get(answer.registrationId) : undefined;
  return answer?.userName ?? listed?.userName ?? answer?.userId ?? record.userId;
};

function detailOf(scan: DoorScan): string {
  const answer = scan.answer;
  const parts: string[] = [];
  if (answer?.result === 'already_admitted') {
    parts.push(
      `Admitted ${answer.admittedAt ? formatTime(answer.admittedAt) : 'before'}${
        answer.admittedBy ? ` at ${answer.admittedBy}` : ''
      }.`,
    );
  }
  if (answer?.result === 'revoked') parts.push('The registration was cancelled.');
  if (answer?.unlisted) {
    parts.push('A genuine ticket, newer than the door list: no name known yet.');
  }
  if (scan.problem) parts.push(scan.problem);
  if (!answer && !scan.problem) {
    parts.push('The API can’t be reached and this device has no door list to check against.');
  }
  const { record } = scan;
  if (scan.local && answer) {
    parts.push(
      record.state === 'queued'
        ? 'Checked on this device; uploads when online.'
        : record.server
          ? `Checked on this device; uploaded: the API says ${apiSays(record.server)}`
          : 'Checked on this device.',
    );
  }
  return parts.join(' ');
}

/** The API's answer to an uploaded scan, in words (the end of a sentence). */
function apiSays(answer: ScanAnswer): string {
  if (answer.result === 'admitted') return 'admitted.';
  if (answer.result === 'already_admitted') {
    return `already admitted${answer.admittedAt ? ` at ${formatTime(answer.admittedAt)}` : ''}${
      answer.admittedBy ? ` by ${answer.admittedBy}` : ''
    } (a conflict).`;
  }
  return `${RESULT_WORDS[answer.result]}.`;
}

function ScanResult(props: { readonly state: DoorState }) {
  const scan = props.state.last;
  const { tone, icon, verdict } = verdictOf(scan);
  const who = scan ? nameOf(scan.answer, scan.record, props.state.list) : undefined;
  return (
    <section aria-labelledby="door-result-heading" className={`door-result door-${tone}`}>
      <h2 id="door-result-heading" className="visually-hidden">
        Last scan
      </h2>
      <div aria-live="assertive" aria-atomic="true" data-testid="door-result" data-tone={tone}>
        <p className="door-verdict">
          {icon ? <span aria-hidden="true">{icon} </span> : null}
          {verdict}
        </p>
        {who ? <p className="door-who">{who}</p> : null}
        {scan ? <p className="door-detail">{detailOf(scan)}</p> : null}
      </div>
    </section>
  );
}

function ScanForm(props: {
  readonly station: DoorStation;
  readonly state: DoorState;
  readonly type: ScanType;
  readonly onTypeChange: (type: ScanType) => void;
}) {
  const { station, state, type } = props;
  const [query, setQuery] = useState('');
  const [hint, setHint] = useState<string>();
  const input = useRef<HTMLInputElement>(null);
  const list = state.list;
  const found = useMemo(
    () =>
      list && query.trim() !== '' && !looksLikeTicket(query)
        ? findAttendees(list, query)
        : undefined,
    [list, query],
  );

  const done = () => {
    setQuery('');
    setHint(undefined);
    if (input.current) input.current.value = '';
  };

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    const text = String(new FormData(submitted.currentTarget).get('scan') ?? '').trim();
    if (text === '') return;
    if (looksLikeTicket(text) || !list) {
      // Without a door list a typed text is taken as a user id (the API looks it up).
      void station.scan(looksLikeTicket(text) ? { ticket: text } : { userId: text }, type);
      done();
      return;
    }
    const matches = findAttendees(list, text);
    const [only] = matches.matches;
    const exact = matches.matches.find((t) => t.userId === text);
    if (exact || (only && matches.matches.length === 1)) {
      void station.scan({ userId: (exact ?? only)?.userId ?? text }, type);
      done();
    } else {
      setQuery(text);
      setHint(
        matches.matches.length === 0
          ? `Nobody on the door list matches “${text}”.`
          : `Several attendees match “${text}”: choose one below.`,
      );
    }
  };

  const choose = (ticket: ListedTicket) => {
    void station.scan({ userId: ticket.userId }, type);
    done();
    input.current?.focus();
  };

  return (
    <section aria-labelledby="door-scan-heading" className="door-scan">
      <h2 id="door-scan-heading">Check a ticket</h2>
      <form className="door-form" onSubmit={submit} noValidate>
        <fieldset className="door-type">
          <legend>Scanning</legend>
          {(['entry', 'exit'] as const).map((value) => (
            <label key={value} className="checkbox">
              <input
                type="radio"
                name="type"
                value={value}
                checked={type === value}
                onChange={() => props.onTypeChange(value)}
              />
              {value === 'entry' ? 'Entries' : 'Exits'}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="door-input">Ticket, name or user id</label>
          <div className="door-input-row">
            <input
              ref={input}
              id="door-input"
              name="scan"
              type="text"
              autoComplete="off"
              autoCapitalize="off"
              autoCorrect="off"
              spellCheck={false}
              enterKeyHint="go"
              aria-describedby="door-input-hint"
              onInput={(e) => {
                setQuery(e.currentTarget.value);
                setHint(undefined);
              }}
            />
            <button type="submit">Check</button>
          </div>
          <p id="door-input-hint" className="hint">
            Paste or type a ticket (a hand-held scanner types it too), or start typing a name.
          </p>
        </div>
      </form>
      <p className="door-hint" role="status">
        {hint}
      </p>
      {found && found.matches.length > 0 ? (
        <ul className="door-matches" aria-label={`Attendees matching “${query.trim()}”`}>
          {found.matches.map((ticket) => (
            <li key={ticket.registrationId}>
              <span>
                {ticket.userName ?? ticket.userId}{' '}
                <span className="muted small">({ticket.userId})</span>
              </span>
              <button
                type="button"
                className="small-button"
                onClick={() => choose(ticket)}
                aria-label={`${type === 'entry' ? 'Check in' : 'Check out'} ${ticket.userName ?? ticket.userId}`}
              >
                {type === 'entry' ? 'Check in' : 'Check out'}
              </button>
            </li>
          ))}
          {found.more ? <li className="muted small">More match: type more of the name.</li> : null}
        </ul>
      ) : null}
    </section>
  );
}

function Camera(props: { readonly station: DoorStation; readonly type: ScanType }) {
  const video = useRef<HTMLVideoElement>(null);
  // The camera's callback outlives renders: it reads the choice of entries or exits when it scans.
  const type = useRef(props.type);
  type.current = props.type;
  const camera = useRef<QrCamera>(undefined);
  const [status, setStatus] = useState<'off' | 'starting' | 'on'>('off');
  const [message, setMessage] = useState<string>();
  const { station } = props;

  const stop = useCallback(() => {
    camera.current?.stop();
    camera.current = undefined;
    setStatus('off');
  }, []);
  useEffect(() => stop, [stop]);

  const start = async () => {
    if (!video.current) return;
    setStatus('starting');
    setMessage(undefined);
    try {
      const { startQrCamera } = await import('../../lib/door-camera');
      camera.current = await startQrCamera(video.current, (text) => {
        void station.scan({ ticket: text }, type.current);
      });
      setStatus('on');
      setMessage('The camera is on: hold a ticket’s code in the frame.');
    } catch (error) {
      setStatus('off');
      setMessage(
        error instanceof DOMException && error.name === 'NotAllowedError'
          ? 'The camera was refused: allow it in the browser’s settings, or type tickets instead.'
          : 'No camera could be started: type tickets instead.',
      );
    }
  };

  return (
    <section aria-labelledby="door-camera-heading" className="door-camera">
      <h2 id="door-camera-heading">Camera</h2>
      {status === 'off' ? (
        <button type="button" onClick={() => void start()}>
          Start the camera
        </button>
      ) : (
        <button type="button" className="secondary" onClick={stop} disabled={status !== 'on'}>
          Stop the camera
        </button>
      )}
      <p className="muted small" role="status">
        {message}
      </p>
      <video
        ref={video}
        className={status === 'off' ? 'door-video door-video-off' : 'door-video'}
        aria-label="Camera view"
        muted
        playsInline
      />
    </section>
  );
}

function Conflicts(props: { readonly conflicts: readonly Conflict[]; readonly list?: DoorList }) {
  const { conflicts, list } = props;
  return (
    <section aria-labelledby="door-conflicts-heading" className="door-conflicts">
      <h2 id="door-conflicts-heading">
        Conflicts <span data-testid="door-conflict-count">{conflicts.length}</span>
      </h2>
      {conflicts.length === 0 ? (
        <p className="muted">
          None: every ticket this device admitted offline was admitted by the API too.
        </p>
      ) : (
        <ul className="door-list" aria-label="Conflicts, newest first">
          {conflicts.map(({ record, kind }) => {
            const answer = record.server;
            const who = nameOf(answer, record, list) ?? record.local?.registrationId;
            return (
              <li key={record.nonce}>
                <strong>{who}</strong>: admitted here offline at {formatTime(record.at)};{' '}
                {kind === 'admitted_elsewhere'
                  ? `the API says already admitted${
                      answer?.admittedAt ? ` at ${formatTime(answer.admittedAt)}` : ''
                    }${answer?.admittedBy ? ` by ${answer.admittedBy}` : ''}.`
                  : kind === 'revoked'
                    ? 'the API says the ticket was revoked.'
                    : 'the API says it is not a valid ticket.'}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

const RECENT = 10;

const RESULT_WORDS: Record<ScanAnswer['result'], string> = {
  admitted: 'admitted',
  already_admitted: 'already admitted',
  revoked: 'revoked',
  unknown: 'not valid',
  wrong_event: 'another event',
  exited: 'exit',
  not_inside: 'not inside',
};

function RecentScans(props: { readonly records: readonly ScanRecord[]; readonly list?: DoorList }) {
  const recent = props.records.slice(-RECENT).reverse();
  return (
    <section aria-labelledby="door-recent-heading">
      <h2 id="door-recent-heading">Recent scans</h2>
      {recent.length === 0 ? (
        <p className="muted">No scans yet on this device.</p>
      ) : (
        <ul className="door-list" aria-label="Recent scans, newest first">
          {recent.map((record) => {
            const answer = answerOf(record);
            return (
              <li key={record.nonce}>
                <time dateTime={record.at}>{formatTime(record.at)}</time>{' '}
                {nameOf(answer, record, props.list) ?? 'unreadable ticket'}:{' '}
                {answer ? RESULT_WORDS[answer.result] : 'not checked'}
                <span className="muted small">
                  {record.state === 'queued'
                    ? ' (checked here, waiting to upload)'
                    : record.state === 'refused'
                      ? ` (refused by the API: ${record.problem})`
                      : record.local
                        ? ' (uploaded)'
                        : ''}
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function DeviceSettings(props: {
  readonly station: DoorStation;
  readonly device: string;
  readonly onDeviceChange: (name: string) => void;
  readonly queued: number;
}) {
  const [message, setMessage] = useState<string>();
  const rename = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    const name = validDeviceName(String(new FormData(submitted.currentTarget).get('device')));
    if (!name) {
      setMessage('A device name is 1–64 letters, digits, spaces or . _ : -');
      return;
    }
    storeDeviceName(name);
    props.onDeviceChange(name);
    setMessage(`This device is now “${name}”.`);
  };
  return (
    <details className="door-device">
      <summary>This device: {props.device}</summary>
      <form className="door-device-form" onSubmit={rename} noValidate>
        <label htmlFor="door-device-name">Device name (shown as who admitted)</label>
        <input id="door-device-name" name="device" type="text" defaultValue={props.device} />
        <button type="submit" className="secondary">
          Rename
        </button>
      </form>
      <button
        type="button"
        className="secondary"
        disabled={props.queued > 0}
        onClick={() =>
          void props.station
            .forget()
            .then(() => setMessage('The door list and uploaded scans are removed.'))
        }
      >
        Remove this event’s data from this device
      </button>
      {props.queued > 0 ? (
        <p className="hint">Scans waiting to upload keep the data here until they are uploaded.</p>
      ) : null}
      <p role="status">{message}</p>
    </details>
  );
}
