/**
 * The console's operations on developers, apps, the audit log and announcements, as operators
 * script them over GraphQL: each one's success, its refusals, what it writes to the audit log, and
 * what the developers see of it (the portal, their sign-in, their email).
 */
import crypto from 'node:crypto';
import { and, eq, like } from 'drizzle-orm';
import { mintOperatorToken } from '../core/tokens.js';
import { createLogger } from '../core/logger.js';
import { startAnnouncementEmailRunner } from '../subgraphs/app-management/announcement-emails.js';
import { createMailer } from '../subgraphs/app-management/mailer.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { developerSessions, localMailbox } from '../subgraphs/app-management/tables.js';
import { adjustableClock } from './helpers/clock.js';
import { latestLocalMail, postJson, signInDeveloper, signUpDeveloper, type SignedUpDeveloper } from './helpers/developer.js';
import { startTestPlatform, type GraphQLResponse, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
/** Moved an hour ahead for the scheduled announcement instead of waiting for it. */
const clock = adjustableClock();
let store: ReturnType<typeof createAppManagementStore>;
let operatorId: string;
let operatorToken: string;
/** Names in this run carry it, so searches find this run's rows only. */
const tag = crypto.randomBytes(4).toString('hex');

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  store = createAppManagementStore(t.platform.database.db, t.platform.keys.messageKeks);
  operatorId = (await store.createOperator({ email: `ops-${tag}@portico.example`, name: 'Olga Ops', password: 'a long operator password' })).id;
  // Outlives the hour the scheduled announcement's test moves the clock.
  operatorToken = await mintOperatorToken(t.platform.keys, { issuer: t.platform.config.publicUrl, audience: t.platform.config.apiAudience, operatorId, clock, ttlSeconds: 4 * 3600 });
});
afterAll(() => t?.stop());

const op = <T = Record<string, any>>(query: string, variables?: Record<string, unknown>) => t.gql<T>(operatorToken, query, variables);
const codeOf = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code;

/** Polls `check` (real time) until it returns a value, or fails after `ms`. */
async function eventually<T>(check: () => Promise<T | undefined | null | false>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Messages of the local mailbox to `email` whose subject holds `subject`. */
async function mailsTo(email: string, subject: string) {
  return t.platform.database.db.select().from(localMailbox).where(and(eq(localMailbox.to, email), like(localMailbox.subject, `%${subject}%`)));
}

async function auditOf(filter: Record<string, string>) {
  const res = await op(`query L($f: AuditLogFilter) { auditLog(filter: $f, first: 100) { totalCount nodes { actor action targetType targetId reason details } } }`, { f: filter });
  expect(res.errors).toBeUndefined();
  return res.data!.auditLog as { totalCount: number; nodes: { actor: string; action: string; targetType: string; targetId: string; reason: string | null; details: string }[] };
}

const DECIDE = (name: string) => `mutation D($id: ID!, $reason: String!) { ${name}(input: { developerId: $id, reason: $reason }) { id verificationStatus verificationReason disabledAt } }`;

describe('developers', () => {
  let nora: SignedUpDeveloper;
  let otto: SignedUpDeveloper;

  beforeAll(async () => {
    nora = await signUpDeveloper(t, { name: `Nora ${tag}`, kind: 'COMPANY', companyName: `Acme_${tag}` });
    otto = await signUpDeveloper(t, { name: 'Otto', email: `otto-${tag}@example.com`, kind: 'COMPANY', companyName: `AcmeX${tag}` });
  });

  test('operators search name, email and company name case-insensitively, with LIKE wildcards taken literally, and page through them', async () => {
    const search = async (text: string, extra = '') => {
      const res = await op(`query S($s: String) { developers(search: $s${extra}) { totalCount nodes { id name } } }`, { s: text });
      expect(res.errors).toBeUndefined();
      return res.data!.developers as { totalCount: number; nodes: { id: string }[] };
    };
    const both = await search(tag.toUpperCase());
    expect(both.nodes.map((d) => d.id).sort()).toEqual([nora.developerId, otto.developerId].sort());
    expect(both.totalCount).toBe(2);
    // Newest first.
    expect(both.nodes[0]!.id).toBe(otto.developerId);
    expect((await search(`OTTO-${tag}@EXAMPLE`)).nodes.map((d) => d.id)).toEqual([otto.developerId]);
    // "_" would match the X of AcmeX if it were a wildcard; "%" would match anything.
    expect((await search(`acme_${tag}`)).nodes.map((d) => d.id)).toEqual([nora.developerId]);
    expect((await search(`acme%${tag}`)).totalCount).toBe(0);

    const first = await op(`query P($s: String) { developers(search: $s, first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } }`, { s: tag });
    expect(first.data!.developers.pageInfo.hasNextPage).toBe(true);
    const second = await op(`query P($s: String, $a: String) { developers(search: $s, first: 1, after: $a) { nodes { id } pageInfo { hasNextPage } } }`, { s: tag, a: first.data!.developers.pageInfo.endCursor });
    expect(second.data!.developers.nodes.map((d: { id: string }) => d.id)).toEqual([nora.developerId]);
    expect(second.data!.developers.pageInfo.hasNextPage).toBe(false);

    expect(codeOf(await op(`{ developers(first: 0) { totalCount } }`))).toBe('BAD_USER_INPUT');
    expect(codeOf(await op(`{ developers(after: "not a cursor") { totalCount } }`))).toBe('BAD_USER_INPUT');
    expect(codeOf(await op(`query S($s: String) { developers(search: $s) { totalCount } }`, { s: 'x'.repeat(201) }))).toBe('BAD_USER_INPUT');
  });

  test('developer(id) reads one developer with their apps; an unknown or malformed id is NOT_FOUND', async () => {
    const found = await op(`query D($id: ID!) { developer(id: $id) { id email companyName disabledAt apps { key } } }`, { id: nora.developerId });
    expect(found.data!.developer).toEqual({ id: nora.developerId, email: nora.email, companyName: `Acme_${tag}`, disabledAt: null, apps: [] });
    for (const id of [crypto.randomUUID(), 'nope']) expect(codeOf(await op(`query D($id: ID!) { developer(id: $id) { id } }`, { id }))).toBe('NOT_FOUND');
  });

  test('a rejected developer reads the reason in the portal and by email; each decision is audited, and a repeated one is CONFLICT and changes nothing', async () => {
    const reason = `Company registration number missing ${tag}`;
    const rejected = await op(DECIDE('rejectDeveloper'), { id: nora.developerId, reason });
    expect(rejected.errors).toBeUndefined();
    expect(rejected.data!.rejectDeveloper).toMatchObject({ verificationStatus: 'REJECTED', verificationReason: reason });

    const viewer = await nora.gql(`{ viewerDeveloper { verificationStatus verificationReason } }`);
    expect(viewer.data!.viewerDeveloper).toEqual({ verificationStatus: 'REJECTED', verificationReason: reason });
    expect(await latestLocalMail(t, nora.email, 'not verified')).toContain(reason);
    // A rejected developer creates no apps.
    expect(codeOf(await nora.gql(`mutation { createApp(input: { name: "Refused" }) { app { key } } }`))).toBe('FORBIDDEN');

    const again = await op(DECIDE('rejectDeveloper'), { id: nora.developerId, reason: 'twice' });
    expect(codeOf(again)).toBe('CONFLICT');
    const verified = await op(DECIDE('verifyDeveloper'), { id: nora.developerId, reason: 'Registration number received' });
    expect(verified.data!.verifyDeveloper).toMatchObject({ verificationStatus: 'VERIFIED', verificationReason: null });
    expect(await latestLocalMail(t, nora.email, 'is verified')).toContain('create apps');
    expect(codeOf(await op(DECIDE('verifyDeveloper'), { id: nora.developerId, reason: 'twice' }))).toBe('CONFLICT');

    const log = await auditOf({ targetType: 'developer', targetId: nora.developerId });
    expect(log.nodes.map((e) => [e.action, e.actor, e.reason])).toEqual([
      ['developer.verified', `operator:${operatorId}`, 'Registration number received'],
      ['developer.rejected', `operator:${operatorId}`, reason],
    ]);
    expect(log.totalCount).toBe(2);

    expect(codeOf(await op(DECIDE('verifyDeveloper'), { id: nora.developerId, reason: '   ' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await op(DECIDE('rejectDeveloper'), { id: crypto.randomUUID(), reason: 'no one' }))).toBe('NOT_FOUND');
    expect((await auditOf({ targetType: 'developer', targetId: nora.developerId })).totalCount).toBe(2);
  });

  test('a disabled developer loses their sessions and cannot sign in; enabled again, they can', async () => {
    expect((await otto.gql(`{ viewerDeveloper { id } }`)).data!.viewerDeveloper.id).toBe(otto.developerId);
    const disabled = await op(DECIDE('disableDeveloper'), { id: otto.developerId, reason: 'Scraping merchants' });
    expect(disabled.errors).toBeUndefined();
    expect(disabled.data!.disableDeveloper.disabledAt).toEqual(expect.any(String));

    const sessions = await t.platform.database.db.select().from(developerSessions).where(eq(developerSessions.developerId, otto.developerId));
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.every((s) => s.revokedAt !== null)).toBe(true);
    // The gateway's cached session lapses within seconds.
    await eventually(async () => (await otto.gql(`{ viewerDeveloper { id } }`)).data?.viewerDeveloper?.id !== otto.developerId);
    const signIn = await postJson(t, '/auth/developer/sign-in', { email: otto.email, password: otto.password });
    expect(signIn.status).toBe(403);
    expect(signIn.body.error).toBe('account_disabled');
    expect(await latestLocalMail(t, otto.email, 'disabled')).toContain('no longer sign in');

    expect(codeOf(await op(DECIDE('disableDeveloper'), { id: otto.developerId, reason: 'twice' }))).toBe('CONFLICT');
    const listed = await op(`query S($s: String) { developers(search: $s, disabled: true) { nodes { id } } }`, { s: tag });
    expect(listed.data!.developers.nodes).toEqual([{ id: otto.developerId }]);
    const active = await op(`query S($s: String) { developers(search: $s, disabled: false, verificationStatus: VERIFIED) { nodes { id } } }`, { s: tag });
    expect(active.data!.developers.nodes).toEqual([{ id: nora.developerId }]);

    const enabled = await op(DECIDE('enableDeveloper'), { id: otto.developerId, reason: 'Explained, stopped' });
    expect(enabled.data!.enableDeveloper.disabledAt).toBeNull();
    expect(codeOf(await op(DECIDE('enableDeveloper'), { id: otto.developerId, reason: 'twice' }))).toBe('CONFLICT');
    const back = await signInDeveloper(t, otto.email, otto.password);
    expect(back.csrfToken).toEqual(expect.any(String));

    const log = await auditOf({ actor: `operator:${operatorId}`, targetId: otto.developerId });
    expect(log.nodes.map((e) => e.action)).toEqual(['developer.enabled', 'developer.disabled']);
    expect(JSON.parse(log.nodes[1]!.details)).toMatchObject({ endedSessions: sessions.length });
  });

  test("a developer's history holds what happened to them and to their apps, newest first", async () => {
    const { app } = await store.createApp({ name: `History ${tag}`, developerId: nora.developerId });
    const suspended = await op(`mutation S($k: String!) { setAppStatus(input: { appKey: $k, status: SUSPENDED, reason: "Spam" }) { status } }`, { k: app.key });
    expect(suspended.errors).toBeUndefined();
    const res = await op(`query H($id: ID!) { developer(id: $id) { apps { key } history(first: 10) { action targetType targetId } } }`, { id: nora.developerId });
    expect(res.data!.developer.apps).toEqual([{ key: app.key }]);
    expect(res.data!.developer.history).toEqual([
      { action: 'app.status_changed', targetType: 'app', targetId: app.key },
      { action: 'developer.verified', targetType: 'developer', targetId: nora.developerId },
      { action: 'developer.rejected', targetType: 'developer', targetId: nora.developerId },
    ]);
    // Otto's history holds none of Nora's.
    const other = await op(`query H($id: ID!) { developer(id: $id) { history { action targetId } } }`, { id: otto.developerId });
    expect(other.data!.developer.history.every((e: { targetId: string }) => e.targetId === otto.developerId)).toBe(true);
    expect(codeOf(await op(`query H($id: ID!) { developer(id: $id) { history(first: 0) { action } } }`, { id: otto.developerId }))).toBe('BAD_USER_INPUT');
  });
});

describe('apps and the audit log', () => {
  test('operators search apps by key, name or developer name, and keep one status', async () => {
    const developer = await store.createDeveloper({ kind: 'COMPANY', name: `Ledgerly ${tag}`, email: `ledgerly-${tag}@example.com`, verificationStatus: 'VERIFIED' });
    const books = (await store.createApp({ name: `Books ${tag}`, developerId: developer.id, status: 'LIVE' })).app;
    const stock = (await store.createApp({ name: `Stock 50%_${tag}`, developerId: developer.id })).app;
    const search = async (variables: Record<string, unknown>) => {
      const res = await op(`query A($s: String, $st: AppStatus) { apps(search: $s, status: $st) { totalCount nodes { key } } }`, variables);
      expect(res.errors).toBeUndefined();
      return { total: res.data!.apps.totalCount as number, keys: (res.data!.apps.nodes as { key: string }[]).map((a) => a.key) };
    };
    expect(await search({ s: `LEDGERLY ${tag}` })).toEqual({ total: 2, keys: [stock.key, books.key] });
    expect(await search({ s: `books ${tag}` })).toEqual({ total: 1, keys: [books.key] });
    expect(await search({ s: stock.key.toUpperCase() })).toEqual({ total: 1, keys: [stock.key] });
    expect(await search({ s: `50%_${tag}` })).toEqual({ total: 1, keys: [stock.key] });
    expect(await search({ s: `5_%_${tag}` })).toEqual({ total: 0, keys: [] });
    expect(await search({ s: `ledgerly ${tag}`, st: 'LIVE' })).toEqual({ total: 1, keys: [books.key] });
    expect(codeOf(await op(`{ apps(status: GONE) { totalCount } }`))).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('the audit log narrows to an actor, an action and a target', async () => {
    const mine = await auditOf({ actor: `operator:${operatorId}`, action: 'developer.rejected' });
    expect(mine.totalCount).toBeGreaterThan(0);
    expect(mine.nodes.every((e) => e.actor === `operator:${operatorId}` && e.action === 'developer.rejected')).toBe(true);
    expect(await auditOf({ actor: 'operator:nobody' })).toEqual({ totalCount: 0, nodes: [] });
    const page = await op(`query L($f: AuditLogFilter) { auditLog(filter: $f, first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } }`, { f: { actor: `operator:${operatorId}` } });
    const next = await op(`query L($f: AuditLogFilter, $a: String) { auditLog(filter: $f, first: 1, after: $a) { nodes { id } } }`, { f: { actor: `operator:${operatorId}` }, a: page.data!.auditLog.pageInfo.endCursor });
    expect(page.data!.auditLog.pageInfo.hasNextPage).toBe(true);
    expect(Number(next.data!.auditLog.nodes[0].id)).toBeLessThan(Number(page.data!.auditLog.nodes[0].id));
  });
});

const ANNOUNCEMENT_FIELDS = 'id title status publishedAt emailedAt createdBy packages { id }';

describe('announcements', () => {
  const seen = async (developer: SignedUpDeveloper, id: string) => {
    const res = await developer.gql(`{ announcements(first: 100) { nodes { id } } }`);
    expect(res.errors).toBeUndefined();
    return (res.data!.announcements.nodes as { id: string }[]).some((a) => a.id === id);
  };

  test('sizes and packages are checked: an empty or too long title or body, or an unknown package, is BAD_USER_INPUT', async () => {
    const create = (input: Record<string, unknown>) => op(`mutation C($i: CreateAnnouncementInput!) { createAnnouncement(input: $i) { id } }`, { i: input });
    expect(codeOf(await create({ title: ' ', body: 'b' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await create({ title: 't'.repeat(201), body: 'b' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await create({ title: 'Subject\r\nBcc: everyone@example.com', body: 'b' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await create({ title: 't', body: 'b'.repeat(20_001) }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await create({ title: 't', body: 'b', packageIds: [crypto.randomUUID()] }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await create({ title: 't', body: 'b', packageIds: ['not-an-id'] }))).toBe('BAD_USER_INPUT');
    const created = await create({ title: 't'.repeat(200), body: 'b'.repeat(20_000) });
    expect(created.errors).toBeUndefined();
    expect(codeOf(await op(`mutation { publishAnnouncement(input: { id: "${crypto.randomUUID()}" }) { id } }`))).toBe('NOT_FOUND');
    expect(codeOf(await op(`mutation { withdrawAnnouncement(input: { id: "${created.data!.createAnnouncement.id}", reason: "a draft" }) { id } }`))).toBe('CONFLICT');
  });

  test('until it is published, an announcement can be scheduled, taken back to a draft and retargeted; a past time means now', async () => {
    const pkg = await store.createPackage({ name: `Drafts ${tag}`, description: 'For tests', tier: 'FREE', scopes: ['orders:read'] });
    const created = await op(`mutation C($i: CreateAnnouncementInput!) { createAnnouncement(input: $i) { id } }`, { i: { title: `Plans ${tag}`, body: 'Soon.', packageIds: [pkg.id] } });
    const id = created.data!.createAnnouncement.id;
    const later = new Date(clock.now() + 86_400_000).toISOString();
    const scheduled = await op(`mutation P($id: ID!, $at: DateTime) { publishAnnouncement(input: { id: $id, at: $at }) { status publishedAt } }`, { id, at: later });
    expect(scheduled.data!.publishAnnouncement).toEqual({ status: 'SCHEDULED', publishedAt: later });
    const unscheduled = await op(`mutation U($i: UpdateAnnouncementInput!) { updateAnnouncement(input: $i) { status publishedAt packages { id } } }`, { i: { id, publishAt: null, packageIds: [] } });
    expect(unscheduled.data!.updateAnnouncement).toEqual({ status: 'DRAFT', publishedAt: null, packages: [] });
    const past = await op(`mutation P($id: ID!) { publishAnnouncement(input: { id: $id, at: "2020-01-01T00:00:00Z" }) { status publishedAt } }`, { id });
    expect(past.data!.publishAnnouncement.status).toBe('PUBLISHED');
    expect(Date.parse(past.data!.publishAnnouncement.publishedAt)).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z'));
    expect(codeOf(await op(`mutation U($i: UpdateAnnouncementInput!) { updateAnnouncement(input: $i) { id } }`, { i: { id, title: 'changed' } }))).toBe('CONFLICT');
    await op(`mutation W($id: ID!) { withdrawAnnouncement(input: { id: $id, reason: "Test only" }) { status } }`, { id });
  });

  test('one targeted at a package reaches, in the portal and by email, only the developers whose apps hold it', async () => {
    const pkg = await store.createPackage({ name: `Invoices ${tag}`, description: 'For tests', tier: 'FREE', scopes: ['orders:read'] });
    const holder = await signUpDeveloper(t, { name: `Holder ${tag}` });
    const quietHolder = await signUpDeveloper(t, { name: `Quiet ${tag}` });
    const outsider = await signUpDeveloper(t, { name: `Outsider ${tag}` });
    for (const developer of [holder, quietHolder]) {
      const { app } = await store.createApp({ name: `Invoicing ${tag}`, developerId: developer.developerId });
      await store.grantPackage('system:tests', { appKey: app.key, packageId: pkg.id, reason: 'tests' });
    }
    expect((await quietHolder.gql(`mutation { updateDeveloperProfile(input: { announcementEmails: false }) { announcementEmails } }`)).errors).toBeUndefined();

    const title = `Invoices change ${tag}`;
    const created = await op(`mutation C($i: CreateAnnouncementInput!) { createAnnouncement(input: $i) { ${ANNOUNCEMENT_FIELDS} } }`, { i: { title: 'draft title', body: '**Invoices** move to v2.', packageIds: [pkg.id] } });
    expect(created.errors).toBeUndefined();
    const draft = created.data!.createAnnouncement;
    expect(draft).toMatchObject({ status: 'DRAFT', publishedAt: null, emailedAt: null, createdBy: `operator:${operatorId}`, packages: [{ id: pkg.id }] });
    expect(await seen(holder, draft.id)).toBe(false);

    const updated = await op(`mutation U($i: UpdateAnnouncementInput!) { updateAnnouncement(input: $i) { title status } }`, { i: { id: draft.id, title } });
    expect(updated.data!.updateAnnouncement).toEqual({ title, status: 'DRAFT' });
    const published = await op(`mutation P($id: ID!) { publishAnnouncement(input: { id: $id }) { status publishedAt } }`, { id: draft.id });
    expect(published.data!.publishAnnouncement).toEqual({ status: 'PUBLISHED', publishedAt: expect.any(String) });

    expect(await seen(holder, draft.id)).toBe(true);
    expect(await seen(quietHolder, draft.id)).toBe(true);
    expect(await seen(outsider, draft.id)).toBe(false);
    const mail = await eventually(async () => (await mailsTo(holder.email, title))[0]);
    expect(mail.text).toContain('**Invoices** move to v2.');
    await eventually(async () => (await op(`{ operatorAnnouncements(first: 100) { nodes { id emailedAt } } }`)).data!.operatorAnnouncements.nodes.find((a: { id: string; emailedAt: string | null }) => a.id === draft.id)?.emailedAt);
    expect(await mailsTo(quietHolder.email, title)).toEqual([]);
    expect(await mailsTo(outsider.email, title)).toEqual([]);

    expect(codeOf(await op(`mutation U($id: ID!) { updateAnnouncement(input: { id: $id, body: "late" }) { id } }`, { id: draft.id }))).toBe('CONFLICT');
    expect(codeOf(await op(`mutation P($id: ID!) { publishAnnouncement(input: { id: $id }) { id } }`, { id: draft.id }))).toBe('CONFLICT');
    const withdrawn = await op(`mutation W($id: ID!) { withdrawAnnouncement(input: { id: $id, reason: "Wrong date" }) { status } }`, { id: draft.id });
    expect(withdrawn.data!.withdrawAnnouncement.status).toBe('WITHDRAWN');
    expect(await seen(holder, draft.id)).toBe(false);
    expect(codeOf(await op(`mutation W($id: ID!) { withdrawAnnouncement(input: { id: $id, reason: "again" }) { status } }`, { id: draft.id }))).toBe('CONFLICT');

    const log = await auditOf({ targetType: 'announcement', targetId: draft.id });
    expect(log.nodes.map((e) => [e.action, e.actor])).toEqual([
      ['announcement.withdrawn', `operator:${operatorId}`],
      ['announcement.emailed', 'system:announcement-emails'],
      ['announcement.published', `operator:${operatorId}`],
      ['announcement.updated', `operator:${operatorId}`],
      ['announcement.created', `operator:${operatorId}`],
    ]);
    expect(JSON.parse(log.nodes[1]!.details)).toEqual({ recipients: 1 });
  });

  test('a scheduled one appears when its time comes and is emailed once, however many runners look; one withdrawn before its time never is', async () => {
    const reader = await signUpDeveloper(t, { name: `Reader ${tag}` });
    const title = `Maintenance window ${tag}`;
    const dueAt = new Date(clock.now() + 3_600_000).toISOString();
    const scheduled = await op(`mutation C($i: CreateAnnouncementInput!) { createAnnouncement(input: $i) { ${ANNOUNCEMENT_FIELDS} } }`, { i: { title, body: 'Sunday 02:00 UTC.', publishAt: dueAt } });
    expect(scheduled.data!.createAnnouncement).toMatchObject({ status: 'SCHEDULED', publishedAt: dueAt });
    const cancelledTitle = `Cancelled ${tag}`;
    const cancelled = await op(`mutation C($i: CreateAnnouncementInput!) { createAnnouncement(input: $i) { id } }`, { i: { title: cancelledTitle, body: 'Never mind.', publishAt: dueAt } });
    expect((await op(`mutation W($id: ID!) { withdrawAnnouncement(input: { id: $id, reason: "Cancelled" }) { status } }`, { id: cancelled.data!.createAnnouncement.id })).data!.withdrawAnnouncement.status).toBe('WITHDRAWN');
    const id = scheduled.data!.createAnnouncement.id;
    expect(await seen(reader, id)).toBe(false);

    // A second runner, as another app-management process would run, on the same database.
    const logger = createLogger('silent');
    const otherProcess = startAnnouncementEmailRunner({ db: t.platform.database.db, clock, logger, publicUrl: t.platform.config.publicUrl, mailer: createMailer({ smtpUrl: undefined, from: 'test <t@example.com>', db: t.platform.database.db, logger }) });
    try {
      await clock.advance(3_600_000 + 1_000);
      await Promise.all([otherProcess.runDue(), otherProcess.runDue()]);
      expect(await seen(reader, id)).toBe(true);
      await eventually(async () => (await mailsTo(reader.email, title)).length > 0);
      await clock.advance(6_000); // every runner polls again
      await otherProcess.runDue();
      expect(await mailsTo(reader.email, title)).toHaveLength(1);
      expect(await mailsTo(reader.email, cancelledTitle)).toEqual([]);
    } finally {
      await otherProcess.stop();
    }
    const listed = await op(`{ operatorAnnouncements(first: 100) { nodes { id status emailedAt } } }`);
    const byId = new Map((listed.data!.operatorAnnouncements.nodes as { id: string; status: string; emailedAt: string | null }[]).map((a) => [a.id, a]));
    expect(byId.get(id)).toMatchObject({ status: 'PUBLISHED', emailedAt: expect.any(String) });
    expect(byId.get(cancelled.data!.createAnnouncement.id)).toMatchObject({ status: 'WITHDRAWN', emailedAt: null });
    expect((await auditOf({ targetId: id, action: 'announcement.emailed' })).totalCount).toBe(1);
  });
});

describe('only operators', () => {
  test('developer sessions and app tokens reach none of these operations', async () => {
    const developer = await signUpDeveloper(t, { name: `Curious ${tag}` });
    const appToken = await t.token({ merchantId: null });
    const operations = [
      `{ developers { totalCount } }`,
      `{ developer(id: "${developer.developerId}") { id } }`,
      `{ operatorAnnouncements { nodes { id } } }`,
      `mutation { verifyDeveloper(input: { developerId: "${developer.developerId}", reason: "me" }) { id } }`,
      `mutation { createAnnouncement(input: { title: "t", body: "b" }) { id } }`,
      `{ auditLog(filter: { actor: "x" }) { totalCount } }`,
    ];
    for (const query of operations) {
      for (const res of [await developer.gql(query), await t.gql(appToken, query)]) {
        // Nothing answered: no data, or the (nullable) field null with the refusal.
        expect(Object.values(res.data ?? {}).every((value) => value === null)).toBe(true);
        expect(['FORBIDDEN', 'UNAUTHENTICATED']).toContain(codeOf(res));
      }
    }
  });
});
