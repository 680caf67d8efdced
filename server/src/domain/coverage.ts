/**
 * Coverage (ARCHITECTURE.md § Coverage), pure:
 * - installed coverage = communes with at least one registered device / communes in scope;
 * - working coverage = communes with at least one device heard from within the last 15 minutes and with no
 *   blocking fault (power, amplifier, speaker line, audio device) / communes in scope.
 * A commune that is not working says why: `no-device`, `offline`, or `fault:<kind>` (the most common
 * blocking fault among its recently heard devices).
 */
import { BLOCKING_FAULTS as SHARED_BLOCKING_FAULTS } from '@loaxa/shared';

export const WORKING_WINDOW_MS = 15 * 60_000;
/** The faults that stop a box from airing: the HTTP contract's list, shared with the web app. */
export const BLOCKING_FAULTS: readonly string[] = SHARED_BLOCKING_FAULTS;

export interface CoverageDevice {
  id: string;
  communeCode: string;
  lastSeenAt: number | null;
  online: boolean;
  playing: boolean;
  openFaults: readonly string[];
}

export interface CommuneRef {
  code: string;
  name: string;
}

export type NotCoveredReason = 'no-device' | 'offline' | `fault:${string}`;

export interface CommuneCoverage {
  code: string;
  name: string;
  installed: boolean;
  working: boolean;
  reason: NotCoveredReason | null;
}

export interface CoverageSummary {
  communes: { total: number; installed: number; working: number };
  installedPct: number;
  workingPct: number;
  devices: { total: number; online: number; faulty: number; playing: number };
  notCovered: Array<{ code: string; name: string; reason: NotCoveredReason }>;
}

const pct = (n: number, d: number) => (d === 0 ? 0 : Math.round((10_000 * n) / d) / 100);

export function communeCoverage(commune: CommuneRef, devices: readonly CoverageDevice[], now: number): CommuneCoverage {
  if (devices.length === 0) return { ...commune, installed: false, working: false, reason: 'no-device' };
  const heard = devices.filter((d) => d.lastSeenAt !== null && now - d.lastSeenAt <= WORKING_WINDOW_MS);
  if (heard.length === 0) return { ...commune, installed: true, working: false, reason: 'offline' };
  const healthy = heard.filter((d) => !d.openFaults.some((f) => BLOCKING_FAULTS.includes(f)));
  if (healthy.length > 0) return { ...commune, installed: true, working: true, reason: null };
  const counts = new Map<string, number>();
  for (const d of heard) for (const f of d.openFaults) if (BLOCKING_FAULTS.includes(f)) counts.set(f, (counts.get(f) ?? 0) + 1);
  const worst = [...counts.entries()].sort((a, b) => b[1] - a[1] || BLOCKING_FAULTS.indexOf(a[0]) - BLOCKING_FAULTS.indexOf(b[0]))[0]![0];
  return { ...commune, installed: true, working: false, reason: `fault:${worst}` };
}

/** Coverage over a set of communes and the devices installed in them. */
export function summarize(communes: readonly CommuneRef[], devices: readonly CoverageDevice[], now: number): CoverageSummary {
  const byCommune = new Map<string, CoverageDevice[]>();
  for (const d of devices) {
    const list = byCommune.get(d.communeCode);
    if (list) list.push(d);
    else byCommune.set(d.communeCode, [d]);
  }
  let installed = 0;
  let working = 0;
  const notCovered: CoverageSummary['notCovered'] = [];
  let counted = 0;
  const faulty = (d: CoverageDevice) => d.openFaults.length > 0;
  const devs = { total: 0, online: 0, faulty: 0, playing: 0 };
  for (const c of communes) {
    const list = byCommune.get(c.code) ?? [];
    for (const d of list) {
      devs.total++;
      if (d.online) devs.online++;
      if (faulty(d)) devs.faulty++;
      if (d.playing) devs.playing++;
    }
    counted++;
    const cov = communeCoverage(c, list, now);
    if (cov.installed) installed++;
    if (cov.working) working++;
    else notCovered.push({ code: c.code, name: c.name, reason: cov.reason! });
  }
  return { communes: { total: counted, installed, working }, installedPct: pct(installed, counted), workingPct: pct(working, counted), devices: devs, notCovered };
}
