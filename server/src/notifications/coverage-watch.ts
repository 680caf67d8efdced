/**
 * A commune's working coverage, as the notifications read it: the share of its boxes heard within the working
 * window (15 minutes) with no blocking fault (domain/coverage.ts's rule, per box). A drop is the share falling
 * below the threshold (LOAXA_NOTIFY_COVERAGE_PCT) from at or above it: told once, not at every snapshot while it
 * stays low, and again only after it has recovered. The first look after a start only learns the shares.
 */
import { BLOCKING_FAULTS, WORKING_WINDOW_MS } from '../domain/coverage.js';

export interface CommuneShare {
  working: number;
  total: number;
}

export interface BoxRow {
  communeCode: string;
  lastSeenAt: number | null;
  openFaults: readonly string[];
}

export function communeShares(boxes: Iterable<BoxRow>, now: number): Map<string, CommuneShare> {
  const out = new Map<string, CommuneShare>();
  for (const b of boxes) {
    const s = out.get(b.communeCode) ?? { working: 0, total: 0 };
    s.total++;
    const heard = b.lastSeenAt !== null && now - b.lastSeenAt <= WORKING_WINDOW_MS;
    if (heard && !b.openFaults.some((f) => BLOCKING_FAULTS.includes(f))) s.working++;
    out.set(b.communeCode, s);
  }
  return out;
}

export class CoverageWatch {
  private last: Map<string, CommuneShare> | null = null;

  constructor(private readonly thresholdPct: number) {}

  /** The communes whose share fell below the threshold since the last look. */
  drops(now: Map<string, CommuneShare>): Array<{ communeCode: string } & CommuneShare> {
    const before = this.last;
    this.last = now;
    if (!before) return [];
    const out: Array<{ communeCode: string } & CommuneShare> = [];
    const below = (s: CommuneShare) => s.total > 0 && 100 * s.working < this.thresholdPct * s.total;
    for (const [communeCode, s] of now) {
      const prev = before.get(communeCode);
      if (prev && !below(prev) && below(s)) out.push({ communeCode, ...s });
    }
    return out;
  }
}
