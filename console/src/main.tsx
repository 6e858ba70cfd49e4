import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { parseConfig } from './lib/config';
import './styles.css';

/** Reads config.json (the API's URL; a deployment writes it), then starts the console. */
async function start(): Promise<void> {
  const base = import.meta.env.BASE_URL;
  const config = await fetch(`${base}config.json`, { cache: 'no-cache' })
    .then((response) => (response.ok ? response.json() : undefined))
    .catch(() => undefined);
  const root = document.getElementById('root');
  if (!root) throw new Error('index.html has no #root');
  createRoot(root).render(
    <StrictMode>
      <App
        apiUrl={parseConfig(config, window.location.origin).apiUrl}
        basename={base.replace(/\/$/, '')}
      />
    </StrictMode>,
  );
}

void start();
