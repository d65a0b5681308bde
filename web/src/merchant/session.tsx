/** The signed-in staff member and their merchant, for every page of the merchant page. */
import { createSession } from '../lib/session';
import { merchantAuth, type StaffSession } from './auth-api';

const staffSession = createSession<StaffSession>({ read: merchantAuth.session, signOut: merchantAuth.signOut });

export const StaffSessionProvider = staffSession.SessionProvider;
export const useStaffSession = staffSession.useSession;
export const RequireStaff = staffSession.RequireSession;
/** The merchant page's first session check, started by its entry. */
export const prefetchStaffSession = staffSession.prefetch;
