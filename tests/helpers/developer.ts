/**
 * A developer of the portal, signed up, verified and signed in over HTTP, as a browser would:
 * `signUpDeveloper(t)` and then `dev.gql(query)` with the session cookie and the CSRF header.
 *
 * The verification link comes from the local mailbox (the platform runs without SMTP_URL in tests)
 * unless `readMail` says where else to find it (an in-process SMTP server).
 */
import crypto from 'node:crypto';
import { desc, eq } from 'drizzle-orm';
import { localMailbox } from '../../subgraphs/app-management/tables.js';
import type { GraphQLResponse, TestPlatform } from './platform.js';

export interface DeveloperInput {
  email?: string;
  password?: string;
  name?: string;
  kind?: 'INDIVIDUAL' | 'COMPANY';
  companyName?: string | null;
}

export interface PortalSession {
  /** The Cookie header value: the session and CSRF cookies. */
  cookie: string;
  csrfToken: string;
}

export interface SignedUpDeveloper {
  developerId: string;
  email: string;
  password: string;
  session: PortalSession;
  /** POSTs to /graphql with the session cookie and the CSRF header. */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
}

/** The gateway's origin (t.url is its /graphql). */
export const originOf = (t: TestPlatform) => new URL(t.url).origin;

/** POSTs JSON to a path of the gateway; the answer's status, JSON body and headers. */
export async function postJson(t: TestPlatform, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${originOf(t)}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {}, headers: response.headers };
}

/** The cookies a response sets, as one Cookie header value. */
export function cookieHeaderOf(headers: Headers): string {
  return headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .join('; ');
}

/** The text of the newest message of the local mailbox to `email`, or undefined. */
export async function latestLocalMail(t: TestPlatform, email: string, subjectPart?: string): Promise<string | undefined> {
  const rows = await t.platform.database.db.select().from(localMailbox).where(eq(localMailbox.to, email)).orderBy(desc(localMailbox.id)).limit(20);
  return rows.find((row) => !subjectPart || row.subject.includes(subjectPart))?.text;
}

/** The one-time token of the first link to `/portal/<page>` in an email's text. */
export function tokenOfLink(text: string, page: 'verify' | 'reset-password'): string {
  const match = new RegExp(`/portal/${page}\\?token=([A-Za-z0-9_%-]+)`).exec(text);
  if (!match) throw new Error(`no /portal/${page} link in: ${text}`);
  return decodeURIComponent(match[1]!);
}

export function portalGraphQL(t: TestPlatform, session: PortalSession) {
  return async <T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> => {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: GraphQLResponse['errors'] };
    return { status: response.status, headers: response.headers, ...body };
  };
}

/** Signs in over HTTP; throws unless it worked. */
export async function signInDeveloper(t: TestPlatform, email: string, password: string): Promise<PortalSession> {
  const signedIn = await postJson(t, '/auth/developer/sign-in', { email, password });
  if (signedIn.status !== 200) throw new Error(`sign-in answered ${signedIn.status}: ${JSON.stringify(signedIn.body)}`);
  return { cookie: cookieHeaderOf(signedIn.headers), csrfToken: signedIn.body.csrfToken };
}

export async function signUpDeveloper(
  t: TestPlatform,
  input: DeveloperInput = {},
  options: { readMail?: (email: string) => Promise<string> } = {},
): Promise<SignedUpDeveloper> {
  const email = input.email ?? `dev-${crypto.randomUUID()}@example.com`;
  const password = input.password ?? `pw-${crypto.randomBytes(12).toString('base64url')}`;
  const kind = input.kind ?? 'COMPANY';
  const signedUp = await postJson(t, '/auth/developer/sign-up', {
    email,
    password,
    name: input.name ?? 'Ada Developer',
    kind,
    ...(kind === 'COMPANY' ? { companyName: input.companyName ?? 'Ada ISV Ltd.' } : {}),
  });
  if (signedUp.status !== 201) throw new Error(`sign-up answered ${signedUp.status}: ${JSON.stringify(signedUp.body)}`);
  const mail = options.readMail ? await options.readMail(email) : await latestLocalMail(t, email, 'Verify');
  if (!mail) throw new Error(`no verification email to ${email}`);
  const verified = await postJson(t, '/auth/developer/verify', { token: tokenOfLink(mail, 'verify') });
  if (verified.status !== 200) throw new Error(`verify answered ${verified.status}: ${JSON.stringify(verified.body)}`);
  const session = await signInDeveloper(t, email, password);
  return { developerId: signedUp.body.developerId, email, password, session, gql: portalGraphQL(t, session) };
}

