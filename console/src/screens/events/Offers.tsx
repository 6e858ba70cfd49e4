import { useMutation } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link, useHref } from 'react-router';
import { unwrap } from '../../api/client';
import { useApi } from '../../auth/session';
import { ProblemMessage } from '../../components/ProblemMessage';
import { useNow } from '../../components/useNow';
import { offersRefreshDelay } from '../../lib/offers';
import { formatTime, relativeTime } from '../../lib/time';
import { offerPath, type Registration, useRefreshEvent, userPath } from './queries';

/**
 * The offers of an event (promotion by offer): those out, each holding a seat until its deadline,
 * with the attendee's link and the organiser's Accept and Decline; and those that ended without
 * a seat (lapsed or declined). The page refreshes itself at the next deadline and every half
 * minute while offers are out, since an attendee may answer at any moment.
 */
export function OffersOut(props: {
  readonly eventId: string;
  readonly offers: readonly Registration[];
  /** When the list was last fetched: the refresh timer starts again from each answer. */
  readonly fetchedAt: number;
  readonly onDone: (news: string) => void;
}) {
  const { eventId, offers } = props;
  const api = useApi();
  const refresh = useRefreshEvent();
  const now = useNow(30_000, { ticking: offers.length > 0 });

  const delay = offersRefreshDelay(
    offers.map((offer) => offer.offerExpiresAt ?? ''),
    props.fetchedAt,
  );
  const refreshAt = delay === undefined ? undefined : props.fetchedAt + delay;
  useEffect(() => {
    if (refreshAt === undefined) return;
    const timer = window.setTimeout(
      () => void refresh(eventId),
      Math.max(refreshAt - Date.now(), 0),
    );
    return () => window.clearTimeout(timer);
  }, [refreshAt, eventId, refresh]);

  const decide = useMutation({
    mutationFn: async ({ userId, action }: { userId: string; action: 'accept' | 'decline' }) => {
      const params = { params: { path: { eventId, userId } } };
      return (
        await unwrap(
          action === 'accept'
            ? api.POST('/events/{eventId}/registrations/{userId}/offer/accept', params)
            : api.POST('/events/{eventId}/registrations/{userId}/offer/decline', params),
        )
      ).data;
    },
    onSuccess: (registration, { action }) => {
      props.onDone(
        action === 'accept'
          ? `${registration.userId}’s offer is accepted: they are confirmed.`
          : `${registration.userId}’s offer is declined: the seat passes to the next in line.`,
      );
    },
    // A refusal (the offer lapsed or was answered meanwhile) means the list is out of date too.
    onSettled: () => void refresh(eventId),
  });

  return (
    <section aria-labelledby="offers-heading">
      <h2 id="offers-heading">Offers out ({offers.length})</h2>
      <ProblemMessage error={decide.error} />
      {offers.length === 0 ? <p className="muted">No seat is held for anyone.</p> : null}
      <ol className="registrations offers" aria-label="Offers out, first in line first">
        {offers.map((offer) => (
          <OfferRow
            key={offer.registrationId}
            offer={offer}
            now={now}
            busy={decide.isPending}
            onCopied={props.onDone}
            onAccept={() => decide.mutate({ userId: offer.userId, action: 'accept' })}
            onDecline={() => {
              if (
                window.confirm(
                  `Decline the seat offered to ${offer.userId}? It passes to the next in line.`,
                )
              ) {
                decide.mutate({ userId: offer.userId, action: 'decline' });
              }
            }}
          />
        ))}
      </ol>
    </section>
  );
}

function OfferRow(props: {
  readonly offer: Registration;
  readonly now: number;
  readonly busy: boolean;
  readonly onCopied: (news: string) => void;
  readonly onAccept: () => void;
  readonly onDecline: () => void;
}) {
  const { offer } = props;
  const href = useHref(offerPath(offer.offerToken ?? ''));
  const link = new URL(href, window.location.origin).href;
  const copy = () => {
    const failed = () =>
      props.onCopied(
        `The browser did not let the console copy ${offer.userId}’s link: open “Attendee page” and copy its address.`,
      );
    if (!navigator.clipboard) return failed();
    navigator.clipboard
      .writeText(link)
      .then(() => props.onCopied(`${offer.userId}’s offer link is copied.`), failed);
  };

  return (
    <li>
      <span className="who">
        <Link to={userPath(offer.userId)}>{offer.userId}</Link>
      </span>
      <span className="small">
        answer due{' '}
        <time dateTime={offer.offerExpiresAt}>
          {relativeTime(offer.offerExpiresAt ?? '', props.now)}
        </time>{' '}
        <span className="muted">({formatTime(offer.offerExpiresAt)})</span>
      </span>
      {offer.offerToken ? (
        <span className="row-actions">
          <a href={link} aria-label={`Attendee page of ${offer.userId}’s offer`}>
            Attendee page
          </a>
          <button
            type="button"
            className="secondary small-button"
            aria-label={`Copy link to ${offer.userId}’s offer`}
            onClick={copy}
          >
            Copy link
          </button>
        </span>
      ) : null}
      <span className="row-actions">
        <button
          type="button"
          className="small-button"
          aria-label={`Accept ${offer.userId}’s offer`}
          disabled={props.busy}
          onClick={props.onAccept}
        >
          Accept
        </button>
        <button
          type="button"
          className="secondary small-button"
          aria-label={`Decline ${offer.userId}’s offer`}
          disabled={props.busy}
          onClick={props.onDecline}
        >
          Decline
        </button>
      </span>
    </li>
  );
}

/** Offers that ended without a seat, with when: the seat went on to the next in line. */
export function EndedOffers(props: { readonly offers: readonly Registration[] }) {
  if (props.offers.length === 0) return null;
  return (
    <section aria-labelledby="ended-offers-heading">
      <h2 id="ended-offers-heading">Ended offers ({props.offers.length})</h2>
      <ul className="registrations" aria-label="Offers that lapsed or were declined">
        {props.offers.map((offer) => (
          <li key={offer.registrationId}>
            <span className="who">
              <Link to={userPath(offer.userId)}>{offer.userId}</Link>
              <span className={`badge badge-${offer.status}`}>{offer.status}</span>
            </span>
            <span className="muted small">
              {offer.status === 'declined' ? (
                <>
                  declined <time dateTime={offer.declinedAt}>{formatTime(offer.declinedAt)}</time>
                </>
              ) : (
                <>
                  lapsed{' '}
                  <time dateTime={offer.offerExpiresAt}>{formatTime(offer.offerExpiresAt)}</time>
                </>
              )}
              {offer.offeredAt ? ` · offered ${formatTime(offer.offeredAt)}` : null}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
