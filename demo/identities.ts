/**
 * The demo's identities (issue 32): a second app of the demo developer and an app of another
 * developer (so openids differ per app and unionids per developer), two buyers who sign in on the
 * passport with a password, and a guest with two orders at the demo merchant, ready to be bound to
 * a buyer who signs in (the README walks through it).
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { v5 as uuidv5 } from 'uuid';
import type { Db } from '../core/db.js';
import { hashSecret } from '../core/secrets.js';
import type { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { buyerAccounts, guestIds, userMerchants, users } from '../subgraphs/account/tables.js';

const NAMESPACE = '3c1b0e9a-7f42-4d6e-b8a5-1e2d3c4b5a69';
const demoId = (name: string) => uuidv5(name, NAMESPACE);

export const DEMO_STOREFRONT_APP_KEY = 'app_demo_storefront';
export const DEMO_OTHER_DEVELOPER_APP_KEY = 'app_demo_bluebird_crm';
export const DEMO_BUYER_EMAIL = 'gwen@buyers.example';
export const DEMO_SECOND_BUYER_EMAIL = 'hugo@buyers.example';
/** The guest id the demo app gave a visitor of its shop, who placed two orders without signing in. */
export const DEMO_GUEST_ID = 'demo-device-7f3a';

export interface DemoIdentities {
  buyerEmails: string[];
  /** Generated at seed time, shown once (kept in demo.json like the other demo passwords). */
  buyerPassword: string;
  appSecrets: Record<string, string>;
}

type AppStore = ReturnType<typeof createAppManagementStore>;

export async function seedDemoIdentities(
  db: Db,
  apps: AppStore,
  input: { demoDeveloperId: string; merchantId: string; redirectUri: string; packageIds: string[]; guestAppKey: string },
): Promise<DemoIdentities> {
  const appSecrets: Record<string, string> = {};
  const storefront = await apps.createApp({ id: demoId('app:storefront'), key: DEMO_STOREFRONT_APP_KEY, name: 'Acme Storefront', developerId: input.demoDeveloperId, status: 'SANDBOX', redirectUris: [input.redirectUri] });
  appSecrets[storefront.app.key] = storefront.secret;
  const bluebird = await apps.createDeveloper({ id: demoId('developer:bluebird'), kind: 'COMPANY', name: 'Bluebird Labs', email: 'dev@bluebird.example', verificationStatus: 'VERIFIED' });
  const crm = await apps.createApp({ id: demoId('app:bluebird-crm'), key: DEMO_OTHER_DEVELOPER_APP_KEY, name: 'Bluebird CRM', developerId: bluebird.id, status: 'SANDBOX', redirectUris: [input.redirectUri] });
  appSecrets[crm.app.key] = crm.secret;
  for (const key of [storefront.app.key, crm.app.key]) {
    for (const packageId of input.packageIds) await apps.grantPackage('system:demo-seed', { appKey: key, packageId, reason: 'Demo apps hold the demo packages' });
  }

  const buyerPassword = crypto.randomBytes(12).toString('base64url');
  const passwordHash = await hashSecret(buyerPassword);
  const now = new Date();
  const buyers = [
    { id: demoId('buyer:gwen'), email: DEMO_BUYER_EMAIL, name: 'Gwen' },
    { id: demoId('buyer:hugo'), email: DEMO_SECOND_BUYER_EMAIL, name: 'Hugo' },
  ];
  const guest = demoId('guest:device-7f3a');
  await db.transaction(async (tx) => {
    await tx.insert(users).values([...buyers.map((b) => ({ id: b.id, nickname: b.name, isVirtual: false })), { id: guest, nickname: 'Guest', isVirtual: true }]);
    await tx.insert(buyerAccounts).values(buyers.map((b) => ({ id: b.id, email: b.email, name: b.name, passwordHash, emailVerifiedAt: now })));
    await tx.insert(guestIds).values({ appKey: input.guestAppKey, guestId: DEMO_GUEST_ID, userId: guest });
    await tx.insert(userMerchants).values({ userId: guest, merchantId: input.merchantId });
    // The guest's orders: the demo merchant's two newest, as if placed through the demo app.
    await tx.execute(sql`update "order".orders set buyer_id = ${guest} where id in (select id from "order".orders where merchant_id = ${input.merchantId} order by created_at desc, id limit 2)`);
  });
  return { buyerEmails: buyers.map((b) => b.email), buyerPassword, appSecrets };
}
