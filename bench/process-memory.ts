/** Resident memory of a process and its descendants (Linux /proc), and stopping such a tree. */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/** VmRSS of one process in kB (0 once it is gone). */
export function rssKb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The process and all its descendants. */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    try {
      const children = fs.readFileSync(`/proc/${tree[i]}/task/${tree[i]}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      tree.push(...children);
    } catch {
      /* gone meanwhile */
    }
  }
  return tree;
}

/** Sum of VmRSS over the process and its descendants (npm → sh → node for `npm start`), in kB. */
export function processTreeRssKb(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + rssKb(p), 0);
}

/**
 * Sends SIGTERM to the child's process group (it must have been spawned `detached`, so npm, its
 * shell and node are one group) and waits until every process of it is gone; SIGKILL after 15 s.
 */
export async function stopProcessTree(child: ChildProcess, exited: Promise<unknown>, graceMs = 15_000): Promise<void> {
  const group = child.pid!;
  const members = processTree(group);
  const alive = () => members.filter((pid) => fs.existsSync(`/proc/${pid}`) && !isZombie(pid));
  try {
    process.kill(-group, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive().length) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await exited;
}

function isZombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
