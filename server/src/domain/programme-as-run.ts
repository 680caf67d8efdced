/**
 * How each item of a programme went on one box (issue 15: "the as-run report lists programmes and their
 * items"), folded from the box's programme-item reports. Pure: the caller reads the reports and the version.
 * An item may be reported several times (interrupted by an emergency and played again, Circular 39): it
 * started at its first `playing`, and its outcome is its last report, with the aired ms summed over its ends.
 */
import type { AsRunProgramme, ProgrammeItemKind, ProgrammeItemState } from '@loaxa/shared';

export interface ItemReport {
  version: number;
  index: number;
  state: ProgrammeItemState;
  at: number;
  airedMs: number | null;
  reason: string | null;
}

/** The version a box played: the one its reports name (the latest, if an edit reached it mid-way), else `fallback`. */
export function playedVersion(reports: readonly ItemReport[], fallback: number): number {
  return reports.length ? Math.max(...reports.map((r) => r.version)) : fallback;
}

export function programmeAsRun(version: number, items: ReadonlyArray<{ index: number; kind: ProgrammeItemKind; title: string }>, reports: readonly ItemReport[]): AsRunProgramme {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    version,
    items: items.map((item) => {
      const mine = reports.filter((r) => r.version === version && r.index === item.index).sort((a, b) => a.at - b.at);
      const last = mine.at(-1);
      const started = mine.find((r) => r.state === 'playing')?.at ?? null;
      const ends = mine.filter((r) => r.state !== 'playing');
      const aired = ends.filter((r) => r.airedMs !== null);
      return {
        index: item.index,
        kind: item.kind,
        title: item.title,
        state: last?.state ?? null,
        startedAt: iso(started),
        endedAt: last && last.state !== 'playing' ? iso(last.at) : null,
        airedMs: aired.length ? aired.reduce((n, r) => n + r.airedMs!, 0) : null,
        reason: ends.at(-1)?.reason ?? null,
      };
    }),
  };
}
