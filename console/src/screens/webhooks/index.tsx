import type { ConsoleSection } from '../../app/section';
import { EndpointPage } from './EndpointPage';
import { NewWebhook } from './NewWebhook';
import { WebhooksList } from './WebhooksList';
import './webhooks.css';

/** The webhooks module: endpoints, their secrets (shown once), delivery log and replays. */
export const webhooksSection: ConsoleSection = {
  requires: 'POST /webhooks',
  links: [{ to: '/webhooks', label: 'Webhooks' }],
  routes: [
    { path: 'webhooks', element: <WebhooksList /> },
    { path: 'webhooks/new', element: <NewWebhook /> },
    { path: 'webhooks/:id', element: <EndpointPage /> },
  ],
};
