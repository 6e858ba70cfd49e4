import createClient from 'openapi-fetch';
import { type RefObject, useCallback, useEffect, useRef, useState } from 'react';
import { unwrap } from '../api/client';
import type { paths } from '../api/schema.gen';
import { ProblemMessage } from '../components/ProblemMessage';
import { useNow } from '../components/useNow';
import { clockOffsetOf, type OfferOutcome, offerOutcomeOf } from '../lib/offers';
import { type Problem, toProblem } from '../lib/problem';
import { durationText, formatEventDate } from '../lib/time';

/**
 * The page a person on a waitlist opens from the link of their offer (`/console/offers/<token>`):
 * the event, the deadline counting down, Accept and Decline. No sign-in: the token in the link is
 * the capability, sent in the path of the API's public `/offers/{token}` routes and nowhere else
 * (no storage, no credential header). It is its own small app (see main.tsx), with none of the
 * signed-in console's screens and no way into them.
 */

type Offer = paths['/offers/{token}']['get']['responses'][200]['content']['application/json'];
type Action = 'accept' | 'decline';
type Pending = Action | 'load' | undefined;

/** A time as a person reads it on this page: the day in words, the time to the minute. */
const formatWhen = (iso: string): string => {
  const at = new Date(iso);
  return Number.isNaN(at.getTime())
    ? iso
    : at.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });
};

/** Moves the focus to an element when it appears (a heading, so a screen reader reads it). */
function useFocusOnMount<T extends HTMLElement>(): RefObject<T | null> {
  const element = useRef<T>(null);
  useEffect(() => {
    element.current?.focus();
  }, []);
  return element;
}

function useDocumentTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Roster`;
  }, [title]);
}

export function OfferApp(props: { readonly apiUrl: string; readonly token: string }) {
  const { token } = props;
  const [api] = useState(() =>
    createClient<paths, `application/${string}json`>({ baseUrl: props.apiUrl }),
  );
  const [offer, setOffer] = useState<Offer>();
  /** What a refusal said when it leaves no offer to show (an unknown link) or adds to it. */
  const [refusal, setRefusal] = useState<'unknown' | 'closed'>();
  const [problem, setProblem] = useState<Problem>();
  const [pending, setPending] = useState<Pending>(token === '' ? undefined : 'load');
  const [confirmingDecline, setConfirmingDecline] = useState(false);
  /** What the last action led to, said once by the live region. */
  const [announcement, setAnnouncement] = useState('');
  const [clockOffset, setClockOffset] = useState(0);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      setPending('load');
      try {
        const { data, response } = await unwrap(
          api.GET('/offers/{token}', { params: { path: { token } }, signal }),
        );
        setClockOffset(clockOffsetOf(response.headers.get('date'), Date.now()));
        setOffer(data);
        setProblem(undefined);
      } catch (error) {
        if (signal?.aborted) return;
        const refused = toProblem(error);
        if (offerOutcomeOf(refused) === 'unknown') setRefusal('unknown');
        else setProblem(refused);
      }
      if (!signal?.aborted) setPending(undefined);
    },
    [api, token],
  );

  useEffect(() => {
    if (token === '') return;
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [token, load]);

  const act = async (action: Action) => {
    setPending(action);
    setProblem(undefined);
    try {
      const path = action === 'accept' ? '/offers/{token}/accept' : '/offers/{token}/decline';
      const { data } = await unwrap(api.POST(path, { params: { path: { token } } }));
      setOffer(data);
      setConfirmingDecline(false);
      setAnnouncement(
        action === 'accept'
          ? `Accepted: your seat at ${data.eventTitle} is confirmed.`
          : `Declined: the seat at ${data.eventTitle} goes to the next person on the waitlist.`,
      );
    } catch (error) {
      const refused = toProblem(error);
      const outcome = offerOutcomeOf(refused);
      setConfirmingDecline(false);
      if (!outcome) {
        setProblem(refused);
      } else {
        setAnnouncement(refusalAnnouncement(action, outcome));
        if (outcome === 'unknown' || outcome === 'closed') setRefusal(outcome);
        // Accepted or declined earlier, or lapsed: the offer as it is now, with its times.
        else return load();
      }
    }
    setPending(undefined);
  };

  const loading = pending === 'load' && !offer && !refusal;
  return (
    <>
      <header className="app-header">
        <span className="brand">Roster</span>
      </header>
      <main id="main" className="attendee">
        {/* For screen readers: the outcome below says the same on screen. */}
        <div className="visually-hidden" role="status">
          {announcement}
        </div>
        {loading ? <p className="muted">Loading your offer…</p> : null}
        <ProblemMessage problem={problem} />
        {problem && !offer && !loading ? (
          <button type="button" onClick={() => void load()}>
            Try again
          </button>
        ) : null}
        {token === '' || refusal === 'unknown' ? (
          <UnknownLink />
        ) : offer ? (
          <OfferView
            offer={offer}
            closed={refusal === 'closed'}
            clockOffset={clockOffset}
            pending={pending}
            confirmingDecline={confirmingDecline}
            onAccept={() => void act('accept')}
            onDecline={() => setConfirmingDecline(true)}
            onConfirmDecline={() => void act('decline')}
            onKeep={() => setConfirmingDecline(false)}
          />
        ) : null}
      </main>
    </>
  );
}

function refusalAnnouncement(action: Action, outcome: OfferOutcome): string {
  switch (outcome) {
    case 'expired':
      return 'This offer has lapsed: the seat went to the next person on the waitlist.';
    case 'declined':
      return 'This offer was declined earlier: the seat went to the next person on the waitlist.';
    case 'accepted':
      return 'This offer was already accepted: your seat is confirmed.';
    case 'closed':
      return action === 'accept'
        ? 'The event no longer takes registrations: the seat can’t be accepted.'
        : 'The event no longer takes registrations.';
    case 'unknown':
      return 'This link does not lead to an offer.';
  }
}

function UnknownLink() {
  useDocumentTitle('Offer not found');
  const heading = useFocusOnMount<HTMLHeadingElement>();
  return (
    <section className="offer-card" aria-labelledby="unknown-heading">
      <h1 id="unknown-heading" ref={heading} tabIndex={-1}>
        This link does not lead to an offer
      </h1>
      <p>
        Check that you opened the whole link from your message: a link that was cut short or changed
        leads nowhere, and so does one whose event was deleted. If it still fails, ask the
        organiser.
      </p>
    </section>
  );
}

interface OfferProps {
  readonly offer: Offer;
  readonly closed: boolean;
  readonly pending: Pending;
  readonly confirmingDecline: boolean;
  readonly onAccept: () => void;
  readonly onDecline: () => void;
  readonly onConfirmDecline: () => void;
  readonly onKeep: () => void;
}

function OfferView(props: OfferProps & { readonly clockOffset: number }) {
  const { offer } = props;
  const deadline = Date.parse(offer.offerExpiresAt);
  // By the API's clock, so the countdown ends when the offer does even on a phone whose clock is off.
  const now = useNow(1_000, { offset: props.clockOffset, ticking: offer.status === 'offered' });
  // Past the deadline the API refuses an accept (410) whether or not its timer has run yet.
  const status = offer.status === 'offered' && now >= deadline ? 'expired' : offer.status;
  const heading = useFocusOnMount<HTMLHeadingElement>();
  useDocumentTitle(status === 'offered' ? `A seat for you: ${offer.eventTitle}` : offer.eventTitle);

  return (
    <article className="offer-card" aria-labelledby="offer-heading">
      <p className="eyebrow">Waitlist offer</p>
      <h1 id="offer-heading" ref={heading} tabIndex={-1}>
        {offer.eventTitle}
      </h1>
      <dl className="offer-facts">
        <div>
          <dt>When</dt>
          <dd>{formatEventDate(offer.eventDate)}</dd>
        </div>
        <div>
          <dt>Where</dt>
          <dd>{offer.eventLocation}</dd>
        </div>
      </dl>
      {status === 'offered' ? (
        <OpenOffer {...props} left={deadline - now} />
      ) : (
        <Outcome offer={offer} status={status} />
      )}
    </article>
  );
}

function OpenOffer(props: OfferProps & { readonly left: number }) {
  const { offer } = props;
  const busy = props.pending !== undefined;
  const declineButton = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);
  // "Keep the offer" hands the focus back to Decline.
  useEffect(() => {
    if (wasConfirming.current && !props.confirmingDecline) declineButton.current?.focus();
    wasConfirming.current = props.confirmingDecline;
  }, [props.confirmingDecline]);

  return (
    <>
      <p>
        A seat has freed up and it is held for you. Accept it to be confirmed, or decline it so the
        next person on the waitlist gets it.
      </p>
      <section className="deadline" aria-labelledby="deadline-heading">
        <h2 id="deadline-heading">Answer by</h2>
        <p className="deadline-time">
          <time dateTime={offer.offerExpiresAt}>{formatWhen(offer.offerExpiresAt)}</time>
        </p>
        {/* A timer is not read out as it changes: every second would drown everything else. */}
        <p className="countdown" role="timer">
          {durationText(props.left)} left
        </p>
      </section>
      {props.closed ? <ClosedNotice /> : null}
      {props.confirmingDecline ? (
        <ConfirmDecline {...props} busy={busy} />
      ) : (
        <div className="offer-actions">
          {props.closed ? null : (
            <button type="button" disabled={busy} onClick={props.onAccept}>
              {props.pending === 'accept' ? 'Accepting…' : 'Accept the seat'}
            </button>
          )}
          <button
            ref={declineButton}
            type="button"
            className="secondary"
            disabled={busy}
            onClick={props.onDecline}
          >
            Decline
          </button>
        </div>
      )}
    </>
  );
}

function ClosedNotice() {
  // It replaces the Accept button, which had the focus.
  const notice = useFocusOnMount<HTMLParagraphElement>();
  return (
    <p className="notice" ref={notice} tabIndex={-1}>
      The event no longer takes registrations, so the seat can’t be accepted. You can still decline
      it.
    </p>
  );
}

function ConfirmDecline(props: OfferProps & { readonly busy: boolean }) {
  const question = useFocusOnMount<HTMLHeadingElement>();
  return (
    <section className="confirm-decline" aria-labelledby="decline-question">
      <h2 id="decline-question" ref={question} tabIndex={-1}>
        Decline your seat?
      </h2>
      <p>The seat goes to the next person on the waitlist at once, and you can’t take it back.</p>
      <div className="offer-actions">
        <button
          type="button"
          className="danger"
          disabled={props.busy}
          onClick={props.onConfirmDecline}
        >
          {props.pending === 'decline' ? 'Declining…' : 'Yes, decline my seat'}
        </button>
        <button type="button" className="secondary" disabled={props.busy} onClick={props.onKeep}>
          Keep the offer
        </button>
      </div>
    </section>
  );
}

function Outcome(props: {
  readonly offer: Offer;
  readonly status: Exclude<Offer['status'], 'offered'>;
}) {
  const { offer } = props;
  // Shown after an action, or when the page opens on a decided offer: either way its heading
  // is where the reader continues (on opening, the event's title took the focus first).
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const decided = offer.decidedAt ? formatWhen(offer.decidedAt) : undefined;
  const text = {
    accepted: {
      title: 'You’re in: your seat is confirmed',
      body: decided ? `You accepted the offer on ${decided}.` : 'You accepted the offer.',
    },
    declined: {
      title: 'You declined this seat',
      body: `${decided ? `You declined it on ${decided}. ` : ''}The seat went to the next person on the waitlist.`,
    },
    expired: {
      title: 'This offer has lapsed',
      body: `Nobody answered by ${formatWhen(offer.offerExpiresAt)}, so the seat went to the next person on the waitlist.`,
    },
  }[props.status];
  return (
    <section className={`outcome outcome-${props.status}`} aria-labelledby="outcome-heading">
      <h2 id="outcome-heading" ref={heading} tabIndex={-1}>
        {text.title}
      </h2>
      <p>{text.body}</p>
    </section>
  );
}
