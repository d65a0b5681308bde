/**
 * An operator of the console, signed in over HTTP as a browser or a script would: the password
 * step, TOTP enrolment (codes computed with otplib from the secret the enrolment shows), and
 * operator tokens from POST /auth/operator/token with a fresh code each time.
 *
 * A TOTP code is good once (its time step is spent), so `token()` takes the next step not yet spent
 * (the server accepts one step ahead) and, when a test asks faster than that, a recovery code.
 */
import crypto from 'node:crypto';
import { generate } from 'otplib';
import type { Clock } from '../../core/clock.js';
import { mintOperatorToken } from '../../core/tokens.js';
import { createAppManagementStore } from '../../subgraphs/app-management/store.js';
import { cookieHeaderOf, originOf, postJson } from './developer.js';
import type { GraphQLResponse, TestPlatform } from './platform.js';

const STEP_MS = 30_000;

export interface ConsoleSession {
  /** The Cookie header value: the session and CSRF cookies. */
  cookie: string;
  csrfToken: string;
}

export interface EnrolledOperator {
  email: string;
  password: string;
  /** The TOTP secret (base32) the enrolment showed. */
  secret: string;
  /** Recovery codes not yet used by this helper. */
  recoveryCodes: string[];
  /** The ACTIVE console session enrolment opened. */
  session: ConsoleSession;
  /** A code for the next time step not yet spent (or a recovery code's place: undefined). */
  nextCode(): Promise<{ code: string } | { recoveryCode: string }>;
  /** A fresh operator bearer token (1 hour). */
  token(): Promise<string>;
}

/** The code of a base32 TOTP secret at a time (ms). */
export const totpCode = (secret: string, atMs: number) => generate({ secret, epoch: Math.floor(atMs / 1000) });

/** GETs a path of the gateway with the console's cookies; the status and JSON body. */
export async function getJson(t: TestPlatform, path: string, cookie?: string) {
  const response = await fetch(`${originOf(t)}${path}`, { headers: cookie ? { cookie } : {} });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {}, headers: response.headers };
}

/** POSTs JSON with the console session's cookie and CSRF header. */
export const postWithSession = (t: TestPlatform, path: string, session: ConsoleSession, body: unknown) =>
  postJson(t, path, body, { cookie: session.cookie, 'x-csrf-token': session.csrfToken });

/** /graphql with the console session's cookie and CSRF header. */
export function consoleGraphQL(t: TestPlatform, session: ConsoleSession) {
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

/** The password step; throws unless it worked. The pending session and what comes next. */
export async function consolePasswordStep(t: TestPlatform, email: string, password: string): Promise<ConsoleSession & { next: string }> {
  const answer = await postJson(t, '/auth/operator/sign-in', { email, password });
  if (answer.status !== 200) throw new Error(`console sign-in answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return { cookie: cookieHeaderOf(answer.headers), csrfToken: answer.body.csrfToken, next: answer.body.next };
}

/**
 * Signs an operator in to the console for the first time and enrols TOTP (throws unless it worked).
 * `clock`: the platform's, when a test moves time (codes are computed for its now).
 */
export async function enrolOperator(t: TestPlatform, email: string, password: string, clock: Pick<Clock, 'now'> = { now: Date.now }): Promise<EnrolledOperator> {
  const pending = await consolePasswordStep(t, email, password);
  if (pending.next !== 'ENROL_TOTP') throw new Error(`expected enrolment, the sign-in said ${pending.next}`);
  const enrolment = await getJson(t, '/auth/operator/enrolment', pending.cookie);
  if (enrolment.status !== 200) throw new Error(`enrolment answered ${enrolment.status}: ${JSON.stringify(enrolment.body)}`);
  const secret = enrolment.body.secret as string;
  let lastStep = Math.floor(clock.now() / STEP_MS);
  const enrolled = await postWithSession(t, '/auth/operator/enrol', pending, { code: await totpCode(secret, lastStep * STEP_MS) });
  if (enrolled.status !== 200) throw new Error(`enrol answered ${enrolled.status}: ${JSON.stringify(enrolled.body)}`);
  const recoveryCodes = [...(enrolled.body.recoveryCodes as string[])];
  const operator: EnrolledOperator = {
    email,
    password,
    secret,
    recoveryCodes,
    session: { cookie: cookieHeaderOf(enrolled.headers), csrfToken: enrolled.body.csrfToken },
    async nextCode() {
      const current = Math.floor(clock.now() / STEP_MS);
      const step = Math.max(current, lastStep + 1);
      if (step > current + 1) return { recoveryCode: recoveryCodes.shift()! };
      lastStep = step;
      return { code: await totpCode(secret, step * STEP_MS) };
    },
    async token() {
      const answer = await postJson(t, '/auth/operator/token', { email, password, ...(await operator.nextCode()) });
      if (answer.status !== 200) throw new Error(`operator token answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return answer.body.access_token as string;
    },
  };
  return operator;
}

/** The operator each platform's minted test tokens stand for (created on first use). */
const testOperators = new WeakMap<TestPlatform, Promise<string>>();

/**
 * An operator bearer token minted directly, for tests of operator operations that test nothing of
 * the sign-in. It names a real operator: the gateway refuses a token of an unknown or disabled one.
 */
export async function mintTestOperatorToken(t: TestPlatform, options: { clock?: Clock; ttlSeconds?: number } = {}): Promise<string> {
  let operatorId = testOperators.get(t);
  if (!operatorId) {
    operatorId = createAppManagementStore(t.platform.database.db)
      .createOperator({ email: `test-operator-${crypto.randomUUID()}@portico.example`, name: 'Test Operator', password: crypto.randomBytes(18).toString('base64url') })
      .then((operator) => operator.id);
    testOperators.set(t, operatorId);
  }
  return mintOperatorToken(t.platform.keys, { issuer: t.platform.config.publicUrl, audience: t.platform.config.apiAudience, operatorId: await operatorId, ...options });
}
