import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { BrowserRouter } from 'react-router';
import { SessionProvider } from '../auth/session';
import { isTransient, toProblem } from '../lib/problem';
import { Shell } from './Shell';

/**
 * Server state lives in TanStack Query: cached per screen, refetched after a change (each
 * mutation invalidates what it touched) and when the tab regains focus; reads are retried only
 * when the API or the network was unavailable, never for an answer that would not change.
 */
function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        retry: (failures, error) => failures < 2 && isTransient(toProblem(error)),
      },
    },
  });
}

export function App(props: { readonly apiUrl: string; readonly basename: string }) {
  const [queryClient] = useState(createQueryClient);
  return (
    <QueryClientProvider client={queryClient}>
      <SessionProvider apiUrl={props.apiUrl}>
        <BrowserRouter basename={props.basename}>
          <Shell />
        </BrowserRouter>
      </SessionProvider>
    </QueryClientProvider>
  );
}
