import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { parseConfig } from './lib/config';
import { offerTokenOf } from './lib/offers';
import './styles.css';

/**
 * Reads config.json (the API's URL; a deployment writes it), then starts the console, or the
 * attendee page when the path is an offer's link (`offers/<token>`). Each is loaded on demand:
 * someone answering an offer on a phone downloads React and that page, not the signed-in
 * console's screens, router and query cache.
 */
async function start(): Promise<void> {
  const base = import.meta.env.BASE_URL;
  const token = offerTokenOf(window.location.pathname, base);
  const [config, screen] = await Promise.all([
    fetch(`${base}config.json`, { cache: 'no-cache' })
      .then((response) => (response.ok ? response.json() : undefined))
      .catch(() => undefined),
    token === undefined
      ? import('./app/App').then(({ App }) => (apiUrl: string) => (
          <App apiUrl={apiUrl} basename={base.replace(/\/$/, '')} />
        ))
      : import('./attendee/OfferApp').then(({ OfferApp }) => (apiUrl: string) => (
          <OfferApp apiUrl={apiUrl} token={token} />
        )),
  ]);
  const root = document.getElementById('root');
  if (!root) throw new Error('index.html has no #root');
  createRoot(root).render(
    <StrictMode>{screen(parseConfig(config, window.location.origin).apiUrl)}</StrictMode>,
  );
}

void start();
