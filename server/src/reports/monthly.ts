/**
 * The figures of the monthly report (issue 20: "a printable monthly report per commune and for the province"):
 * one commune's or the province's month, counted the way the as-run report counts (reports/as-run-figures.ts),
 * with coverage as the dashboard measures it (domain/coverage.ts), the month's faults, relays and warnings.
 * The PDF (monthly-pdf.ts) is drawn from exactly this object, so the printed figures are the JSON's.
 */
import { PRIORITIES, type MonthlyReport } from '@loaxa/shared';
import type { Area } from '../repos/areas.js';
import { placeName } from '../repos/areas.js';
import { summarize, type CoverageDevice } from '../domain/coverage.js';
import { count, emptyCounts, relayItem, type Counts } from './as-run-figures.js';
import { dayOfCivil, instantOf } from '../scheduling/local-time.js';
import type { AppContext } from '../services/context.js';

export type MonthlyDeps = Pick<AppContext, 'areas' | 'asRun' | 'coverage' | 'devices' | 'faults' | 'monthlyReport' | 'relayLog'>;

/** The month's first instant and the next month's first, Vietnam time ("2026-11" → 1 Nov 00:00 to 1 Dec 00:00 +07). */
export function monthBounds(month: string): { from: number; to: number } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const from = instantOf(dayOfCivil(y, m, 1)!, 0);
  const to = instantOf(dayOfCivil(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1)!, 0);
  return { from, to };
}

/** "UBND TỈNH LÀO CAI" from the area "Tỉnh Lào Cai" of type "tỉnh" (Decree 30/2020 writes the body in capitals). */
function bodyOf(a: Area): string {
  const type = a.type.trim() || (a.level === 'province' ? 'tỉnh' : 'xã');
  return `UBND ${type} ${placeName(a.name, a.type)}`.toLocaleUpperCase('vi');
}

/**
 * The header's issuing body (Decree 30/2020/NĐ-CP, Appendix I: the superior body above, the issuing unit below):
 * a commune's report is issued by the commune under its province; the province's by the province alone.
 */
export function issuerOf(chain: readonly Area[]): MonthlyReport['issuer'] {
  const area = chain[0]!;
  const province = chain.find((a) => a.level === 'province') ?? chain.at(-1)!;
  const commune = chain.find((a) => a.level === 'commune');
  const unit = commune ?? area;
  if (unit.code === province.code) return { superior: null, unit: bodyOf(province), place: placeName(province.name, province.type), reportsTo: null };
  const type = province.type.trim() || 'tỉnh';
  return { superior: bodyOf(province), unit: bodyOf(unit), place: placeName(unit.name, unit.type), reportsTo: `UBND ${type.toLocaleLowerCase('vi')} ${placeName(province.name, province.type)}` };
}

const pct = (n: number, d: number) => (d === 0 ? 0 : Math.round((10_000 * n) / d) / 100);

export function monthlyFigures(deps: MonthlyDeps, code: string, month: string, now: number): MonthlyReport {
  const area = deps.areas.get(code)!;
  const chain = deps.areas.ancestry(code).map((c) => deps.areas.get(c)!);
  const { from, to } = monthBounds(month);
  const subtree = deps.areas.subtree(code);
  const all = deps.areas.all();
  const byCode = new Map(all.map((a) => [a.code, a]));
  const communeOf = (areaCode: string): string | null => {
    let a = byCode.get(areaCode);
    for (let i = 0; a && i < 8; i++) {
      if (a.level === 'commune') return a.code;
      a = a.parentCode ? byCode.get(a.parentCode) : undefined;
    }
    return null;
  };
  // Every current commune of the area, as the as-run report lists them (issue 20, broken 9); a commune's own
  // report is its single row; a village's is its commune's.
  let communes = subtree.map((c) => byCode.get(c)!).filter((a) => a.level === 'commune' && (a.validUntil === null || Date.parse(a.validUntil) > now));
  if (communes.length === 0) {
    const own = communeOf(code);
    if (own) communes = [byCode.get(own)!];
  }
  communes.sort((a, b) => a.name.localeCompare(b.name, 'vi'));

  // Boxes and coverage now, as the dashboard counts them (domain/coverage.ts).
  const openFaults = deps.faults.openByDevice();
  const devices: CoverageDevice[] = [];
  for (const d of deps.devices.coverageRows(subtree)) {
    const communeCode = communeOf(d.areaCode);
    if (communeCode) devices.push({ id: d.id, communeCode, lastSeenAt: d.lastSeenAt, online: d.online, playing: d.playing, openFaults: openFaults.get(d.id) ?? [] });
  }
  const cov = summarize(communes, devices, now);
  const province = chain.find((a) => a.level === 'province') ?? chain.at(-1)!;
  // Snapshots are kept per province (coverage-service.ts): a commune's month has none of its own.
  const samples = code === province.code ? deps.coverage.trend(code, from, to) : [];
  const monthCoverage = samples.length
    ? { samples: samples.length, avgWorkingPct: Math.round((100 * samples.reduce((s, x) => s + x.workingPct, 0)) / samples.length) / 100, minWorkingPct: Math.min(...samples.map((x) => x.workingPct)) }
    : null;

  // Airings: the as-run rows of the month, counted by the as-run's own rules.
  const rows = deps.asRun.rows(subtree, from, to);
  const airings = emptyCounts();
  const byPriority = new Map<string, Counts>(PRIORITIES.map((p) => [p, emptyCounts()]));
  const perCommune = new Map<string, Counts>(communes.map((c) => [c.code, emptyCounts()]));
  const broadcasts = new Map<string, string>();
  for (const r of rows) {
    count(airings, r);
    let p = byPriority.get(r.priority);
    if (!p) byPriority.set(r.priority, (p = emptyCounts()));
    count(p, r);
    const c = communeOf(r.areaCode);
    const cc = c ? perCommune.get(c) : undefined;
    if (cc) count(cc, r);
    broadcasts.set(r.broadcastId, r.priority);
  }
  const broadcastsByPriority: Record<string, number> = Object.fromEntries(PRIORITIES.map((p) => [p, 0]));
  for (const p of broadcasts.values()) broadcastsByPriority[p] = (broadcastsByPriority[p] ?? 0) + 1;

  // Faults that began in the month, and those still open when it ended.
  const faults = deps.monthlyReport.faultsOverlapping(subtree, from, to);
  const opened = faults.filter((f) => f.startedAt >= from);
  const kinds = new Map<string, number>();
  for (const f of opened) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  const deviceCommune = new Map(devices.map((d) => [d.id, d.communeCode]));
  const faultsPerCommune = new Map<string, number>();
  for (const f of opened) {
    const c = deviceCommune.get(f.deviceId);
    if (c) faultsPerCommune.set(c, (faultsPerCommune.get(c) ?? 0) + 1);
  }

  // Relays (issue 15): what the relay report counts for each box's airing, summed.
  const relayRows = deps.relayLog.deliveriesIn(subtree, from, to);
  let relayedMs = 0;
  let gapMs = 0;
  for (const r of relayRows) {
    const item = relayItem(r, deps.relayLog.entries(r.broadcastId, r.occurrenceAt).filter((e) => e.deviceId === r.deviceId), now);
    relayedMs += item.relayedMs;
    gapMs += item.gaps.reduce((s, g) => s + g.ms, 0);
  }

  // Warnings (issue 18) that reach at least one commune of the area.
  const inArea = new Set(communes.map((c) => c.code));
  const warnings = deps.monthlyReport.warningsTaken(from, to).filter((w) => w.communeCodes.some((c) => inArea.has(c)));

  const boxesOf = (list: readonly CoverageDevice[]) => {
    const online = list.filter((d) => d.online).length;
    return { total: list.length, online, faulty: list.filter((d) => d.openFaults.length > 0).length, onlinePct: pct(online, list.length) };
  };
  const devicesOf = new Map<string, CoverageDevice[]>();
  for (const d of devices) {
    const list = devicesOf.get(d.communeCode);
    if (list) list.push(d);
    else devicesOf.set(d.communeCode, [d]);
  }
  return {
    area: { code: area.code, name: area.name, type: area.type },
    issuer: issuerOf(chain),
    month,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    generatedAt: new Date(now).toISOString(),
    boxes: boxesOf(devices),
    coverage: { communes: cov.communes, installedPct: cov.installedPct, workingPct: cov.workingPct, month: monthCoverage },
    broadcasts: { total: broadcasts.size, byPriority: broadcastsByPriority },
    airings,
    airingsByPriority: [...byPriority.entries()].map(([priority, c]) => ({ priority, ...c })),
    faults: { opened: opened.length, devices: new Set(opened.map((f) => f.deviceId)).size, openAtEnd: faults.filter((f) => f.endedAt === null || f.endedAt >= to).length, byKind: [...kinds.entries()].map(([kind, n]) => ({ kind, count: n })).sort((a, b) => b.count - a.count) },
    relays: { airings: relayRows.length, relayedMs, gapMs },
    warnings: { total: warnings.length, aired: warnings.filter((w) => w.aired).length },
    communes: communes.map((c) => ({
      code: c.code,
      name: c.name,
      boxes: boxesOf(devicesOf.get(c.code) ?? []),
      airings: perCommune.get(c.code)!,
      faults: faultsPerCommune.get(c.code) ?? 0,
    })),
  };
}
