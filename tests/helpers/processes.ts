/** Running the platform's own entry points as real child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Child {
  process: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs `node [nodeFlags] --import tsx <script>` (or plain `node` for built JavaScript) from the project root. */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, nodeFlags: string[] = [], options = { typescript: true }): Child {
  const loader = options.typescript ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...nodeFlags, ...loader, script, ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { process: child, output: () => output, exited };
}

/**
 * A port for a child process to listen on. It is picked below the kernel's ephemeral range, which
 * is where every `listen(0)` and every outgoing connection on the machine takes its port: a port
 * from that range, probed and released, could be taken by another test's socket before the child
 * binds it (an EADDRINUSE seen in CI with the old probe of `listen(0)`). Here only another explicit
 * pick of the same port could collide, so each pick is random and checked free.
 */
export async function freePort(): Promise<number> {
  const ephemeralStart = ephemeralRangeStart();
  const low = Math.max(10_000, ephemeralStart - 16_000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (ephemeralStart - low));
    if (picked.has(port)) continue;
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!free) continue;
    await new Promise((resolve) => server.close(resolve));
    picked.add(port);
    return port;
  }
  throw new Error('no free port found below the ephemeral range');
}
const picked = new Set<number>();

function ephemeralRangeStart(): number {
  try {
    const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(start) && start > 11_000) return start;
  } catch {
    // Not Linux: the IANA ephemeral range starts at 49152.
  }
  return 49_152;
}

/** Polls a URL until it answers 200, or fails after `timeoutMs` with what the child printed. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`process exited early:\n${child.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up in ${timeoutMs} ms:\n${child.output()}`);
}
