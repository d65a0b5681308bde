/**
 * Developer accounts and the developer principal, over real HTTP against a real database, with a
 * real SMTP server in-process (smtp-server) that the platform sends its email to (SMTP_URL).
 */
import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { SMTPServer } from 'smtp-server';
import { DEVELOPER_CLIENT_ID } from '../core/caller.js';
import { createLogger } from '../core/logger.js';
import { createContextBatchSigner, createContextSigner, mintAccessToken } from '../core/tokens.js';
import http from 'node:http';
import { createDevMailbox, devMailboxEnabled } from '../gateway/dev-mailbox.js';
import { createInternalClient } from '../gateway/upstream/internal-client.js';
import { createSubgraphFetcher } from '../gateway/upstream/subgraph-fetcher.js';
import { SESSION_CACHE_MS, createDeveloperSessions } from '../gateway/developer-auth/session.js';
import { createMailer } from '../subgraphs/app-management/mailer.js';
import { announcements, developers } from '../subgraphs/app-management/tables.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { adjustableClock } from './helpers/clock.js';
import { cookieHeaderOf, originOf, portalGraphQL, postJson, signInDeveloper, signUpDeveloper, tokenOfLink, type PortalSession } from './helpers/developer.js';
import { startTestPlatform, waitUntil, type TestPlatform } from './helpers/platform.js';
import { mintTestOperatorToken } from './helpers/operator.js';

interface ReceivedMail {
  to: string[];
  raw: string;
}

/** The text of a raw message: headers dropped, quoted-printable soft breaks and escapes undone. */
function bodyOf(raw: string): string {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
const subjectOf = (raw: string) => /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? '';

let smtp: SMTPServer;
const inbox: ReceivedMail[] = [];
let t: TestPlatform;
const clock = adjustableClock();

const mailsTo = (email: string, subjectPart: string) => inbox.filter((m) => m.to.includes(email) && subjectOf(m.raw).includes(subjectPart));

/** The newest message to `email` whose subject holds `subjectPart` (the platform has sent it when its answer came). */
async function mailTo(email: string, subjectPart: string): Promise<string> {
  // The SMTP server hands a message over when its DATA ends, before the platform's answer; wait for that turn only.
  for (let i = 0; i < 100; i++) {
    const found = mailsTo(email, subjectPart).at(-1);
    if (found) return bodyOf(found.raw);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no email "${subjectPart}" to ${email}`);
}
const readVerification = (email: string) => mailTo(email, 'Verify');
const newEmail = () => `dev-${crypto.randomUUID()}@example.com`;
const strongPassword = () => `pw-${crypto.randomBytes(12).toString('base64url')}`;

async function signUp(email = newEmail(), password = strongPassword()) {
  const answer = await postJson(t, '/auth/developer/sign-up', { email, password, name: 'Grace', kind: 'INDIVIDUAL' });
  return { email, password, answer };
}

function graphQLWith(headers: Record<string, string>, query: string, method: 'GET' | 'POST' = 'POST') {
  const url = method === 'GET' ? `${t.url}?query=${encodeURIComponent(query)}` : t.url;
  return fetch(url, {
    method,
    headers: { ...(method === 'POST' ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(method === 'POST' ? { body: JSON.stringify({ query }) } : {}),
  });
}

/** A response's JSON body, for reading a few fields. */
const jsonOf = async (response: Response) => (await response.json()) as Record<string, any>;

const VIEWER = 'query { viewerDeveloper { id kind name companyName email emailVerified verificationStatus announcementEmails } }';

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as { port: number }).port;
  t = await startTestPlatform({ clock, extraEnv: { SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM: 'Portico Test <portal@example.com>' } });
});

afterAll(async () => {
  await t?.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

test('a developer signs up, verifies with the link from the email the SMTP server received, signs in and reads viewerDeveloper', async () => {
  const email = newEmail();
  const dev = await signUpDeveloper(t, { email, name: 'Ada', kind: 'COMPANY', companyName: 'Ada ISV' }, { readMail: readVerification });
  const raw = mailsTo(email, 'Verify').at(-1)!.raw;
  expect(raw).toMatch(/^From: Portico Test <portal@example\.com>/m);
  expect(bodyOf(raw)).toContain(`${t.platform.config.publicUrl}/portal/verify?token=`);
  const viewer = await dev.gql(VIEWER);
  expect(viewer.errors).toBeUndefined();
  expect(viewer.data!.viewerDeveloper).toMatchObject({ id: dev.developerId, kind: 'COMPANY', name: 'Ada', companyName: 'Ada ISV', email, emailVerified: true, verificationStatus: 'PENDING', announcementEmails: true });
  // What is kept is no secret: the password as scrypt, the session and the link as their SHA-256.
  const [row] = await t.platform.database.db.select().from(developers).where(eq(developers.id, dev.developerId));
  expect(row!.passwordHash).toMatch(/^scrypt\$/);
  expect(row!.passwordHash).not.toContain(dev.password);
});

test('a verification link works once; used again or expired (24 h) it is refused', async () => {
  const { email } = await signUp();
  const token = tokenOfLink(await readVerification(email), 'verify');
  expect(await postJson(t, '/auth/developer/verify', { token })).toMatchObject({ status: 200, body: { verified: true } });
  expect(await postJson(t, '/auth/developer/verify', { token })).toMatchObject({ status: 400, body: { error: 'invalid_token' } });
  expect(await postJson(t, '/auth/developer/verify', { token: crypto.randomBytes(32).toString('base64url') })).toMatchObject({ status: 400, body: { error: 'invalid_token' } });

  const late = await signUp();
  const lateToken = tokenOfLink(await readVerification(late.email), 'verify');
  await clock.advance(24 * 3_600_000 + 60_000);
  expect(await postJson(t, '/auth/developer/verify', { token: lateToken })).toMatchObject({ status: 400, body: { error: 'invalid_token' } });
  // A new link can be asked for (202 for any address, so the answer tells nothing), and it works.
  const before = mailsTo(late.email, 'Verify').length;
  expect((await postJson(t, '/auth/developer/verify/resend', { email: late.email })).status).toBe(202);
  expect((await postJson(t, '/auth/developer/verify/resend', { email: newEmail() })).status).toBe(202);
  expect(mailsTo(late.email, 'Verify')).toHaveLength(before + 1);
  // Asked again at once, no second email goes out while the new link is fresh.
  expect((await postJson(t, '/auth/developer/verify/resend', { email: late.email })).status).toBe(202);
  expect(mailsTo(late.email, 'Verify')).toHaveLength(before + 1);
  expect((await postJson(t, '/auth/developer/verify', { token: tokenOfLink(await readVerification(late.email), 'verify') })).status).toBe(200);
  await signInDeveloper(t, late.email, late.password);
});

test('sign-in is refused before the email is verified, and says so only to someone with the right password', async () => {
  const { email, password, answer } = await signUp();
  expect(answer.status).toBe(201);
  expect(await postJson(t, '/auth/developer/sign-in', { email, password })).toMatchObject({ status: 403, body: { error: 'email_not_verified' } });
  expect(await postJson(t, '/auth/developer/sign-in', { email, password: 'wrong-password-123' })).toMatchObject({ status: 401, body: { error: 'invalid_grant' } });
  expect(await postJson(t, '/auth/developer/sign-in', { email: newEmail(), password })).toMatchObject({ status: 401, body: { error: 'invalid_grant' } });
});

test('sign-up checks its input: a short password, a company without its name, or a body that is not JSON are refused', async () => {
  expect(await postJson(t, '/auth/developer/sign-up', { email: newEmail(), password: 'short-pw', name: 'A', kind: 'INDIVIDUAL' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  expect(await postJson(t, '/auth/developer/sign-up', { email: newEmail(), password: strongPassword(), name: 'A', kind: 'COMPANY' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  expect(await postJson(t, '/auth/developer/sign-up', { email: 'not-an-email', password: strongPassword(), name: 'A', kind: 'INDIVIDUAL' })).toMatchObject({ status: 400 });
  expect(await postJson(t, '/auth/developer/sign-up', { email: newEmail(), password: strongPassword(), name: 'Nul\u0000byte', kind: 'INDIVIDUAL' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  // A form (what another site's page can post without asking) is not taken.
  const form = await fetch(`${originOf(t)}/auth/developer/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a%40b.c&password=x' });
  expect(form.status).toBe(415);
});

test('signing up with a taken email answers as a new account (no enumeration) and tells the owner by email', async () => {
  const owner = await signUpDeveloper(t, {}, { readMail: readVerification });
  const again = await postJson(t, '/auth/developer/sign-up', { email: owner.email.toUpperCase(), password: strongPassword(), name: 'Mallory', kind: 'INDIVIDUAL' });
  const fresh = await signUp();
  expect(again.status).toBe(fresh.answer.status);
  expect(Object.keys(again.body)).toEqual(Object.keys(fresh.answer.body));
  expect(again.body.developerId).toMatch(/^[0-9a-f-]{36}$/);
  expect(again.body.developerId).not.toBe(owner.developerId);
  expect(await mailTo(owner.email, 'tried to sign up')).toContain('/portal/forgot-password');
  // The owner's password still works; the second password does not.
  await signInDeveloper(t, owner.email, owner.password);
});

test('the session cookies: HttpOnly session, readable CSRF token, SameSite=Lax, Path=/, 12 hours; Secure when the public origin is https', async () => {
  const dev = await signUpDeveloper(t, {}, { readMail: readVerification });
  const signedIn = await postJson(t, '/auth/developer/sign-in', { email: dev.email, password: dev.password });
  expect(signedIn.headers.get('cache-control')).toBe('no-store');
  expect(signedIn.body).toMatchObject({ developer: { name: 'Ada Developer', email: dev.email }, csrfToken: expect.any(String) });
  const [session, csrf] = signedIn.headers.getSetCookie();
  expect(session).toMatch(/^portico_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; SameSite=Lax; HttpOnly$/);
  expect(csrf).toBe(`portico_csrf=${signedIn.body.csrfToken}; Path=/; Max-Age=43200; SameSite=Lax`);
  // Under https the same cookies are Secure (the module the gateway uses, with an https origin).
  const https = createDeveloperSessions({ callSubgraph: async () => ({}) as never, appManagementUrl: '', keys: t.platform.keys, publicUrl: 'https://portal.example.com', clock });
  expect(https.cookies('a'.repeat(43), clock.now() + 3_600_000).every((c) => c.endsWith('; Secure'))).toBe(true);
  // GET session names the developer and hands the CSRF token back (a reload of the portal).
  const current = await fetch(`${originOf(t)}/auth/developer/session`, { headers: { cookie: cookieHeaderOf(signedIn.headers) } });
  expect(current.status).toBe(200);
  expect(await current.json()).toEqual({ developer: { id: dev.developerId, name: 'Ada Developer', email: dev.email, kind: 'COMPANY', companyName: 'Ada ISV Ltd.' }, csrfToken: signedIn.body.csrfToken });
  expect((await fetch(`${originOf(t)}/auth/developer/session`)).status).toBe(401);
  // Signing in again from the same browser (its cookie sent) ends the session it held.
  const again = await postJson(t, '/auth/developer/sign-in', { email: dev.email, password: dev.password }, { cookie: cookieHeaderOf(signedIn.headers) });
  expect(again.status).toBe(200);
  expect((await portalGraphQL(t, { cookie: cookieHeaderOf(signedIn.headers), csrfToken: signedIn.body.csrfToken })(VIEWER)).status).toBe(401);
  expect((await portalGraphQL(t, { cookie: cookieHeaderOf(again.headers), csrfToken: again.body.csrfToken })(VIEWER)).status).toBe(200);
});

test('GraphQL with the session cookie needs the CSRF header: without it or with a wrong one 403 CSRF_TOKEN_INVALID, GET and POST alike', async () => {
  const dev = await signUpDeveloper(t, {}, { readMail: readVerification });
  const { cookie, csrfToken } = dev.session;
  for (const method of ['POST', 'GET'] as const) {
    const without = await graphQLWith({ cookie }, VIEWER, method);
    expect(without.status).toBe(403);
    expect((await jsonOf(without)).errors[0].extensions.code).toBe('CSRF_TOKEN_INVALID');
    const wrong = await graphQLWith({ cookie, 'x-csrf-token': `${csrfToken.slice(0, -2)}xx` }, VIEWER, method);
    expect(wrong.status).toBe(403);
    // Another session's token does not fit this one.
    const other = await signInDeveloper(t, dev.email, dev.password);
    expect((await graphQLWith({ cookie, 'x-csrf-token': other.csrfToken }, VIEWER, method)).status).toBe(403);
    const right = await graphQLWith({ cookie, 'x-csrf-token': csrfToken, 'apollo-require-preflight': 'true' }, VIEWER, method);
    expect(right.status).toBe(200);
    expect((await jsonOf(right)).data.viewerDeveloper.id).toBe(dev.developerId);
  }
});

test('updateDeveloperProfile changes the signed-in developer only', async () => {
  const dev = await signUpDeveloper(t, {}, { readMail: readVerification });
  const other = await signUpDeveloper(t, {}, { readMail: readVerification });
  const updated = await dev.gql('mutation { updateDeveloperProfile(input: { name: "Ada L.", companyName: "Analytical Engines", announcementEmails: false }) { id name companyName announcementEmails } }');
  expect(updated.errors).toBeUndefined();
  expect(updated.data!.updateDeveloperProfile).toEqual({ id: dev.developerId, name: 'Ada L.', companyName: 'Analytical Engines', announcementEmails: false });
  expect((await other.gql(VIEWER)).data!.viewerDeveloper).toMatchObject({ id: other.developerId, name: 'Ada Developer', announcementEmails: true });
  const blank = await dev.gql('mutation { updateDeveloperProfile(input: { name: "Someone else", companyName: "" }) { id } }');
  expect(blank.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  // Refused as a whole: nothing of it was written.
  expect((await dev.gql(VIEWER)).data!.viewerDeveloper).toMatchObject({ name: 'Ada L.', companyName: 'Analytical Engines' });
});

test('sign-out needs the CSRF header, ends the session at once and clears both cookies', async () => {
  const dev = await signUpDeveloper(t, {}, { readMail: readVerification });
  const forged = await postJson(t, '/auth/developer/sign-out', {}, { cookie: dev.session.cookie });
  expect(forged.status).toBe(403);
  expect((await dev.gql(VIEWER)).status).toBe(200);
  const signedOut = await postJson(t, '/auth/developer/sign-out', {}, { cookie: dev.session.cookie, 'x-csrf-token': dev.session.csrfToken });
  expect(signedOut.status).toBe(204);
  expect(signedOut.headers.getSetCookie()).toEqual([expect.stringMatching(/^portico_session=; Path=\/; Max-Age=0;/), expect.stringMatching(/^portico_csrf=; Path=\/; Max-Age=0;/)]);
  const after = await dev.gql(VIEWER);
  expect(after.status).toBe(401);
  expect(after.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  expect((await fetch(`${originOf(t)}/auth/developer/session`, { headers: { cookie: dev.session.cookie } })).status).toBe(401);
});

test('a password reset by email sets the new password and ends every session of the developer; its link works once, for an hour', async () => {
  const dev = await signUpDeveloper(t, {}, { readMail: readVerification });
  const second: PortalSession = await signInDeveloper(t, dev.email, dev.password);
  expect((await portalGraphQL(t, second)(VIEWER)).status).toBe(200);
  // 202 for any address: nothing tells whether it is registered, and only the registered one gets an email.
  const unknown = newEmail();
  expect((await postJson(t, '/auth/developer/password-reset/request', { email: unknown })).status).toBe(202);
  expect((await postJson(t, '/auth/developer/password-reset/request', { email: dev.email })).status).toBe(202);
  const mail = await mailTo(dev.email, 'Reset');
  expect(mail).toContain(`${t.platform.config.publicUrl}/portal/reset-password?token=`);
  expect(mailsTo(unknown, '')).toHaveLength(0);
  expect((await postJson(t, '/auth/developer/password-reset/request', { email: dev.email })).status).toBe(202);
  expect(mailsTo(dev.email, 'Reset')).toHaveLength(1);
  const token = tokenOfLink(mail, 'reset-password');
  expect(await postJson(t, '/auth/developer/password-reset', { token, password: 'too-short' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  const newPassword = strongPassword();
  expect(await postJson(t, '/auth/developer/password-reset', { token, password: newPassword })).toMatchObject({ status: 200, body: { reset: true } });
  expect(await postJson(t, '/auth/developer/password-reset', { token, password: strongPassword() })).toMatchObject({ status: 400, body: { error: 'invalid_token' } });
  // Sessions ended; a gateway may have one cached for SESSION_CACHE_MS.
  await clock.advance(SESSION_CACHE_MS + 1);
  expect((await dev.gql(VIEWER)).status).toBe(401);
  expect((await portalGraphQL(t, second)(VIEWER)).status).toBe(401);
  expect((await postJson(t, '/auth/developer/sign-in', { email: dev.email, password: dev.password })).status).toBe(401);
  await signInDeveloper(t, dev.email, newPassword);

  await postJson(t, '/auth/developer/password-reset/request', { email: dev.email });
  const late = tokenOfLink(await mailTo(dev.email, 'Reset'), 'reset-password');
  expect(late).not.toBe(token);
  await clock.advance(3_600_000 + 1000);
  expect(await postJson(t, '/auth/developer/password-reset', { token: late, password: strongPassword() })).toMatchObject({ status: 400, body: { error: 'invalid_token' } });
});

test('after repeated wrong passwords the account locks, even against the right one (the passport\'s lockout)', async () => {
  const dev = await signUpDeveloper(t, {}, { readMail: readVerification });
  for (let i = 0; i < 5; i++) {
    expect((await postJson(t, '/auth/developer/sign-in', { email: dev.email, password: `wrong-password-${i}` })).status).toBe(401);
  }
  const locked = await postJson(t, '/auth/developer/sign-in', { email: dev.email, password: dev.password });
  expect(locked).toMatchObject({ status: 429, body: { error: 'account_locked' } });
  expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  // The session opened before the lock goes on.
  expect((await dev.gql(VIEWER)).status).toBe(200);
});

test('a disabled developer cannot sign in, and their sessions end', async () => {
  const dev = await signUpDeveloper(t, {}, { readMail: readVerification });
  await t.platform.database.db.update(developers).set({ disabledAt: new Date(clock.now()) }).where(eq(developers.id, dev.developerId));
  expect(await postJson(t, '/auth/developer/sign-in', { email: dev.email, password: dev.password })).toMatchObject({ status: 403, body: { error: 'account_disabled' } });
  await clock.advance(SESSION_CACHE_MS + 1);
  expect((await dev.gql(VIEWER)).status).toBe(401);
});

test('app tokens never reach developer operations, and no access token can claim the portal', async () => {
  const dev = await signUpDeveloper(t, {}, { readMail: readVerification });
  for (const token of [await t.token({ merchantId: null }), await t.token({ merchantId: null, scopes: ['developer'] })]) {
    const viewer = await t.gql(token, VIEWER);
    expect(viewer.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(viewer.data?.viewerDeveloper ?? null).toBeNull();
    const update = await t.gql(token, 'mutation { updateDeveloperProfile(input: { name: "x" }) { id } }');
    expect(update.errors![0]!.extensions!.code).toBe('FORBIDDEN');
  }
  const portalToken = await mintAccessToken(t.platform.keys, { issuer: t.platform.config.publicUrl, audience: t.platform.config.apiAudience, appKey: DEVELOPER_CLIENT_ID, merchantId: null, scope: 'developer', clock });
  expect((await t.gql(portalToken, VIEWER)).status).toBe(401);
  // An Authorization header wins over the cookie: the caller is the app, not the developer.
  const both = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token({ merchantId: null })}`, cookie: dev.session.cookie, 'x-csrf-token': dev.session.csrfToken },
    body: JSON.stringify({ query: VIEWER }),
  });
  expect((await jsonOf(both)).errors[0].extensions.code).toBe('FORBIDDEN');
});

test('a developer session reaches no app operation and no merchant data', async () => {
  const dev = await signUpDeveloper(t, {}, { readMail: readVerification });
  const refusals = {
    orders: 'query { orders(first: 1) { nodes { id } } }',
    products: 'query { products(first: 1) { nodes { id } } }',
    requireSignedRequests: 'mutation { requireSignedRequests { key } }',
    messageStream: 'query { messageStream { acknowledgedCursor } }',
    apps: 'query { apps(first: 1) { nodes { key } } }',
  };
  for (const [name, query] of Object.entries(refusals)) {
    const answer = await dev.gql(query);
    expect([name, answer.errors?.[0]?.extensions?.code]).toEqual([name, 'FORBIDDEN']);
    expect([name, JSON.stringify(answer.data ?? null)]).toEqual([name, expect.not.stringMatching(/"id"|"key"|acknowledgedCursor":"/)]);
  }
  expect((await dev.gql('query { viewerApp { key } }')).data!.viewerApp).toBeNull();
});

test('announcements: the published ones for everyone or for a package the developer\'s apps hold, newest first, paged', async () => {
  const dev = await signUpDeveloper(t, {}, { readMail: readVerification });
  const apps = createAppManagementStore(t.platform.database.db, t.platform.keys.messageKeks);
  const held = await apps.createPackage({ name: `Held ${crypto.randomUUID()}`, description: 'held', tier: 'FREE', scopes: ['orders:read'] });
  const notHeld = await apps.createPackage({ name: `Not held ${crypto.randomUUID()}`, description: 'not held', tier: 'FREE', scopes: ['orders:read'] });
  const app = await apps.createApp({ key: `app_${crypto.randomBytes(6).toString('hex')}`, name: 'Dev app', developerId: dev.developerId, status: 'SANDBOX' });
  await apps.grantPackage('system:tests', { appKey: app.app.key, packageId: held.id, reason: 'tests' });
  const now = clock.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000);
  const rows = [
    { title: 'To everyone', packageIds: null, publishAt: at(30) },
    { title: 'To holders of the package', packageIds: [held.id], publishAt: at(20) },
    { title: 'To others', packageIds: [notHeld.id], publishAt: at(10) },
    { title: 'A draft', packageIds: null, publishAt: null },
    { title: 'Later', packageIds: null, publishAt: at(-60) },
    { title: 'Newest to everyone', packageIds: null, publishAt: at(1) },
  ];
  await t.platform.database.db.insert(announcements).values(rows.map((r) => ({ id: crypto.randomUUID(), body: `**${r.title}**`, createdBy: 'operator:tests', ...r })));
  const query = 'query($after: String) { announcements(first: 2, after: $after) { nodes { title body publishedAt packages { id } } pageInfo { hasNextPage endCursor } } }';
  const first = await dev.gql(query);
  expect(first.errors).toBeUndefined();
  expect(first.data!.announcements.nodes.map((n: { title: string }) => n.title)).toEqual(['Newest to everyone', 'To holders of the package']);
  expect(first.data!.announcements.nodes[1].packages).toEqual([{ id: held.id }]);
  expect(first.data!.announcements.pageInfo.hasNextPage).toBe(true);
  const second = await dev.gql(query, { after: first.data!.announcements.pageInfo.endCursor });
  expect(second.data!.announcements.nodes.map((n: { title: string }) => n.title)).toEqual(['To everyone']);
  expect(second.data!.announcements.pageInfo.hasNextPage).toBe(false);
  const appToken = await t.token({ merchantId: null });
  expect((await t.gql(appToken, query)).errors![0]!.extensions!.code).toBe('FORBIDDEN');
});

test('without SMTP_URL mail goes to the local mailbox, shown at /dev/mailbox only in development; with SMTP_URL there is no such page', async () => {
  expect((await fetch(`${originOf(t)}/dev/mailbox`)).status).toBe(404);
  const lines: string[] = [];
  const logger = createLogger('info', 'test', { write: (line: string) => lines.push(line) });
  const mailer = createMailer({ smtpUrl: undefined, from: 'x@example.com', db: t.platform.database.db, logger });
  const to = newEmail();
  await mailer.send({ to, subject: 'Local one <script>', text: 'Open https://portal.example/portal/verify?token=abc', link: 'https://portal.example/portal/verify?token=abc' });
  expect((await mailer.recent(5)).find((m) => m.to === to)).toMatchObject({ subject: 'Local one <script>', text: expect.stringContaining('token=abc') });
  expect(lines.some((l) => l.includes(to) && l.includes('Local one') && l.includes('token=abc'))).toBe(true);
  // The page, as a development gateway serves it (read through app-management's internal query).
  const signContext = createContextSigner(t.platform.keys.context, 60, clock);
  const fetcher = createSubgraphFetcher({ signContext, signBatch: createContextBatchSigner(t.platform.keys.context, clock) });
  const page = createDevMailbox({
    callSubgraph: createInternalClient(fetcher, signContext),
    appManagementUrl: t.platform.subgraphs['app-management'].url,
    config: { mail: { smtpUrl: undefined, from: 'x' }, nodeEnv: 'development', host: '127.0.0.1', publicUrl: 'https://portal.example' },
  });
  const server = http.createServer((req, res) => void page(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const shown = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/dev/mailbox`);
    expect(shown.status).toBe(200);
    expect(shown.headers.get('content-type')).toMatch(/^text\/html/);
    expect(shown.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await shown.text();
    expect(html).toContain('Local one &lt;script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<a href="https://portal.example/portal/verify?token=abc">');
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await fetcher.close();
  }
  const base = { mail: { smtpUrl: undefined, from: 'x' }, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:4000' };
  expect(devMailboxEnabled({ ...base, nodeEnv: 'development' })).toBe(true);
  // npm start's defaults (production, loopback only) keep it, so a newcomer finds the link...
  expect(devMailboxEnabled({ ...base, nodeEnv: 'production' })).toBe(true);
  // ...but not a deployment others reach, nor one with an SMTP server.
  expect(devMailboxEnabled({ ...base, nodeEnv: 'production', host: '0.0.0.0' })).toBe(false);
  expect(devMailboxEnabled({ ...base, nodeEnv: 'production', publicUrl: 'https://portal.example.com' })).toBe(false);
  expect(devMailboxEnabled({ ...base, nodeEnv: 'development', mail: { smtpUrl: 'smtp://127.0.0.1:25', from: 'x' } })).toBe(false);
});

test('a developer is no app: the app controls let the session through uncharged, and its calls stay out of the apps\' call report', async () => {
  const dev = await signUpDeveloper(t, {}, { readMail: readVerification });
  // Calls are counted per minute of the gateway's clock: two hours on, only this test's calls are in the range.
  await clock.advance(2 * 3_600_000);
  const operator = await mintTestOperatorToken(t, { clock });
  const range = { from: new Date(clock.now() - 60_000).toISOString(), to: new Date(clock.now() + 3_600_000).toISOString() };
  const totalCalls = async () => {
    const report = await t.gql(operator, 'query($from: DateTime!, $to: DateTime!) { platformCallReport(from: $from, to: $to) { total { calls } } }', range);
    expect(report.errors).toBeUndefined();
    return Number(report.data!.platformCallReport.total.calls);
  };
  const before = await totalCalls();
  expect(before).toBe(0);
  for (let i = 0; i < 3; i++) {
    const answer = await dev.gql(VIEWER);
    expect(answer.status).toBe(200);
    // Flow control charges apps only: a developer has no bucket.
    expect((answer as { extensions?: { cost?: { throttleStatus?: unknown } } }).extensions?.cost?.throttleStatus).toBeNull();
  }
  const appCall = await t.gql(await t.token({ merchantId: null }), '{ viewerApp { key } }');
  expect((appCall as { extensions?: { cost?: { throttleStatus?: unknown } } }).extensions?.cost?.throttleStatus).toMatchObject({ maximumAvailable: expect.any(Number) });
  // Counted calls are written every few seconds: the app's one call shows, the developer's three do not.
  await waitUntil('the app call is in the report', async () => {
    await clock.advance(6_000);
    return (await totalCalls()) > before;
  });
  expect(await totalCalls()).toBe(before + 1);
});
