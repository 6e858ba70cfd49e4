import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import { type Api, createApi } from '../api/client';
import { type Credential, type SessionStore, sessionStore } from '../lib/session';

interface Session {
  readonly api: Api;
  readonly apiUrl: string;
  readonly credential: Credential | undefined;
  /** Why the last session ended, when the console ended it (a refused key, an expired token). */
  readonly endedBecause: string | undefined;
  signIn(credential: Credential): void;
  signOut(reason?: string): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function SessionProvider(props: {
  readonly apiUrl: string;
  readonly store?: SessionStore;
  readonly children: ReactNode;
}) {
  const queryClient = useQueryClient();
  const store = useMemo(() => props.store ?? sessionStore(window.sessionStorage), [props.store]);
  const [credential, setCredential] = useState(() => store.read());
  const [endedBecause, setEndedBecause] = useState<string>();

  const signOut = useCallback(
    (reason?: string) => {
      store.clear();
      setCredential(undefined);
      setEndedBecause(reason);
      // Nothing fetched with the old credential stays on screen or in memory.
      queryClient.clear();
    },
    [store, queryClient],
  );

  const api = useMemo(
    () =>
      createApi({
        baseUrl: props.apiUrl,
        credential: () => store.read(),
        onUnauthorized: () =>
          signOut('The API refused your credentials (they may have expired). Sign in again.'),
      }),
    [props.apiUrl, store, signOut],
  );

  const signIn = useCallback(
    (next: Credential) => {
      store.write(next);
      setEndedBecause(undefined);
      setCredential(next);
    },
    [store],
  );

  const value = useMemo(
    () => ({ api, apiUrl: props.apiUrl, credential, endedBecause, signIn, signOut }),
    [api, props.apiUrl, credential, endedBecause, signIn, signOut],
  );
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The API client (inside the signed-in console). */
export const useApi = (): Api => useSession().api;
