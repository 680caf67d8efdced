/**
 * Coverage of an area and each of its child areas (one level), from the store: the pure rules are in
 * domain/coverage.ts. Snapshots of the installation's provinces are persisted every few minutes so the
 * dashboard's trend is drawn from what was measured, never from synthetic history.
 */
import type { CoverageSnapshotRepository } from '../repos/coverage.js';
import type { Area, AreaRepository } from '../repos/areas.js';
import type { DeviceRepository } from '../repos/devices.js';
import type { FaultRepository } from '../repos/faults.js';
import type { ServerEvents } from './events.js';
import { summarize, type CoverageDevice, type CoverageSummary } from '../domain/coverage.js';

export interface AreaCoverage extends CoverageSummary {
  area: { code: string; name: string; type: string };
  children: Array<CoverageSummary & { area: { code: string; name: string; type: string } }>;
}

export class CoverageService {
  private timer: NodeJS.Timeout | null = null;

  /** Takes a snapshot now and then every `intervalMs`. */
  start(intervalMs: number, onError: (err: unknown) => void): void {
    const take = () => {
      try {
        this.snapshot();
      } catch (err) {
        onError(err);
      }
    };
    take();
    this.timer = setInterval(take, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  constructor(
    private readonly deps: {
      snapshots: CoverageSnapshotRepository;
      areas: AreaRepository;
      devices: DeviceRepository;
      faults: FaultRepository;
      now?: () => number;
      /** Told after each snapshot (issue 20: the notifications look for communes whose coverage fell). */
      events?: Pick<ServerEvents, 'emit'>;
    },
  ) {}

  private isCurrent(a: Area, now: number): boolean {
    return a.validUntil === null || Date.parse(a.validUntil) > now;
  }

  /** Coverage of `code` and of each of its children. */
  forArea(code: string): AreaCoverage | null {
    const now = (this.deps.now ?? Date.now)();
    const root = this.deps.areas.get(code);
    if (!root) return null;
    const all = this.deps.areas.all();
    const byCode = new Map(all.map((a) => [a.code, a]));
    const communeOf = (areaCode: string): string | null => {
      let a = byCode.get(areaCode);
      for (let i = 0; a && i < 8; i++) {
        if (a.level === 'commune') return a.code;
        a = a.parentCode ? byCode.get(a.parentCode) : undefined;
      }
      return null;
    };
    const subtree = this.deps.areas.subtree(code);
    const communes = subtree.map((c) => byCode.get(c)!).filter((a) => a.level === 'commune' && this.isCurrent(a, now));
    const faults = this.deps.faults.openByDevice();
    const devices: CoverageDevice[] = [];
    for (const d of this.deps.devices.coverageRows(subtree)) {
      const communeCode = communeOf(d.areaCode);
      if (communeCode) devices.push({ id: d.id, communeCode, lastSeenAt: d.lastSeenAt, online: d.online, playing: d.playing, openFaults: faults.get(d.id) ?? [] });
    }
    const ref = (a: Area) => ({ code: a.code, name: a.name, type: a.type });
    const children = all
      .filter((a) => a.parentCode === code && this.isCurrent(a, now))
      .map((child) => {
        const inChild = new Set(this.deps.areas.subtree(child.code));
        const cs = communes.filter((c) => inChild.has(c.code));
        return { area: ref(child), ...summarize(cs, devices.filter((d) => inChild.has(d.communeCode)), now) };
      })
      .filter((c) => c.communes.total > 0);
    return { area: ref(root), ...summarize(communes, devices, now), children };
  }

  /** Persists a snapshot of every province (and so the trend of the last 30 days). */
  snapshot(): number {
    const now = (this.deps.now ?? Date.now)();
    const provinces = this.deps.areas.all().filter((a) => a.level === 'province');
    let n = 0;
    for (const p of provinces) {
      const c = this.forArea(p.code);
      if (!c || c.communes.total === 0) continue;
      this.deps.snapshots.save({ areaCode: p.code, at: now, communes: c.communes.total, installed: c.communes.installed, working: c.communes.working, installedPct: c.installedPct, workingPct: c.workingPct });
      n++;
    }
    this.deps.events?.emit('coverage', { at: now });
    return n;
  }

  trend(code: string, from: number, to: number): Array<{ at: string; installedPct: number; workingPct: number }> {
    return this.deps.snapshots.between(code, from, to).map((r) => ({ at: new Date(r.at).toISOString(), installedPct: r.installedPct, workingPct: r.workingPct }));
  }
}
