/**
 * The principal matrix (issue 34, point 8): no console or merchant-page operation accepts an app's
 * or a developer's credentials. The operations come from the supergraph itself: every public Query
 * and Mutation field whose @requiresScopes names only `operator` (the console's) or names `staff`
 * (the merchant page's). Each is called, with arguments built from its declared types, by
 *   - an app token for a merchant holding every scope of the catalog,
 *   - an app's own client-credentials token (from /oauth/token, every scope of the catalog asked),
 *   - a developer's portal session,
 *   - a merchant staff member's session (operator operations only),
 *   - an operator's console session past the password but not the second factor (a few operator operations),
 * and must be refused with no data; an operator token and an operator's console session must get
 * past authorization for each (made-up arguments may still be NOT_FOUND or BAD_USER_INPUT, never
 * FORBIDDEN). A new operator operation an app token reached would fail here without anyone listing it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import {
  buildASTSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isAbstractType,
  isScalarType,
  parse,
  type ConstDirectiveNode,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import { schemaDir } from '../core/paths.js';
import { createAccountStore } from '../subgraphs/account/store.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { apps } from '../subgraphs/app-management/tables.js';
import { createMerchant } from './helpers/factories.js';
import { cookieHeaderOf, postJson, signUpDeveloper } from './helpers/developer.js';
import { consolePasswordStep, enrolOperator, mintTestOperatorToken } from './helpers/operator.js';
import { startTestPlatform, type GraphQLResponse, type TestPlatform } from './helpers/platform.js';

const CATALOG = (JSON.parse(fs.readFileSync(path.join(schemaDir, 'scopes.json'), 'utf8')) as { name: string }[]).map((s) => s.name);
const SUPERGRAPH = fs.readFileSync(path.join(schemaDir, 'supergraph.graphql'), 'utf8');
const schema = buildASTSchema(parse(SUPERGRAPH), { assumeValidSDL: true });

/** Refusals: what the gateway or a subgraph answers a principal that may not call an operation. */
const REFUSAL_CODES = new Set(['FORBIDDEN', 'UNAUTHENTICATED', 'UNAUTHORIZED']);

const directive = (node: { directives?: readonly ConstDirectiveNode[] | undefined } | null | undefined, name: string) => node?.directives?.find((d) => d.name.value === name);
const inaccessible = (node: { directives?: readonly ConstDirectiveNode[] | undefined } | null | undefined) => !!directive(node, 'inaccessible');

/** A field's @requiresScopes alternatives (outer list: any of; inner: all of); null when it has none. */
function scopeAlternatives(field: GraphQLField<unknown, unknown>): string[][] | null {
  const requires = directive(field.astNode, 'requiresScopes');
  const scopes = requires?.arguments?.find((a) => a.name.value === 'scopes')?.value;
  if (!scopes || scopes.kind !== 'ListValue') return null;
  return scopes.values.map((alternative) => (alternative.kind === 'ListValue' ? alternative.values.map((v) => (v.kind === 'StringValue' ? v.value : '')) : []));
}

interface Operation {
  kind: 'query' | 'mutation';
  name: string;
  document: string;
  variables: Record<string, unknown>;
  alternatives: string[][];
}

/** A value of an input type, as a client would send it: required fields only, each the simplest valid value. */
function valueOf(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return valueOf(type.ofType);
  if (isListType(type)) return [valueOf(type.ofType)];
  if (isEnumType(type)) return type.getValues().find((v) => !inaccessible(v.astNode))!.name;
  if (isInputObjectType(type)) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined && !inaccessible(f.astNode))
        .map((f) => [f.name, valueOf(f.type)]),
    );
  }
  if (isScalarType(type)) {
    const scalars: Record<string, unknown> = { ID: crypto.randomUUID(), String: 'matrix', Int: 1, Float: 1, Boolean: true, Long: 1, DateTime: '2026-01-01T00:00:00.000Z', JSON: {} };
    return type.name in scalars ? scalars[type.name] : 'matrix';
  }
  throw new Error(`no value for ${String(type)}`);
}

function operationOf(kind: Operation['kind'], field: GraphQLField<unknown, unknown>, alternatives: string[][]): Operation {
  const args = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined && !inaccessible(a.astNode));
  const named = getNamedType(field.type);
  const selection = isObjectType(named) || isAbstractType(named) ? ' { __typename }' : '';
  const definitions = args.length ? `(${args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ')})` : '';
  const call = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  return {
    kind,
    name: field.name,
    document: `${kind} Matrix${definitions} { ${field.name}${call}${selection} }`,
    variables: Object.fromEntries(args.map((a) => [a.name, valueOf(a.type)])),
    alternatives,
  };
}

/** The public root fields whose scopes match `keep`. */
function operations(keep: (alternatives: string[][]) => boolean): Operation[] {
  const roots: [Operation['kind'], GraphQLObjectType | null | undefined][] = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ];
  return roots.flatMap(([kind, type]) =>
    Object.values(type?.getFields() ?? {}).flatMap((field) => {
      const alternatives = scopeAlternatives(field);
      return !inaccessible(field.astNode) && alternatives && keep(alternatives) ? [operationOf(kind, field, alternatives)] : [];
    }),
  );
}

const OPERATOR_OPERATIONS = operations((alts) => alts.length > 0 && alts.every((alt) => alt.length === 1 && alt[0] === 'operator'));
const STAFF_OPERATIONS = operations((alts) => alts.some((alt) => alt.includes('staff')));
/** Merchant-page operations an app may also call for its merchant, by a scope of the catalog (the merchant's console app). */
const ALSO_APP_OPERATIONS = STAFF_OPERATIONS.filter((op) => op.alternatives.some((alt) => alt.every((scope) => CATALOG.includes(scope)))).map((op) => op.name);

type Caller = (op: Operation) => Promise<GraphQLResponse>;

let t: TestPlatform;
const callers = {} as Record<'merchantApp' | 'clientCredentials' | 'developer' | 'staff' | 'pendingOperator' | 'operator' | 'operatorSession', Caller>;

async function withCookie(session: { cookie: string; csrfToken: string }, op: Operation): Promise<GraphQLResponse> {
  const response = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: session.cookie, 'x-csrf-token': session.csrfToken },
    body: JSON.stringify({ query: op.document, variables: op.variables }),
  });
  const body = (await response.json()) as { data?: Record<string, unknown> | null; errors?: GraphQLResponse['errors'] };
  return { status: response.status, headers: response.headers, ...body };
}

beforeAll(async () => {
  t = await startTestPlatform();
  const db = t.platform.database.db;
  const store = createAppManagementStore(db, t.platform.keys.messageKeks);
  const developer = await store.createDeveloper({ kind: 'INDIVIDUAL', name: 'Matrix ISV', email: `matrix-${crypto.randomUUID()}@example.com`, verificationStatus: 'VERIFIED' });
  const { app, secret } = await store.createApp({ key: `app_matrix_${crypto.randomBytes(4).toString('hex')}`, name: 'Matrix app', developerId: developer.id, status: 'LIVE' });
  const everything = await store.createPackage({ name: `Matrix catalog ${crypto.randomUUID()}`, description: 'Every scope of the catalog', tier: 'FREE', scopes: CATALOG });
  await store.grantPackage('system:tests', { appKey: app.key, packageId: everything.id, reason: 'principal matrix' });
  // Hundreds of calls in a row: refusals must not turn into throttling.
  await db.update(apps).set({ bucketSizeOverride: 100_000, restoreRateOverride: 100_000, dailyQuotaOverride: 100_000 }).where(eq(apps.id, app.id));

  const merchant = await createMerchant(t, 'Matrix Shop');
  const grantId = `grant-${crypto.randomUUID()}`;
  await createAccountStore(db).recordAuthorization({ grantId, merchantId: merchant.id, appKey: app.key, appName: app.name, scopes: CATALOG, authorizedBy: null });
  const merchantToken = await t.token({ merchantId: merchant.id, appKey: app.key, scopes: CATALOG, grantId });
  callers.merchantApp = (op) => t.gql(merchantToken, op.document, op.variables);

  const issued = await fetch(new URL('/oauth/token', t.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.key}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: CATALOG.join(' ') }).toString(),
  });
  if (issued.status !== 200) throw new Error(`client credentials: ${issued.status} ${await issued.text()}`);
  const appToken = ((await issued.json()) as { access_token: string }).access_token;
  callers.clientCredentials = (op) => t.gql(appToken, op.document, op.variables);

  const portal = await signUpDeveloper(t);
  callers.developer = (op) => withCookie(portal.session, op);

  const password = `matrix-${crypto.randomUUID()}`;
  const staff = await createAccountStore(db).createStaff({ merchantId: merchant.id, email: `staff-${crypto.randomUUID()}@example.com`, name: 'Matrix Manager', password });
  const signedIn = await postJson(t, '/auth/merchant/sign-in', { email: staff.email, password });
  if (signedIn.status !== 200) throw new Error(`staff sign-in: ${signedIn.status} ${JSON.stringify(signedIn.body)}`);
  const staffSession = { cookie: cookieHeaderOf(signedIn.headers), csrfToken: signedIn.body.csrfToken as string };
  callers.staff = (op) => withCookie(staffSession, op);

  const operatorEmail = `ops-${crypto.randomUUID()}@portico.example`;
  const operatorPassword = `matrix-operator-${crypto.randomUUID()}`;
  await store.createOperator({ email: operatorEmail, name: 'Matrix Operator', password: operatorPassword });
  const enrolled = await enrolOperator(t, operatorEmail, operatorPassword);
  callers.operatorSession = (op) => withCookie(enrolled.session, op);
  // The password again, the second factor not given: a session that must reach nothing yet.
  const pending = await consolePasswordStep(t, operatorEmail, operatorPassword);
  callers.pendingOperator = (op) => withCookie(pending, op);

  const operatorToken = await mintTestOperatorToken(t);
  callers.operator = (op) => t.gql(operatorToken, op.document, op.variables);
}, 60_000);
afterAll(() => t?.stop());

const codesOf = (res: GraphQLResponse) => (res.errors ?? []).map((e) => String(e.extensions?.code ?? 'NONE'));

/** Why a call was not refused as it should be ('' when it was). */
function notRefused(res: GraphQLResponse, op: Operation): string {
  const data = res.data as Record<string, unknown> | null | undefined;
  if (data && data[op.name] !== null && data[op.name] !== undefined) return `answered data ${JSON.stringify(data[op.name]).slice(0, 80)}`;
  if (res.status === 401 || res.status === 403) return '';
  const codes = codesOf(res);
  if (!codes.length) return `HTTP ${res.status} without errors`;
  return codes.every((code) => REFUSAL_CODES.has(code)) ? '' : `HTTP ${res.status} ${codes.join(', ')}`;
}

/** Why a call that should get past authorization did not ('' when it did). */
function refusedByAuthorization(res: GraphQLResponse): string {
  const codes = codesOf(res);
  if (res.status === 401 || res.status === 403 || codes.some((code) => REFUSAL_CODES.has(code))) return `HTTP ${res.status} ${codes.join(', ')}`;
  return '';
}

/** Calls every operation as `who` (a few at a time) and lists the calls whose answer `judge` finds wrong. */
async function misjudged(who: keyof typeof callers, ops: Operation[], judge: (res: GraphQLResponse, op: Operation) => string): Promise<string[]> {
  const wrong: string[] = [];
  for (let i = 0; i < ops.length; i += 6) {
    await Promise.all(
      ops.slice(i, i + 6).map(async (op) => {
        const why = judge(await callers[who](op), op);
        if (why) wrong.push(`${op.kind} ${op.name}: ${why}`);
      }),
    );
  }
  return wrong.sort();
}

test('the console and merchant page operations are found in the supergraph', () => {
  // The list the rest of the matrix runs over: a renamed directive or an empty list would make it pass vacuously.
  expect(OPERATOR_OPERATIONS.length).toBeGreaterThanOrEqual(25);
  expect(OPERATOR_OPERATIONS.map((op) => op.name)).toEqual(expect.arrayContaining(['app', 'apps', 'setAppStatus', 'grantPermissionPackage', 'liveSubscriptions', 'platformCallReport']));
  expect(STAFF_OPERATIONS.map((op) => op.name)).toEqual(expect.arrayContaining(['viewerStaff', 'revokeAppAuthorization']));
  // The one merchant-page operation a merchant's console app may also call (with authorizations:manage).
  expect(ALSO_APP_OPERATIONS).toEqual(['revokeAppAuthorization']);
});

describe.each([
  ['an app token for a merchant with every scope of the catalog', 'merchantApp'],
  ["an app's own client-credentials token", 'clientCredentials'],
  ["a developer's portal session", 'developer'],
  ["a merchant staff member's session", 'staff'],
] as const)('%s', (_, who) => {
  test('is refused every operator operation, with no data', async () => {
    expect(await misjudged(who, OPERATOR_OPERATIONS, notRefused)).toEqual([]);
  });

  if (who !== 'staff') {
    test("is refused every merchant page operation, with no data (a merchant's app revokes its merchant's authorizations by authorizations:manage)", async () => {
      const ops = STAFF_OPERATIONS.filter((op) => !(who === 'merchantApp' && ALSO_APP_OPERATIONS.includes(op.name)));
      expect(await misjudged(who, ops, notRefused)).toEqual([]);
    });
  }
});

test('an operator gets past authorization in every operator operation and merchant page operation', async () => {
  expect(await misjudged('operator', [...OPERATOR_OPERATIONS, ...STAFF_OPERATIONS.filter((op) => op.alternatives.some((alt) => alt.includes('operator')))], refusedByAuthorization)).toEqual([]);
});

test("an operator's console session before the second factor is refused operator operations, with no data", async () => {
  // Refused as a session (HTTP 401) before any operation is looked at, and each refusal counts as a
  // failed authentication of this address: a few operations say it without locking the address out.
  const sample = OPERATOR_OPERATIONS.filter((op) => ['liveSubscriptions', 'apps', 'setAppStatus'].includes(op.name));
  expect(sample).toHaveLength(3);
  expect(await misjudged('pendingOperator', sample, notRefused)).toEqual([]);
  expect((await callers.pendingOperator(sample[0]!)).status).toBe(401);
});

test("an operator's console session (password and TOTP) gets past authorization in every operator operation", async () => {
  expect(await misjudged('operatorSession', OPERATOR_OPERATIONS, refusedByAuthorization)).toEqual([]);
});

test('a staff session gets past authorization in the merchant page operations', async () => {
  expect(await misjudged('staff', STAFF_OPERATIONS, refusedByAuthorization)).toEqual([]);
});
