/**
 * The signed-in operator, for every page of the console. A session that has passed the password but
 * not the second factor is a session (the sign-in pages carry on with it) but lets no page in:
 * `RequireOperator` sends it to sign in.
 */
import type { ReactNode } from 'react';
import { createSession } from '../lib/session';
import { operatorAuth, sessionActive, type OperatorSession } from './auth-api';

const operatorSession = createSession<OperatorSession>({ read: operatorAuth.session, signOut: operatorAuth.signOut });

export const OperatorSessionProvider = operatorSession.SessionProvider;
export const useOperatorSession = operatorSession.useSession;
/** The console's first session check, started by its entry. */
export const prefetchOperatorSession = operatorSession.prefetch;

/** Renders its children for an operator past both factors; sends anyone else to sign in. */
export function RequireOperator({ children }: { children: ReactNode }) {
  return <operatorSession.RequireSession ready={sessionActive}>{children}</operatorSession.RequireSession>;
}
