/** The embedded database under DATA_DIR: created whole on a first start, kept on the next ones, light on memory. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { openPglite } from '../core/db.js';
import { initializePglite, pgliteDir } from '../core/pglite-cluster.js';

const dataDirs: string[] = [];
const freshDataDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-embedded-'));
  dataDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

test('a first start creates the cluster in place, leaving nothing of an earlier interrupted one, and its data stays across opens', async () => {
  const dataDir = freshDataDir();
  // What a start stopped during initdb leaves behind.
  const interrupted = path.join(dataDir, 'pglite.init-999999-deadbeef');
  fs.mkdirSync(interrupted);
  fs.writeFileSync(path.join(interrupted, 'PG_VERSION'), '17\n');

  await initializePglite(dataDir);
  expect(fs.existsSync(path.join(pgliteDir(dataDir), 'PG_VERSION'))).toBe(true);
  expect(fs.readdirSync(dataDir).filter((entry) => entry.startsWith('pglite.init-'))).toEqual([]);

  const first = await openPglite(dataDir);
  await first.db.execute(sql`create table kept (note text)`);
  await first.db.execute(sql`insert into kept values ('still here')`);
  await first.close();

  // Already there: left as it is.
  const version = fs.statSync(path.join(pgliteDir(dataDir), 'PG_VERSION')).mtimeMs;
  await initializePglite(dataDir);
  expect(fs.statSync(path.join(pgliteDir(dataDir), 'PG_VERSION')).mtimeMs).toBe(version);

  const second = await openPglite(dataDir);
  try {
    const { rows } = (await second.db.execute(sql`select note from kept`)) as unknown as { rows: { note: string }[] };
    expect(rows).toEqual([{ note: 'still here' }]);
  } finally {
    await second.close();
  }
});

test('openPglite creates the cluster itself when nothing did, with small shared buffers', async () => {
  const dataDir = freshDataDir();
  const database = await openPglite(dataDir);
  try {
    const { rows } = (await database.db.execute(sql`show shared_buffers`)) as unknown as { rows: { shared_buffers: string }[] };
    expect(rows[0]!.shared_buffers).toBe('32MB');
    expect(fs.existsSync(path.join(pgliteDir(dataDir), 'PG_VERSION'))).toBe(true);
  } finally {
    await database.close();
  }
});

test('a folder that is not a cluster and not empty is not replaced', async () => {
  const dataDir = freshDataDir();
  fs.mkdirSync(pgliteDir(dataDir));
  fs.writeFileSync(path.join(pgliteDir(dataDir), 'notes.txt'), 'mine');
  await initializePglite(dataDir);
  expect(fs.readdirSync(pgliteDir(dataDir))).toEqual(['notes.txt']);
});
