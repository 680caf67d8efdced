/**
 * CPU and memory of a process together with everything it started, from Linux /proc — for bench:relay,
 * where the server's restream work is partly done by its ffmpeg children, which may come and go: a child
 * that exits and is reaped moves its CPU time into its parent's cutime/cstime, so "the tree" is the sum of
 * utime + stime + cutime + cstime over the process and its living descendants, and nothing is lost or
 * counted twice when a child ends between two readings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted after its closing ") ".
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The command name (comm) of a process, or null when it is gone. */
export function commOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Direct children of a process (every thread's), from /proc/<pid>/task/<tid>/children. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      /* thread gone */
    }
  }
  return out;
}

export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const queue = childrenOf(pid);
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...childrenOf(p));
  }
  return out;
}

/** The first descendant of `root` whose command name is `comm` (e.g. icecast2 under its `timeout` wrapper). */
export function findDescendant(root: number, comm: string): number | null {
  return descendantsOf(root).find((p) => commOf(p) === comm) ?? null;
}

/** CPU seconds used so far by `pid` and everything it started (living or reaped). */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of [pid, ...descendantsOf(pid)]) {
    const f = statFields(p);
    // utime, stime, cutime, cstime: fields 14–17 of proc(5), 11–14 after the command name.
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / CLK_TCK;
}

/** The process's own CPU seconds (utime + stime), apart from its children's (the rest of treeCpuSeconds). */
export function ownCpuSeconds(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / CLK_TCK : 0;
}

/** Resident memory of `pid` and its living descendants now (sum of VmRSS), in MiB. */
export function treeRssMiB(pid: number): number {
  let kb = 0;
  for (const p of [pid, ...descendantsOf(pid)]) {
    try {
      kb += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

/** Names of the living descendants (what the server had started: its restream's ffmpeg). */
export function descendantNames(pid: number): string[] {
  return descendantsOf(pid).map((p) => `${commOf(p) ?? '?'}(${p})`);
}
