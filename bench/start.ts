/**
 * How long `npm start` takes to be ready, first on an empty DATA_DIR (the demo seed included) and
 * then restarted on the same DATA_DIR, and how much memory it holds once ready.
 * "Ready" is what a newcomer waits for: the start banner is printed and the gateway answers a real
 * GraphQL query with the demo token of demo.json.
 *
 * `tsx bench/start.ts` (or `BENCH_ONLY=start npm run bench`): BENCH_START_ROUNDS pairs (default 3)
 * of first start and restart, each on a fresh DATA_DIR and its own port. Prints one JSON line per
 * start and a summary (min / median / max). With BENCH_START_BASELINE=<another checkout, with its
 * node_modules>, that checkout's `npm start` is measured too, alternated with this one's (which goes
 * first alternates), so that a change is compared under the same load on this shared machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../tests/helpers/processes.js';
import { launchNpmStart, projectRoot } from './npm-start.js';
import { processTreeRssKb, rssKb } from './process-memory.js';

export interface StartMeasurement {
  kind: 'first' | 'restart';
  /** `change` (this checkout) or `baseline` (BENCH_START_BASELINE). */
  target: string;
  /** From spawning `npm start` to the banner and a query answered with the demo token, in ms. */
  readyMs: number;
  /** When the banner was printed, in ms after the spawn. */
  bannerMs: number;
  /** RSS once ready, in MB: the node process that runs the platform, and the whole tree (npm and sh included). */
  rssMb: number;
  treeRssMb: number;
  /** Lines the platform printed between spawn and ready that were not the banner (warnings), for the record. */
  stderr: string;
}

/** Spawns `npm start` as a newcomer runs it, waits until it is ready, measures, and stops it with SIGTERM. */
export async function measureStart(kind: StartMeasurement['kind'], dataDir: string, port: number, root = projectRoot): Promise<StartMeasurement> {
  const run = launchNpmStart({ dataDir, port, root });
  try {
    const { readyMs, bannerMs } = await run.ready;
    return {
      kind,
      target: root === projectRoot ? 'change' : 'baseline',
      readyMs,
      bannerMs,
      rssMb: Math.round(rssKb(run.platformPid()) / 1024),
      treeRssMb: Math.round(processTreeRssKb(run.child.pid!) / 1024),
      stderr: run.output().stderr.trim(),
    };
  } finally {
    await run.stop();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
export const spread = (values: number[]) => ({ min: Math.min(...values), median: median(values), max: Math.max(...values) });

/** BENCH_START_ROUNDS pairs of first start and restart (of each checkout); returns every measurement and the summary. */
export async function runStartScenario(rounds = Number(process.env.BENCH_START_ROUNDS ?? 3)) {
  const baseline = process.env.BENCH_START_BASELINE ? path.resolve(process.env.BENCH_START_BASELINE) : null;
  const roots = baseline ? [projectRoot, baseline] : [projectRoot];
  const measurements: StartMeasurement[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const root of round % 2 ? [...roots].reverse() : roots) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-start-bench-'));
      try {
        for (const kind of ['first', 'restart'] as const) {
          const m = await measureStart(kind, dataDir, await freePort(), root);
          measurements.push(m);
          console.log(JSON.stringify({ scenario: 'start', round, ...m }));
        }
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
  const summaries = roots.map((root) => {
    const target = root === projectRoot ? 'change' : 'baseline';
    const of = (kind: StartMeasurement['kind']) => measurements.filter((m) => m.target === target && m.kind === kind);
    return {
      scenario: 'start',
      target,
      ...(root === projectRoot ? {} : { baseline: root }),
      rounds,
      firstReadyMs: spread(of('first').map((m) => m.readyMs)),
      restartReadyMs: spread(of('restart').map((m) => m.readyMs)),
      firstRssMb: spread(of('first').map((m) => m.rssMb)),
      restartRssMb: spread(of('restart').map((m) => m.rssMb)),
      treeRssMb: spread([...of('first'), ...of('restart')].map((m) => m.treeRssMb)),
      targets: { firstReadyMs: 10_000, restartReadyMs: 5_000, rssMb: 500 },
    };
  });
  for (const summary of summaries) console.log(JSON.stringify(summary));
  return { measurements, summaries };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runStartScenario().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
