/**
 * The embedded database's files under DATA_DIR, and their creation on a first start. Only Node's
 * own modules here: `npm start` imports this before the rest of the platform's code, to start the
 * creation first and load the code meanwhile.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Where the embedded database's files are under DATA_DIR. */
export const pgliteDir = (dataDir: string) => path.join(dataDir, 'pglite');

const INITIALIZING_PREFIX = 'pglite.init-';

/**
 * Creates the embedded database cluster under `dataDir` if there is none yet, in a child process:
 * PGlite's initdb runs two PostgreSQL instances besides initdb itself, about 430 MB of WASM memory
 * (in this process it stayed until a major GC, and a worker thread left 150 MB behind) and 2-4 s
 * of CPU. In a child process that memory goes with it, and a caller that does not wait at once
 * (`npm start`) loads its code on the other core meanwhile. The cluster is made in a fresh folder
 * and renamed into place when complete, so an interrupted initdb never leaves a half-made cluster
 * that a later start would take for one.
 */
export async function initializePglite(dataDir: string): Promise<void> {
  const dir = pgliteDir(dataDir);
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return;
  // A non-empty folder without PG_VERSION is not ours to replace: PGlite says what it makes of it.
  if (fs.existsSync(dir) && fs.readdirSync(dir).length) return;
  fs.mkdirSync(dataDir, { recursive: true });
  // What an interrupted first start left (one process at a time uses a DATA_DIR).
  for (const entry of fs.readdirSync(dataDir)) if (entry.startsWith(INITIALIZING_PREFIX)) fs.rmSync(path.join(dataDir, entry), { recursive: true, force: true });
  const fresh = path.join(dataDir, `${INITIALIZING_PREFIX}${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    // Plain JavaScript, without this process's flags (tsx's loader): it starts in milliseconds.
    const child = spawn(process.execPath, ['-e', INITDB_SCRIPT, createRequire(import.meta.url).resolve('@electric-sql/pglite'), fresh], { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk) => (errors += chunk));
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`initdb of the embedded database failed (${signal ?? code}): ${errors.trim()}`))));
    });
    // An empty folder in the way (an earlier start's) goes first: not every system renames over one.
    if (fs.existsSync(dir)) fs.rmdirSync(dir);
    fs.renameSync(fresh, dir);
  } finally {
    fs.rmSync(fresh, { recursive: true, force: true });
  }
}

/**
 * `node -e INITDB_SCRIPT <pglite module> <folder>`: creates a cluster in the folder and stops.
 * WebAssembly runs on V8's baseline compiler only: optimizing PGlite's hot functions cost this
 * short run more than it saved (3.3-3.9 s of CPU for initdb instead of 1.9-2.1 s). An unknown flag
 * (a later V8) is only reported.
 */
const INITDB_SCRIPT = `
const [pglite, dir] = process.argv.slice(1);
require('node:v8').setFlagsFromString('--liftoff-only');
const { PGlite } = require(pglite);
(async () => {
  const db = new PGlite(dir);
  await db.waitReady;
  await db.close();
})();
`;
