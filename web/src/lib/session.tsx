/**
 * The signed-in person of a front end, for every page: read once from its session endpoint when
 * the page loads, replaced on sign-in, cleared on sign-out or when the API says the session is
 * gone. Pages behind `RequireSession` send a visitor without a session to the front end's sign-in
 * route and back where they were going.
 *
 * `createSession` makes the provider, hook and guard for one kind of session (the developer's, the
 * operator's, the merchant staff's); the portal's developer session is made here, the others beside
 * their front ends.
 */
import { Center, Loader, VisuallyHidden } from '@mantine/core';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { authApi, type Session } from './auth-api';
import { frontEnd } from './front-end';
import { SESSION_ENDED_EVENT } from './graphql';

/** Where a front end's session comes from and how it ends. */
export interface SessionSource<S> {
  /** The session, or null without one. */
  read(): Promise<S | null>;
  signOut(): Promise<void>;
}

export interface SessionState<S> {
  /** Undefined while the page asks the platform; null without a session. */
  session: S | null | undefined;
  /** The session endpoint's failure (the platform unreachable), if any. */
  error: unknown;
  /** Replaces the session (after a sign-in step answered it). */
  setSession(session: S | null): void;
  signOut(): Promise<void>;
  reload(): Promise<void>;
}

/** A loader that says what is loading: the words are for screen readers (a Loader is a <span>, which may not carry a label). */
export function PageLoader({ label = 'Loading' }: { label?: string }) {
  return (
    <Center mih={200} role="status" aria-live="polite">
      <Loader />
      <VisuallyHidden>{label}</VisuallyHidden>
    </Center>
  );
}

export function createSession<S>(source: SessionSource<S>) {
  const Context = createContext<SessionState<S> | null>(null);
  let firstAnswer: Promise<S | null> | undefined;

  /** Asks the platform now: the entry calls it before React's first render, so it runs beside the page's chunk. */
  const prefetch = () => {
    firstAnswer ??= source.read();
    // Read (or failed) by the provider; never an unhandled rejection meanwhile.
    firstAnswer.catch(() => undefined);
  };

  function SessionProvider({ children }: { children: ReactNode }) {
    const [session, setSession] = useState<S | null | undefined>(undefined);
    const [error, setError] = useState<unknown>();
    const reload = useCallback(async () => {
      const answer = firstAnswer ?? source.read();
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
    const value = useMemo<SessionState<S>>(
      () => ({
        session,
        error,
        reload,
        setSession,
        signOut: async () => {
          try {
            await source.signOut();
          } finally {
            setSession(null);
          }
        },
      }),
      [session, error, reload],
    );
    return <Context.Provider value={value}>{children}</Context.Provider>;
  }

  function useSessionState(): SessionState<S> {
    const state = useContext(Context);
    if (!state) throw new Error('useSession outside its SessionProvider');
    return state;
  }

  /** Renders its children when `ready` holds for the session (by default: there is one); sends anyone else to sign in. */
  function RequireSession({ children, ready = (s: S) => Boolean(s) }: { children: ReactNode; ready?: (session: S) => boolean }) {
    const { session } = useSessionState();
    const location = useLocation();
    if (session === undefined) return <PageLoader label="Checking your session" />;
    if (session === null || !ready(session)) return <Navigate to={`${frontEnd().signInRoute}?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
    return <>{children}</>;
  }

  return { prefetch, SessionProvider, useSession: useSessionState, RequireSession };
}

// The developer portal's session.
const developerSession = createSession<Session>({ read: authApi.session, signOut: authApi.signOut });

export const SessionProvider = developerSession.SessionProvider;
export const RequireSession = developerSession.RequireSession;
/** The portal's first session check, started by its entry. */
export const prefetchDeveloperSession = developerSession.prefetch;

/** The signed-in developer (undefined while asked, null without a session), and signing in and out. */
export function useSession() {
  const state = developerSession.useSession();
  return {
    ...state,
    signIn: async (email: string, password: string): Promise<Session> => {
      const signedIn = await authApi.signIn(email, password);
      state.setSession(signedIn);
      return signedIn;
    },
  };
}
