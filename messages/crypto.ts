/**
 * Encryption of the message channel.
 * - Each app has its own AES-256-GCM data key, versioned. It is stored wrapped (AES-256-GCM) with
 *   the platform's newest key-encryption key from KEYS_DIR; the database never holds it in plaintext.
 *   Rotating adds a version that encrypts from then on; older versions stay to decrypt older records.
 * - Every ciphertext is bound to its row (additional authenticated data), so a payload copied into
 *   another app's or another message's row does not decrypt.
 * - Cursors are sealed (encrypted and authenticated) so that they reveal nothing of the platform's
 *   volume and cannot be forged or used by another app or for another merchant.
 */
import crypto from 'node:crypto';
import { and, desc, eq } from 'drizzle-orm';
import type { Executor } from '../core/db.js';
import { systemClock, type Clock } from '../core/clock.js';
import { open, seal, type Kek } from '../core/sealing.js';
import { messageKeys } from './tables.js';
import type { MessageSource } from './topics.js';

/** A data key stays cached this long after it was unwrapped. */
const KEY_CACHE_MS = 60_000;

/** What a cursor says: the app and merchant stream it belongs to, and a position per source. */
export interface CursorState {
  appKey: string;
  merchantId: string;
  positions: Partial<Record<MessageSource, number>>;
}

export class InvalidCursorError extends Error {}

const CURSOR_PREFIX = 'mc1.';

export function createMessageCrypto(keks: readonly Kek[], clock: Clock = systemClock) {
  if (!keks.length) throw new Error('The message channel needs at least one key-encryption key');
  const cursorKeys = keks.map((k) => Buffer.from(crypto.hkdfSync('sha256', k.key, Buffer.alloc(0), 'portico message cursor v1', 32)));
  const dataKeys = new Map<string, { at: number; current: { version: number; key: Buffer }; byVersion: Map<number, Buffer> }>();

  const unwrap = (appKey: string, row: { version: number; kekId: string; wrappedKey: string }): Buffer => {
    const kek = keks.find((k) => k.id === row.kekId);
    if (!kek) throw new Error(`message key ${appKey} v${row.version} is wrapped with an unknown key-encryption key ${row.kekId}`);
    return open(kek.key, row.wrappedKey, `${appKey}:${row.version}`);
  };

  async function loadKeys(db: Executor, appKey: string) {
    const rows = await db.select().from(messageKeys).where(eq(messageKeys.appKey, appKey)).orderBy(desc(messageKeys.version));
    if (!rows.length) return undefined;
    const byVersion = new Map(rows.map((r) => [r.version, unwrap(appKey, r)]));
    const entry = { at: clock.now(), current: { version: rows[0]!.version, key: byVersion.get(rows[0]!.version)! }, byVersion };
    dataKeys.set(appKey, entry);
    return entry;
  }

  async function addVersion(db: Executor, appKey: string, version: number): Promise<void> {
    const kek = keks[0]!;
    await db
      .insert(messageKeys)
      .values({ appKey, version, kekId: kek.id, wrappedKey: seal(kek.key, crypto.randomBytes(32), `${appKey}:${version}`) })
      .onConflictDoNothing();
  }

  return {
    /** The key that encrypts an app's new records (created on first use). */
    async currentKey(db: Executor, appKey: string): Promise<{ version: number; key: Buffer }> {
      const cached = dataKeys.get(appKey);
      if (cached && clock.now() - cached.at < KEY_CACHE_MS) return cached.current;
      const loaded = (await loadKeys(db, appKey)) ?? (await addVersion(db, appKey, 1), await loadKeys(db, appKey));
      return loaded!.current;
    },

    async keyVersion(db: Executor, appKey: string, version: number): Promise<Buffer> {
      const key = dataKeys.get(appKey)?.byVersion.get(version) ?? (await loadKeys(db, appKey))?.byVersion.get(version);
      if (!key) throw new Error(`message key ${appKey} v${version} does not exist`);
      return key;
    },

    /** Adds a new key version for the app; it encrypts from now on (other processes pick it up within a minute). */
    async rotate(db: Executor, appKey: string): Promise<number> {
      const [latest] = await db.select({ version: messageKeys.version }).from(messageKeys).where(eq(messageKeys.appKey, appKey)).orderBy(desc(messageKeys.version)).limit(1);
      const version = (latest?.version ?? 0) + 1;
      await addVersion(db, appKey, version);
      dataKeys.delete(appKey);
      return version;
    },

    /** Drops the cached keys of an app (another process rotated them). */
    forget(appKey: string): void {
      dataKeys.delete(appKey);
    },

    async versionsOf(db: Executor, appKey: string): Promise<{ version: number; createdAt: Date }[]> {
      return db.select({ version: messageKeys.version, createdAt: messageKeys.createdAt }).from(messageKeys).where(and(eq(messageKeys.appKey, appKey))).orderBy(desc(messageKeys.version));
    },

    /**
     * A key for another purpose of the channel (the per-app buyer references of account events),
     * derived from the oldest key-encryption key: adding a newer one must not change what it derives.
     */
    derivedKey(purpose: string): Buffer {
      return Buffer.from(crypto.hkdfSync('sha256', keks[keks.length - 1]!.key, Buffer.alloc(0), purpose, 32));
    },

    sealCursor(state: CursorState): string {
      return CURSOR_PREFIX + seal(cursorKeys[0]!, JSON.stringify({ a: state.appKey, m: state.merchantId, p: state.positions }), 'cursor');
    },

    /** Opens a cursor; throws InvalidCursorError when it is not one of ours. */
    openCursor(cursor: string): CursorState {
      if (!cursor.startsWith(CURSOR_PREFIX)) throw new InvalidCursorError('not a message cursor');
      for (const key of cursorKeys) {
        try {
          const parsed = JSON.parse(open(key, cursor.slice(CURSOR_PREFIX.length), 'cursor').toString('utf8')) as { a: string; m: string; p: CursorState['positions'] };
          return { appKey: parsed.a, merchantId: parsed.m, positions: parsed.p };
        } catch {
          /* try the next key */
        }
      }
      throw new InvalidCursorError('not a message cursor');
    },
  };
}

export type MessageCrypto = ReturnType<typeof createMessageCrypto>;

/** Additional authenticated data of a record's payload or a delivery's pushed body. */
export const recordAad = (appKey: string, merchantId: string, source: string, position: number, what: 'payload' | 'pushed') =>
  `${appKey}|${merchantId}|${source}|${position}|${what}`;
