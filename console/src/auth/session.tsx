import { useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from 'react';
import { type Api, createApi } from '../api/client';
import {
  type Credential,
  methodOf,
  msUntilExpiry,
  type SessionStore,
  type SignInMethod,
  sessionEndReason,
  sessionStore,
  TOKEN_EXPIRED_MESSAGE,
} from '../lib/session';

interface Session {
  readonly api: Api;
  readonly apiUrl: string;
  readonly credential: Credential | undefined;
  /** Why the last session ended, when the console ended it (a refused key, an expired token). */
  readonly endedBecause: string | undefined;
  /** The sign-in method to offer first: the one of the session that ended, or one a screen asked for. */
  readonly suggestedMethod: SignInMethod | undefined;
  signIn(credential: Credential): void;
  signOut(reason?: string, suggestedMethod?: SignInMethod): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

/** setTimeout's longest delay (about 24.8 days); a later expiry is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function SessionProvider(props: {
  readonly apiUrl: string;
  readonly store?: SessionStore;
  readonly children: ReactNode;
}) {
  const queryClient = useQueryClient();
  const store = useMemo(() => props.store ?? sessionStore(window.sessionStorage), [props.store]);
  const [credential, setCredential] = useState(() => store.read());
  const [endedBecause, setEndedBecause] = useState<string>();
  const [suggestedMethod, setSuggestedMethod] = useState<SignInMethod>();

  const signOut = useCallback(
    (reason?: string, method?: SignInMethod) => {
      store.clear();
      setCredential(undefined);
      setEndedBecause(reason);
      setSuggestedMethod(method);
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
        onUnauthorized: (refused, problem) => {
          const reason = sessionEndReason(refused, problem);
          if (reason) signOut(reason, methodOf(refused));
        },
      }),
    [props.apiUrl, store, signOut],
  );

  // A token is dropped when it expires, before a request is refused with it.
  useEffect(() => {
    if (!credential) return;
    const delay = msUntilExpiry(credential, Date.now());
    if (delay === undefined) return;
    const timer = window.setTimeout(
      () => {
        const still = store.read();
        if (still) setCredential(still);
        else signOut(TOKEN_EXPIRED_MESSAGE, 'password');
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    return () => window.clearTimeout(timer);
  }, [credential, store, signOut]);

  const signIn = useCallback(
    (next: Credential) => {
      store.write(next);
      setEndedBecause(undefined);
      setCredential(next);
    },
    [store],
  );

  const value = useMemo(
    () => ({
      api,
      apiUrl: props.apiUrl,
      credential,
      endedBecause,
      suggestedMethod,
      signIn,
      signOut,
    }),
    [api, props.apiUrl, credential, endedBecause, suggestedMethod, signIn, signOut],
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
