/**
 * `npm start` run from the outside, as a user runs it: a child process tree (npm, its shell, node)
 * on its own DATA_DIR and PORT, ready when the start banner is printed and the gateway answers a
 * GraphQL query with demo.json's token, stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcessTree } from './process-memory.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const READY_QUERY = '{ orders(first: 3) { nodes { number status total { amount currency } lines { quantity product { title } } } } }';

export interface NpmStart {
  /** The npm process (the root of the tree, and of its process group). */
  child: ChildProcess;
  /** The node process under npm that runs the platform. */
  platformPid(): number;
  output(): { stdout: string; stderr: string };
  /** Resolves once ready: ms from the spawn to ready, and to the banner. */
  ready: Promise<{ readyMs: number; bannerMs: number }>;
  /** SIGTERM to the whole tree; resolves with npm's exit code once every process of it is gone. */
  stop(): Promise<number | null>;
}

export function launchNpmStart(options: { dataDir: string; port: number; root?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): NpmStart {
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: options.root ?? projectRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: options.dataDir, PORT: String(options.port), LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // One process group, so that SIGTERM reaches npm, its shell and node alike.
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  let bannerMs: number | undefined;
  child.stdout!.on('data', (d) => {
    stdout += d;
    if (bannerMs === undefined && stdout.includes('Portico is running')) bannerMs = performance.now() - started;
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${options.port}/graphql`;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const ready = (async () => {
    while (performance.now() < started + timeoutMs) {
      if (child.exitCode !== null) throw new Error(`npm start exited early (${child.exitCode}):\n${stdout}\n${stderr}`);
      if (bannerMs !== undefined && (await answersWithDemoToken(url, options.dataDir))) return { readyMs: Math.round(performance.now() - started), bannerMs: Math.round(bannerMs) };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`npm start was not ready in ${timeoutMs} ms:\n${stdout}\n${stderr}`);
  })();
  let stopping: Promise<number | null> | undefined;
  return {
    child,
    platformPid: () => platformPid(child.pid!),
    output: () => ({ stdout, stderr }),
    ready,
    stop: () => (stopping ??= stopProcessTree(child, exited).then(() => exited)),
  };
}

async function answersWithDemoToken(url: string, dataDir: string): Promise<boolean> {
  let token: string;
  try {
    token = (JSON.parse(fs.readFileSync(path.join(dataDir, 'demo.json'), 'utf8')) as { accessToken: string }).accessToken;
  } catch {
    return false;
  }
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: READY_QUERY }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await response.json()) as { data?: { orders?: { nodes?: unknown[] } }; errors?: unknown };
    return response.ok && !body.errors && (body.data?.orders?.nodes?.length ?? 0) === 3;
  } catch {
    return false;
  }
}

/** The node process under `npm start` (npm → sh → node): the deepest descendant. */
function platformPid(rootPid: number): number {
  let pid = rootPid;
  for (;;) {
    let children: number[] = [];
    try {
      children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      /* gone */
    }
    if (!children.length) return pid;
    pid = children[0]!;
  }
}
