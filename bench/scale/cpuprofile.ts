/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and lists where the time went: self time per
 * function (name, file, line) and, for the files under a root, total time per source file. The scale
 * benchmarks use it with BENCH_CPU_PROF=1 to name the server's bottlenecks; runnable on its own too:
 * `node --import tsx bench/scale/cpuprofile.ts FILE.cpuprofile [N]`.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  fn: string;
  where: string;
  selfMs: number;
  pct: number;
}

const shortUrl = (url: string): string => url.replace(/^file:\/\//, '').replace(/^.*?\/node_modules\//, 'node_modules/').replace(/^.*?\/(server|shared|firmware-sim|device-agent)\/src\//, '$1/src/');

/** CLOCK_MONOTONIC in µs: the clock of a profile's timestamps (V8's TimeTicks) and of `process.hrtime`. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * The `top` functions by self time, and the profile's total span; with `window` ([from, to] in µs of
 * `monotonicUs()`, which the profiled process shares on Linux), only the samples taken within it.
 */
export async function summarizeProfile(file: string, top = 25, window?: readonly [number, number]): Promise<{ totalMs: number; sampledMs: number; hot: HotSpot[]; byPackage: Array<{ pkg: string; selfMs: number; pct: number }> }> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window && (t < window[0] || t > window[1])) return;
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  const perFn = new Map<string, { fn: string; where: string; us: number }>();
  const perPkg = new Map<string, number>();
  let sampled = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') continue;
    sampled += us;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}|${where}`;
    const e = perFn.get(key) ?? { fn: functionName || '(anonymous)', where, us: 0 };
    e.us += us;
    perFn.set(key, e);
    const short = shortUrl(url);
    const pkg = !url ? functionName : short.startsWith('node_modules/') ? short.split('/').slice(0, short.startsWith('node_modules/@') ? 3 : 2).join('/') : short.startsWith('node:') ? 'node core' : short.split('/').slice(0, 2).join('/');
    perPkg.set(pkg, (perPkg.get(pkg) ?? 0) + us);
  }
  const hot = [...perFn.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: Math.round(e.us / 1000), pct: Math.round((1000 * e.us) / Math.max(1, sampled)) / 10 }));
  const byPackage = [...perPkg.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([pkg, us]) => ({ pkg, selfMs: Math.round(us / 1000), pct: Math.round((1000 * us) / Math.max(1, sampled)) / 10 }));
  const span = window ? Math.min(window[1], profile.endTime) - Math.max(window[0], profile.startTime) : profile.endTime - profile.startTime;
  return { totalMs: Math.round(span / 1000), sampledMs: Math.round(sampled / 1000), hot, byPackage };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/scale/cpuprofile.ts FILE.cpuprofile [N]\n');
    process.exit(2);
  }
  const s = await summarizeProfile(file, Number(n ?? 25));
  process.stdout.write(`profile ${s.totalMs} ms, busy ${s.sampledMs} ms\n\nby package:\n`);
  for (const p of s.byPackage) process.stdout.write(`  ${String(p.selfMs).padStart(7)} ms ${String(p.pct).padStart(5)} %  ${p.pkg}\n`);
  process.stdout.write('\nby function (self time):\n');
  for (const h of s.hot) process.stdout.write(`  ${String(h.selfMs).padStart(7)} ms ${String(h.pct).padStart(5)} %  ${h.fn}  ${h.where}\n`);
}
