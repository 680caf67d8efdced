/**
 * Pure decisions of the self-update watchdog (no I/O): given the marker written at the switch and what is
 * known now, keep waiting, accept the new release, or roll back — and why.
 */
export const UPDATE_MARKER = 'update.json';

export interface UpdateMarker {
  state: 'pending' | 'healthy' | 'rolled-back';
  /** Release folder names under releases/. */
  from: string | null;
  to: string;
  switchedAt: number;
  /** The new release must report healthy before this (ms since epoch). */
  deadline: number;
  /** Starts of the new release seen so far (a crash loop rolls back before the deadline). */
  starts: number;
  reason?: string;
  decidedAt?: number;
}

export type UpdateDecision = { action: 'wait'; untilMs: number } | { action: 'keep' } | { action: 'rollback'; reason: string } | { action: 'none' };

export function decideAfterUpdate(marker: UpdateMarker | null, now: number, opts: { maxStarts?: number } = {}): UpdateDecision {
  if (!marker || marker.state !== 'pending') return marker?.state === 'healthy' ? { action: 'keep' } : { action: 'none' };
  const maxStarts = opts.maxStarts ?? 5;
  if (marker.from === null) return now >= marker.deadline ? { action: 'keep' } : { action: 'wait', untilMs: marker.deadline - now };
  if (marker.starts > maxStarts) return { action: 'rollback', reason: `release ${marker.to} was started ${marker.starts} times without reporting healthy` };
  if (now >= marker.deadline) {
    return { action: 'rollback', reason: `release ${marker.to} did not report healthy within ${Math.round((marker.deadline - marker.switchedAt) / 1000)} s` };
  }
  return { action: 'wait', untilMs: marker.deadline - now };
}
