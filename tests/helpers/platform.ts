/**
 * A real platform per test file, on real HTTP and a real database: embedded PGlite in a temporary
 * DATA_DIR, or, when DATABASE_URL is set, a fresh database created on that PostgreSQL server and
 * dropped afterwards.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { mintAccessToken } from '../../core/tokens.js';
import { startPlatform, type PlatformOptions, type RunningPlatform } from '../../platform/index.js';
import { createAppManagementStore } from '../../subgraphs/app-management/store.js';

export const ALL_SCOPES = [
  'orders:read',
  'orders:read_pii',
  'orders:write',
  'products:read',
  'products:write',
  'inventory:write',
  'merchant:read',
  'users:read',
  'messages:orders',
  'messages:products',
  'messages:accounts',
  'reports:read',
];

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
  headers: Headers;
}

export interface TestPlatform {
  platform: RunningPlatform;
  url: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  token(input: { merchantId: string | null; appKey?: string; scopes?: string[]; ttlSeconds?: number; grantId?: string }): Promise<string>;
  gql<T = Record<string, any>>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

/** A fresh empty database on the server named by DATABASE_URL, or undefined for embedded PGlite. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) return undefined;
  const name = `portico_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export async function postGraphQL<T>(url: string, token: string | null, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: GraphQLResponse['errors'] };
  return { status: response.status, headers: response.headers, ...body };
}

export const TEST_APP_KEY = 'app_test';

/** The app tokens default to: registered, holding one package with every scope (once per database). */
async function registerTestApp(platform: RunningPlatform) {
  // With the platform's keys, so the app's secret is sealed as signed requests need it.
  const apps = createAppManagementStore(platform.database.db, platform.keys.messageKeks);
  if (await apps.appByKey(TEST_APP_KEY)) return;
  const developer = await apps.createDeveloper({ kind: 'COMPANY', name: 'Test ISV', email: `dev-${crypto.randomUUID()}@example.com`, verificationStatus: 'VERIFIED' });
  await apps.createApp({ key: TEST_APP_KEY, name: 'Test app', developerId: developer.id, status: 'LIVE' });
  const everything = await apps.createPackage({ name: `Every scope ${crypto.randomUUID()}`, description: 'All scopes, for tests', tier: 'FREE', scopes: ALL_SCOPES });
  await apps.grantPackage('system:tests', { appKey: TEST_APP_KEY, packageId: everything.id, reason: 'tests' });
}

export async function startTestPlatform(options: { seed?: boolean; dataDir?: string; databaseUrl?: string; extraEnv?: NodeJS.ProcessEnv } & PlatformOptions = {}): Promise<TestPlatform> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'portico-test-'));
  const database = options.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? database?.url;
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SEED_DEMO: options.seed ? 'true' : 'false',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...options.extraEnv,
  };
  const platform = await startPlatform(env, { ...(options.clock ? { clock: options.clock } : {}), ...(options.messageTuning ? { messageTuning: options.messageTuning } : {}) });
  await registerTestApp(platform);
  const url = platform.gateway.url;
  return {
    platform,
    url,
    dataDir,
    env,
    token: ({ merchantId, appKey = TEST_APP_KEY, scopes = ALL_SCOPES, ttlSeconds = 600, grantId }) =>
      mintAccessToken(platform.keys, {
        issuer: platform.config.publicUrl,
        audience: platform.config.apiAudience,
        appKey,
        merchantId,
        scope: scopes.join(' '),
        ttlSeconds,
        ...(grantId ? { grantId } : {}),
        // Issued on the platform's clock, which the gateway verifies them on.
        ...(options.clock ? { clock: options.clock } : {}),
      }),
    gql: (token, query, variables) => postGraphQL(url, token, query, variables),
    stop: async () => {
      await platform.stop();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
  };
}

/**
 * For a test file on the PostgreSQL server (tests/server-mode/): a platform, and a session of the
 * file's own on the platform's database (to hold a lock, end a backend), started before the file's
 * tests and stopped after them.
 */
export function platformWithAdminSession(extraEnv: Record<string, string> = {}, options: PlatformOptions = {}): { t: TestPlatform; admin: pg.Client } {
  const session = {} as { t: TestPlatform; admin: pg.Client };
  beforeAll(async () => {
    session.t = await startTestPlatform({ extraEnv, ...options });
    session.admin = new pg.Client({ connectionString: session.t.env.DATABASE_URL });
    await session.admin.connect();
  });
  afterAll(async () => {
    await session.admin?.end();
    await session.t?.stop();
  });
  return session;
}

/** Polls a condition until it holds (or fails the test after timeoutMs). */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
