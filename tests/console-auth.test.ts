/**
 * Operators' sign-in to the console: password, then TOTP (enrolled on the first sign-in) or a
 * recovery code; console sessions (cookies, CSRF, two hours) and the operator token for scripts.
 * Real HTTP against a real database; codes computed with otplib from the secret the enrolment shows.
 */
import crypto from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { SESSION_CACHE_MS } from '../gateway/sessions/cookie-sessions.js';
import { createConsoleSessions } from '../gateway/console-auth/session.js';
import { MAX_FAILED_SIGN_INS } from '../core/password-sign-in.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { createOperatorConsole } from '../subgraphs/app-management/operator-sessions.js';
import { auditLog, operators } from '../subgraphs/app-management/tables.js';
import { adjustableClock } from './helpers/clock.js';
import { cookieHeaderOf, postJson, signUpDeveloper } from './helpers/developer.js';
import { consoleGraphQL, consolePasswordStep, enrolOperator, getJson, postWithSession, totpCode, type ConsoleSession } from './helpers/operator.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
const clock = adjustableClock();
let store: ReturnType<typeof createAppManagementStore>;
const password = 'a long operator password';
const VIEWER = '{ viewerOperator { id name email totpEnrolledAt recoveryCodesLeft } }';

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  store = createAppManagementStore(t.platform.database.db);
});
afterAll(() => t?.stop());

/** A new operator (not enrolled) with a unique email. */
async function newOperator(name = 'Olga Ops') {
  const email = `ops-${crypto.randomBytes(4).toString('hex')}@portico.example`;
  const row = await store.createOperator({ email, name, password });
  return { id: row.id, email };
}

const operatorRow = async (id: string) => (await t.platform.database.db.select().from(operators).where(eq(operators.id, id)))[0]!;
const auditOf = (id: string) => t.platform.database.db.select().from(auditLog).where(and(eq(auditLog.targetType, 'operator'), eq(auditLog.targetId, id)));
const cookieLines = (headers: Headers) => headers.getSetCookie();
const currentCode = (secret: string) => totpCode(secret, clock.now());

describe('first sign-in enrols TOTP', () => {
  test('password, then a QR code and the secret, then the first code: ACTIVE, with 10 recovery codes shown once', async () => {
    const { id, email } = await newOperator();
    const signIn = await postJson(t, '/auth/operator/sign-in', { email: email.toUpperCase(), password });
    expect(signIn.status).toBe(200);
    expect(signIn.headers.get('cache-control')).toBe('no-store');
    expect(signIn.body).toEqual({ next: 'ENROL_TOTP', csrfToken: expect.any(String) });
    // The pending session's cookies live 5 minutes; the session one is HttpOnly, the CSRF one readable by the page.
    const [sessionCookie, csrfCookie] = cookieLines(signIn.headers);
    expect(sessionCookie).toMatch(/^portico_console=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=300; SameSite=Lax; HttpOnly$/);
    expect(csrfCookie).toBe(`portico_console_csrf=${signIn.body.csrfToken}; Path=/; Max-Age=300; SameSite=Lax`);
    const pending: ConsoleSession = { cookie: cookieHeaderOf(signIn.headers), csrfToken: signIn.body.csrfToken };

    const session = await getJson(t, '/auth/operator/session', pending.cookie);
    expect(session.body).toMatchObject({ operator: { id, email, name: 'Olga Ops' }, stage: 'PENDING_SECOND_FACTOR', next: 'ENROL_TOTP', csrfToken: pending.csrfToken });

    const enrolment = await getJson(t, '/auth/operator/enrolment', pending.cookie);
    expect(enrolment.status).toBe(200);
    expect(enrolment.headers.get('cache-control')).toBe('no-store');
    const { secret, otpauthUri, qrCode } = enrolment.body as { secret: string; otpauthUri: string; qrCode: string };
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/Portico:/);
    expect(new URL(otpauthUri).searchParams.get('secret')).toBe(secret);
    expect(new URL(otpauthUri).searchParams.get('issuer')).toBe('Portico');
    // A PNG image of the URI (its signature after the base64 prefix).
    expect(qrCode).toMatch(/^data:image\/png;base64,/);
    expect(Buffer.from(qrCode.slice('data:image/png;base64,'.length), 'base64').subarray(1, 4).toString()).toBe('PNG');
    // Asked again (a reloaded page), the same session gets the same secret.
    expect((await getJson(t, '/auth/operator/enrolment', pending.cookie)).body.secret).toBe(secret);
    // Kept sealed, never in plaintext.
    const sealed = (await operatorRow(id)).totpSecretSealed!;
    expect(sealed).toBeTruthy();
    expect(sealed).not.toContain(secret);

    // The enrol step needs the CSRF header; a wrong code is refused and counted.
    expect((await postJson(t, '/auth/operator/enrol', { code: '000000' }, { cookie: pending.cookie })).status).toBe(403);
    const wrongCode = (await currentCode(secret)) === '123456' ? '654321' : '123456';
    const wrong = await postWithSession(t, '/auth/operator/enrol', pending, { code: wrongCode });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_code');
    expect((await operatorRow(id)).failedSignIns).toBe(1);

    const enrolled = await postWithSession(t, '/auth/operator/enrol', pending, { code: await currentCode(secret) });
    expect(enrolled.status).toBe(200);
    expect(enrolled.body).toEqual({ operator: { id, name: 'Olga Ops', email }, csrfToken: expect.any(String), recoveryCodes: expect.any(Array) });
    const recoveryCodes = enrolled.body.recoveryCodes as string[];
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[0-9a-z]{5}-[0-9a-z]{5}$/);
    // A fresh session token: the pending one is worth nothing now.
    const active: ConsoleSession = { cookie: cookieHeaderOf(enrolled.headers), csrfToken: enrolled.body.csrfToken };
    expect(active.cookie).not.toBe(pending.cookie);
    expect(cookieLines(enrolled.headers)[0]).toMatch(/; Max-Age=7200; SameSite=Lax; HttpOnly$/);
    expect((await getJson(t, '/auth/operator/session', pending.cookie)).status).toBe(401);
    const activeSession = await getJson(t, '/auth/operator/session', active.cookie);
    expect(activeSession.body).toMatchObject({ stage: 'ACTIVE', operator: { id } });
    expect(activeSession.body.next).toBeUndefined();
    expect((await getJson(t, '/auth/operator/enrolment', active.cookie)).status).toBe(409);
    expect(Date.parse(activeSession.body.expiresAt) - clock.now()).toBeGreaterThan(2 * 3_600_000 - 60_000);
    expect(Date.parse(activeSession.body.expiresAt) - clock.now()).toBeLessThanOrEqual(2 * 3_600_000);

    // Only the codes' SHA-256 are kept; nothing shows them again.
    const row = await operatorRow(id);
    expect(row.failedSignIns).toBe(0);
    expect([...row.recoveryCodeHashes].sort()).toEqual(recoveryCodes.map((c) => crypto.createHash('sha256').update(c.replace('-', '')).digest('hex')).sort());
    expect(JSON.stringify(row)).not.toContain(recoveryCodes[0]!.slice(0, 5));
    expect(JSON.stringify(activeSession.body)).not.toContain(recoveryCodes[0]!);

    const viewer = await consoleGraphQL(t, active)(VIEWER);
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data!.viewerOperator).toEqual({ id, name: 'Olga Ops', email, totpEnrolledAt: expect.any(String), recoveryCodesLeft: 10 });

    // Enrolled: the next sign-in asks for a code, and enrolment is over.
    const again = await consolePasswordStep(t, email, password);
    expect(again.next).toBe('TOTP');
    expect((await getJson(t, '/auth/operator/enrolment', again.cookie)).status).toBe(409);
    expect((await postWithSession(t, '/auth/operator/enrol', again, { code: await currentCode(secret) })).status).toBe(409);
    // Without a session at all.
    expect((await getJson(t, '/auth/operator/enrolment')).status).toBe(401);
  });

  test('a secret shown to another sign-in is not the one enrolled: only the session that saw it can finish with it', async () => {
    const { email } = await newOperator();
    const first = await consolePasswordStep(t, email, password);
    const firstSecret = (await getJson(t, '/auth/operator/enrolment', first.cookie)).body.secret as string;
    const second = await consolePasswordStep(t, email, password);
    const secondSecret = (await getJson(t, '/auth/operator/enrolment', second.cookie)).body.secret as string;
    expect(secondSecret).not.toBe(firstSecret);
    const stale = await postWithSession(t, '/auth/operator/enrol', first, { code: await currentCode(firstSecret) });
    expect(stale.status).toBe(400);
    const enrolled = await postWithSession(t, '/auth/operator/enrol', second, { code: await currentCode(secondSecret) });
    expect(enrolled.status).toBe(200);
  });
});

describe('the code step', () => {
  test('a TOTP code is good once; each recovery code signs in once in its place', async () => {
    const operator = await enrolOperator(t, (await newOperator()).email, password, clock);
    // The step after the one enrolment spent.
    const code = await totpCode(operator.secret, clock.now() + 30_000);
    const first = await consolePasswordStep(t, operator.email, password);
    expect(first.next).toBe('TOTP');
    const verified = await postWithSession(t, '/auth/operator/verify', first, { code });
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({ operator: { id: expect.any(String), name: 'Olga Ops', email: operator.email }, csrfToken: expect.any(String), recoveryCodesLeft: 10 });

    const second = await consolePasswordStep(t, operator.email, password);
    const replay = await postWithSession(t, '/auth/operator/verify', second, { code });
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_code');

    const recoveryCode = operator.recoveryCodes[0]!;
    // Typed with capitals and without the dash, it is the same code.
    const withRecovery = await postWithSession(t, '/auth/operator/verify', second, { recoveryCode: recoveryCode.replace('-', ' ').toUpperCase() });
    expect(withRecovery.status).toBe(200);
    expect(withRecovery.body.recoveryCodesLeft).toBe(9);
    const active: ConsoleSession = { cookie: cookieHeaderOf(withRecovery.headers), csrfToken: withRecovery.body.csrfToken };
    expect((await consoleGraphQL(t, active)(VIEWER)).data!.viewerOperator.recoveryCodesLeft).toBe(9);

    const third = await consolePasswordStep(t, operator.email, password);
    const reused = await postWithSession(t, '/auth/operator/verify', third, { recoveryCode });
    expect(reused.status).toBe(401);
    expect((await postWithSession(t, '/auth/operator/verify', third, { code: '12', recoveryCode })).status).toBe(400);
    const other = await postWithSession(t, '/auth/operator/verify', third, { recoveryCode: operator.recoveryCodes[1]! });
    expect(other.status).toBe(200);
    expect(other.body.recoveryCodesLeft).toBe(8);
  });

  test('wrong codes lock the account like wrong passwords, and a right password alone clears no failure', async () => {
    const operator = await enrolOperator(t, (await newOperator()).email, password, clock);
    for (let i = 0; i < 3; i++) expect((await postJson(t, '/auth/operator/sign-in', { email: operator.email, password: `wrong ${i}` })).status).toBe(401);
    const pending = await consolePasswordStep(t, operator.email, password);
    const right = await currentCode(operator.secret);
    const wrongCode = right === '111111' ? '222222' : '111111';
    for (let i = 3; i < MAX_FAILED_SIGN_INS; i++) {
      const wrong = await postWithSession(t, '/auth/operator/verify', pending, { code: wrongCode });
      expect(wrong.status).toBe(401);
    }
    // Locked now: even the right code is refused, and so are the password step and the token.
    const locked = await postWithSession(t, '/auth/operator/verify', pending, (await operator.nextCode()) as Record<string, string>);
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ error: 'account_locked', lockedUntil: expect.any(String) });
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(60);
    const signIn = await postJson(t, '/auth/operator/sign-in', { email: operator.email, password });
    expect(signIn.status).toBe(429);
    expect(Number(signIn.headers.get('retry-after'))).toBeGreaterThan(60);
    expect((await postJson(t, '/auth/operator/token', { email: operator.email, password, ...(await operator.nextCode()) })).status).toBe(429);
  });
});

describe('console sessions', () => {
  test('a pending session is nobody in GraphQL; an ACTIVE one is the operator, only with its CSRF header', async () => {
    const { id, email } = await newOperator();
    const pending = await consolePasswordStep(t, email, password);
    const asPending = await consoleGraphQL(t, pending)(VIEWER);
    expect(asPending.status).toBe(401);
    expect(asPending.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const operator = await enrolOperator(t, email, password, clock);
    const ok = await consoleGraphQL(t, operator.session)(VIEWER);
    expect(ok.data?.viewerOperator?.id).toBe(id);
    const withoutCsrf = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', cookie: operator.session.cookie }, body: JSON.stringify({ query: VIEWER }) });
    expect(withoutCsrf.status).toBe(403);
    expect(((await withoutCsrf.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('CSRF_TOKEN_INVALID');
    // An operator session reaches no merchant's data.
    expect((await consoleGraphQL(t, operator.session)('{ orders { totalCount } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  test("a console session is never taken for a portal session, nor a portal session for a console one", async () => {
    const operator = await enrolOperator(t, (await newOperator()).email, password, clock);
    const developer = await signUpDeveloper(t);
    const consoleToken = /portico_console=([^;]+)/.exec(operator.session.cookie)![1]!;
    const portalToken = /portico_session=([^;]+)/.exec(developer.session.cookie)![1]!;

    // Each session's token under the other's cookie name is no session there.
    expect((await getJson(t, '/auth/developer/session', `portico_session=${consoleToken}`)).status).toBe(401);
    expect((await getJson(t, '/auth/operator/session', `portico_console=${portalToken}`)).status).toBe(401);
    const swapped = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `portico_session=${consoleToken}`, 'x-csrf-token': operator.session.csrfToken },
      body: JSON.stringify({ query: VIEWER }),
    });
    expect(swapped.status).toBe(403);
    // Each principal's operations refuse the other.
    expect((await developer.gql(VIEWER)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await consoleGraphQL(t, operator.session)('{ viewerDeveloper { id } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // A browser holding both: the CSRF header says which one a request is for.
    const both = `${operator.session.cookie}; ${developer.session.cookie}`;
    const asOperator = await consoleGraphQL(t, { cookie: both, csrfToken: operator.session.csrfToken })(VIEWER);
    expect(asOperator.data?.viewerOperator?.email).toBe(operator.email);
    const asDeveloper = await consoleGraphQL(t, { cookie: both, csrfToken: developer.session.csrfToken })('{ viewerDeveloper { email } }');
    expect(asDeveloper.data?.viewerDeveloper?.email).toBe(developer.email);
  });

  test('sign-out ends the session at once and clears the cookies; signing in again ends the session the browser held', async () => {
    const operator = await enrolOperator(t, (await newOperator()).email, password, clock);
    const gql = consoleGraphQL(t, operator.session);
    expect((await gql(VIEWER)).data?.viewerOperator).toBeTruthy();
    expect((await postJson(t, '/auth/operator/sign-out', {}, { cookie: operator.session.cookie })).status).toBe(403);
    const out = await postWithSession(t, '/auth/operator/sign-out', operator.session, {});
    expect(out.status).toBe(204);
    expect(cookieLines(out.headers)).toEqual([expect.stringMatching(/^portico_console=; Path=\/; Max-Age=0;/), expect.stringMatching(/^portico_console_csrf=; Path=\/; Max-Age=0;/)]);
    // Cached for SESSION_CACHE_MS at most elsewhere; this gateway forgot it at once.
    expect((await gql(VIEWER)).status).toBe(401);
    await clock.advance(SESSION_CACHE_MS + 1);
    expect((await gql(VIEWER)).status).toBe(401);

    const next = await consolePasswordStep(t, operator.email, password);
    const active = await postWithSession(t, '/auth/operator/verify', next, await operator.nextCode());
    const session: ConsoleSession = { cookie: cookieHeaderOf(active.headers), csrfToken: active.body.csrfToken };
    // The same browser signs in again: its old session ends.
    const again = await postJson(t, '/auth/operator/sign-in', { email: operator.email, password }, { cookie: session.cookie });
    expect(again.status).toBe(200);
    expect((await getJson(t, '/auth/operator/session', session.cookie)).status).toBe(401);
  });

  test('a disabled operator cannot sign in, and their sessions end within SESSION_CACHE_MS; enabled again, they can', async () => {
    const { id, email } = await newOperator();
    const operator = await enrolOperator(t, email, password, clock);
    const token = await operator.token();
    const gql = consoleGraphQL(t, operator.session);
    expect((await gql(VIEWER)).data?.viewerOperator?.id).toBe(id);
    const accounts = createOperatorConsole({ db: t.platform.database.db, clock, keks: [] });
    expect(await accounts.setDisabled(email, true, 'system:cli', 'left the company')).toBe(true);
    expect(await accounts.setDisabled(email, true, 'system:cli', 'again')).toBe(false);
    await clock.advance(SESSION_CACHE_MS + 1);
    expect((await gql(VIEWER)).status).toBe(401);
    const signIn = await postJson(t, '/auth/operator/sign-in', { email, password });
    expect(signIn.status).toBe(403);
    expect(signIn.body.error).toBe('account_disabled');
    // Said only to someone with the right password.
    expect((await postJson(t, '/auth/operator/sign-in', { email, password: 'not the password' })).status).toBe(401);
    expect((await postJson(t, '/auth/operator/token', { email, password, ...(await operator.nextCode()) })).status).toBe(403);
    // A token issued before is refused once the gateway's cached answer lapses (APP_ACCESS_CACHE_MS / 2 at most).
    await clock.advance(t.platform.config.appAccessCacheMs);
    const refused = await t.gql(token, VIEWER);
    expect(refused.status).toBe(403);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.data?.viewerOperator ?? null).toBeNull();
    expect((await auditOf(id)).find((e) => e.action === 'operator.disabled')).toMatchObject({ actor: 'system:cli', reason: 'left the company' });
    expect(await accounts.setDisabled(email, false, 'system:cli', 'back')).toBe(true);
    expect((await consolePasswordStep(t, email, password)).next).toBe('TOTP');
  });

  test('a pending session lasts 5 minutes; a console session 2 hours from its second factor', async () => {
    const operator = await enrolOperator(t, (await newOperator()).email, password, clock);
    const pending = await consolePasswordStep(t, operator.email, password);
    await clock.advance(5 * 60_000 + 1);
    expect((await postWithSession(t, '/auth/operator/verify', pending, await operator.nextCode())).status).toBe(401);

    const gql = consoleGraphQL(t, operator.session);
    expect((await gql(VIEWER)).data?.viewerOperator).toBeTruthy();
    await clock.advance(2 * 3_600_000 - 5 * 60_000 - 60_000);
    expect((await gql(VIEWER)).data?.viewerOperator).toBeTruthy();
    await clock.advance(60_000 + SESSION_CACHE_MS);
    const expired = await gql(VIEWER);
    expect(expired.status).toBe(401);
    expect((await getJson(t, '/auth/operator/session', operator.session.cookie)).status).toBe(401);
  });

  test('cookies are Secure when PUBLIC_URL is https', () => {
    const sessions = createConsoleSessions({ callSubgraph: async () => ({}) as never, appManagementUrl: 'http://unused', keys: t.platform.keys, publicUrl: 'https://console.example', clock });
    const { token } = sessions.newSessionToken();
    const [session, csrf] = sessions.cookies(token, clock.now() + 60_000);
    expect(session).toMatch(/; SameSite=Lax; HttpOnly; Secure$/);
    expect(csrf).toMatch(/; SameSite=Lax; Secure$/);
  });
});

describe('the operator token for scripts', () => {
  test('needs the second factor: enrolment first, then a code good once (or a recovery code)', async () => {
    const { id, email } = await newOperator();
    const notEnrolled = await postJson(t, '/auth/operator/token', { email, password, code: '123456' });
    expect(notEnrolled.status).toBe(403);
    expect(notEnrolled.body.error).toBe('mfa_enrolment_required');
    const operator = await enrolOperator(t, email, password, clock);
    expect((await postJson(t, '/auth/operator/token', { email, password })).status).toBe(400);
    expect((await postJson(t, '/auth/operator/token', { email, password: 'wrong', code: '123456' })).body).toEqual({ error: 'invalid_grant', error_description: 'Wrong email or password' });

    const code = await totpCode(operator.secret, clock.now() + 30_000);
    const issued = await postJson(t, '/auth/operator/token', { email, password, code });
    expect(issued.status).toBe(200);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect(issued.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect((await t.gql(issued.body.access_token, VIEWER)).data?.viewerOperator?.id).toBe(id);
    const replay = await postJson(t, '/auth/operator/token', { email, password, code });
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_grant');
    const form = await fetch(`${new URL(t.url).origin}/auth/operator/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email, password, recoveryCode: operator.recoveryCodes[0]! }).toString(),
    });
    expect(form.status).toBe(200);
  });
});

describe('the audit log and the reset', () => {
  test('sign-ins, enrolment, recovery-code use and sign-out are audited under the operator; a reset enrols again', async () => {
    const { id, email } = await newOperator();
    const operator = await enrolOperator(t, email, password, clock);
    const pending = await consolePasswordStep(t, email, password);
    const recovered = await postWithSession(t, '/auth/operator/verify', pending, { recoveryCode: operator.recoveryCodes[0]! });
    expect(recovered.status).toBe(200);
    await postWithSession(t, '/auth/operator/sign-out', { cookie: cookieHeaderOf(recovered.headers), csrfToken: recovered.body.csrfToken }, {});
    await operator.token();

    const entries = (await auditOf(id)).sort((a, b) => a.id - b.id);
    expect(entries.map((e) => [e.action, e.details.via ?? null, e.details.method ?? null])).toEqual([
      ['operator.totp_enrolled', null, null],
      ['operator.signed_in', 'console', 'totp'],
      ['operator.recovery_code_used', null, null],
      ['operator.signed_in', 'console', 'recovery_code'],
      ['operator.signed_out', null, null],
      ['operator.signed_in', 'token', 'totp'],
    ]);
    for (const entry of entries) {
      expect(entry.actor).toBe(`operator:${id}`);
      expect(entry.at).toBeInstanceOf(Date);
      // Nothing secret in the log.
      expect(JSON.stringify(entry)).not.toContain(operator.secret);
      expect(JSON.stringify(entry)).not.toContain(operator.recoveryCodes[0]!);
    }

    // They lost their phone and codes: the reset clears the enrolment and ends their sessions.
    const accounts = createOperatorConsole({ db: t.platform.database.db, clock, keks: t.platform.keys.messageKeks });
    expect(await accounts.resetTotp(email, 'system:cli', 'lost phone')).toBe(true);
    await clock.advance(SESSION_CACHE_MS + 1);
    expect((await consoleGraphQL(t, operator.session)(VIEWER)).status).toBe(401);
    expect((await consolePasswordStep(t, email, password)).next).toBe('ENROL_TOTP');
    const reset = (await auditOf(id)).find((e) => e.action === 'operator.totp_reset');
    expect(reset).toMatchObject({ actor: 'system:cli', reason: 'lost phone' });
    const row = await operatorRow(id);
    expect(row).toMatchObject({ totpSecretSealed: null, totpEnrolledAt: null, recoveryCodeHashes: [] });
  });
});
