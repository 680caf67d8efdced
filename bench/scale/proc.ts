/**
 * What the scale benchmarks read about other processes (Linux /proc), small statistics helpers, and the
 * bookkeeping that makes a benchmark bounded: every process, broker and temp dir it starts is registered
 * here and removed on the way out, whether the run ends, fails, times out or is interrupted.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux we run on). */
const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** User + system CPU seconds a process has used so far (utime + stime of /proc/<pid>/stat); null if gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    // The command name may hold spaces and parentheses: the fields are counted after its closing ") ".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of proc(5)
  } catch {
    return null;
  }
}

/** Resident memory now and its peak (VmRSS, VmHWM of /proc/<pid>/status), in MiB; null if gone. */
export function memoryMiB(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

/** The soft limit on open files of this process (inherited by everything it starts). */
export function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m?.[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m?.[1] ?? 1024);
  } catch {
    return 1024;
  }
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The value at quantile `p` (0–1) of `xs` (nearest rank); NaN when empty. */
export function quantile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  return { n: xs.length, p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: xs.length ? Math.max(...xs) : Number.NaN };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Ends a child process: SIGTERM, then SIGKILL after `graceMs`. Resolves when it has exited. */
export function endProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Everything a benchmark run must undo, newest first. `run()` is idempotent; `killNow()` is for the hard
 * timeout and signals: it SIGKILLs every registered process at once, synchronously, before the async undo.
 */
export class Cleanup {
  private readonly steps: Array<{ what: string; undo: () => Promise<unknown> | unknown }> = [];
  private readonly procs = new Set<ChildProcess>();
  private running: Promise<void> | null = null;

  add(what: string, undo: () => Promise<unknown> | unknown): void {
    this.steps.push({ what, undo });
  }

  process(child: ChildProcess, what: string, graceMs = 5_000): void {
    this.procs.add(child);
    child.once('exit', () => this.procs.delete(child));
    this.add(what, () => endProcess(child, graceMs));
  }

  dir(path: string): void {
    this.add(`remove ${path}`, () => rm(path, { recursive: true, force: true }));
  }

  killNow(): void {
    for (const p of this.procs) p.kill('SIGKILL');
  }

  run(log: (s: string) => void = () => undefined): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.splice(0).reverse()) {
        try {
          await step.undo();
        } catch (err) {
          log(`cleanup: ${step.what} failed: ${(err as Error).message}`);
        }
      }
    })();
    return this.running;
  }
}
