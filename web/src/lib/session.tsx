/**
 * The signed-in developer, for every page: read once from /auth/developer/session when the portal
 * loads, replaced on sign-in, cleared on sign-out or when the API says the session is gone. Pages behind `RequireSession` send a visitor
 * without a session to the sign-in page and back where they were going.
 */
import { Center, Loader } from '@mantine/core';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { authApi, type Session } from './auth-api';
import { SESSION_ENDED_EVENT } from './graphql';

export interface SessionState {
  /** Undefined while the portal asks the platform; null without a session. */
  session: Session | null | undefined;
  /** The session endpoint's failure (the platform unreachable), if any. */
  error: unknown;
  signIn(email: string, password: string): Promise<Session>;
  signOut(): Promise<void>;
  reload(): Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

// Asked as soon as the portal's code runs, beside React's first render and the page's own chunk.
let firstAnswer: Promise<Session | null> | undefined = authApi.session();

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<unknown>();
  const reload = useCallback(async () => {
    const answer = firstAnswer ?? authApi.session();
    firstAnswer = undefined;
    try {
      setSession(await answer);
      setError(undefined);
    } catch (failure) {
      setError(failure);
      setSession(null);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  useEffect(() => {
    const ended = () => setSession(null);
    window.addEventListener(SESSION_ENDED_EVENT, ended);
    return () => window.removeEventListener(SESSION_ENDED_EVENT, ended);
  }, []);
  const value = useMemo<SessionState>(
    () => ({
      session,
      error,
      reload,
      signIn: async (email, password) => {
        const signedIn = await authApi.signIn(email, password);
        setSession(signedIn);
        return signedIn;
      },
      signOut: async () => {
        try {
          await authApi.signOut();
        } finally {
          setSession(null);
        }
      },
    }),
    [session, error, reload],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside SessionProvider');
  return state;
}

export function PageLoader({ label = 'Loading' }: { label?: string }) {
  return (
    <Center mih={200} role="status" aria-live="polite">
      <Loader aria-label={label} />
    </Center>
  );
}

/** Renders its children for a signed-in developer; sends anyone else to sign in. */
export function RequireSession({ children }: { children: ReactNode }) {
  const { session } = useSession();
  const location = useLocation();
  if (session === undefined) return <PageLoader label="Checking your session" />;
  if (session === null) return <Navigate to={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return <>{children}</>;
}
