/**
 * Fault detection. Checks read the hardware (GPIO sense inputs, disk, clock, sound card) on a timer; a
 * fault starts or ends only after `debounce` equal readings in a row (contact bounce, one misread), and
 * each transition becomes one `event` of kind `fault` with `active` true/false, timed at the first reading
 * that showed the new state. Faults still active when the agent stops are saved, so a restart neither
 * repeats their start nor forgets to report their end.
 */
import type { FAULT_KINDS } from '@loaxa/shared';
import type { Logger } from 'pino';
import type { AgentConfig } from './config.js';
import type { Hardware } from './hardware/index.js';
import { after, type Clock } from './timing.js';

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultReading {
  active: boolean;
  detail?: string;
}

export interface FaultCheck {
  kind: FaultKind;
  /** Slow checks (spawning tools, statfs) run every `slowEvery` polls; fast ones (GPIO) every poll. */
  slow: boolean;
  /** null: cannot tell right now (keeps the current state). */
  read(): Promise<FaultReading | null>;
}

export interface FaultTransition {
  fault: FaultKind;
  active: boolean;
  at: number;
  detail?: string;
}

export interface ActiveFault {
  fault: FaultKind;
  since: number;
  detail?: string | undefined;
}

interface Track {
  active: boolean;
  since: number;
  detail: string | undefined;
  /** Readings in a row that disagree with `active`, and when the first of them was taken. */
  pending: number;
  pendingSince: number;
  pendingDetail: string | undefined;
}

export class FaultMonitor {
  private readonly tracks = new Map<FaultKind, Track>();
  /** Cancels the next round; null when stopped. */
  private cancel: (() => void) | null = null;
  private polls = 0;
  private running: Promise<void> | null = null;
  private readonly failing = new Set<FaultKind>();

  constructor(
    private readonly deps: {
      checks: readonly FaultCheck[];
      pollMs: number;
      debounce: number;
      slowEvery: number;
      clock: Clock;
      logger: Logger;
      onChange: (t: FaultTransition) => void;
      /** Faults active when the agent last stopped. */
      initial?: readonly ActiveFault[];
    },
  ) {
    for (const f of deps.initial ?? []) {
      this.tracks.set(f.fault, { active: true, since: f.since, detail: f.detail, pending: 0, pendingSince: 0, pendingDetail: undefined });
    }
  }

  start(): void {
    if (this.cancel) return;
    // The period is on the agent's clock, so a test's fake clock decides when the next round is due.
    const tick = (): void => {
      this.cancel = after(this.deps.clock, this.deps.pollMs, () => {
        void this.poll().finally(() => {
          if (this.cancel) tick();
        });
      });
    };
    // The first reading at once: a box that boots into a fault reports it without waiting a period.
    const first = setTimeout(() => void this.poll().finally(() => this.cancel && tick()), 0);
    this.cancel = () => clearTimeout(first);
  }

  async stop(): Promise<void> {
    this.cancel?.();
    this.cancel = null;
    await this.running;
  }

  active(): ActiveFault[] {
    return [...this.tracks].filter(([, t]) => t.active).map(([fault, t]) => ({ fault, since: t.since, detail: t.detail }));
  }

  /** One round of readings (all checks when `all`); exposed for tests and for a forced refresh. */
  poll(all = false): Promise<void> {
    this.running ??= this.round(all).finally(() => (this.running = null));
    return this.running;
  }

  private async round(all: boolean): Promise<void> {
    const slow = all || this.polls % this.deps.slowEvery === 0;
    this.polls += 1;
    const checks = this.deps.checks.filter((c) => slow || !c.slow);
    // Several checks may share a kind (e.g. two sense inputs); a kind is active when any says so.
    const byKind = new Map<FaultKind, FaultReading | null>();
    await Promise.all(
      checks.map(async (c) => {
        let r: FaultReading | null;
        try {
          r = await c.read();
          this.failing.delete(c.kind);
        } catch (err) {
          if (!this.failing.has(c.kind)) this.deps.logger.warn({ fault: c.kind, err: (err as Error).message }, 'fault check failed');
          this.failing.add(c.kind);
          r = null;
        }
        const prev = byKind.get(c.kind);
        if (r === null) {
          if (!byKind.has(c.kind)) byKind.set(c.kind, null);
        } else if (!prev || (!prev.active && r.active)) byKind.set(c.kind, r);
        else if (prev.active && r.active && r.detail) byKind.set(c.kind, { active: true, detail: [prev.detail, r.detail].filter(Boolean).join('; ') });
      }),
    );
    const now = this.deps.clock.now();
    for (const [kind, reading] of byKind) if (reading) this.observe(kind, reading, now);
  }

  private observe(kind: FaultKind, reading: FaultReading, now: number): void {
    let t = this.tracks.get(kind);
    if (!t) {
      t = { active: false, since: now, detail: undefined, pending: 0, pendingSince: 0, pendingDetail: undefined };
      this.tracks.set(kind, t);
    }
    if (reading.active === t.active) {
      t.pending = 0;
      if (reading.active) t.detail = reading.detail ?? t.detail;
      return;
    }
    if (t.pending === 0) t.pendingSince = now;
    t.pending += 1;
    t.pendingDetail = reading.detail;
    if (t.pending < this.deps.debounce) return;
    t.active = reading.active;
    t.since = t.pendingSince;
    t.detail = reading.active ? t.pendingDetail : undefined;
    t.pending = 0;
    const transition: FaultTransition = { fault: kind, active: t.active, at: t.since };
    const detail = reading.active ? t.detail : undefined;
    if (detail) transition.detail = detail;
    this.deps.logger[t.active ? 'warn' : 'info']({ fault: kind, active: t.active, detail }, t.active ? 'fault started' : 'fault ended');
    this.deps.onChange(transition);
  }
}

const MIB = 1024 ** 2;

/** The checks of a box: sense inputs, amplifier switching, disk, clock, sound card. */
export function buildFaultChecks(ctx: {
  hardware: Hardware;
  config: () => AgentConfig;
  /** Milliseconds since the agent started (the clock gets a grace period after boot). */
  uptimeMs: () => number;
  /** Estimated difference server − device, or null before any sample. */
  clockOffsetMs: () => number | null;
}): FaultCheck[] {
  const { hardware: hw } = ctx;
  const checks: FaultCheck[] = [];
  const input = (name: keyof Hardware['inputs'], kind: FaultKind, detail: string): void => {
    const line = hw.inputs[name];
    if (line) checks.push({ kind, slow: false, read: async () => ((await line.read()) ? { active: true, detail } : { active: false }) });
  };
  input('powerLost', 'power', 'mains power lost');
  input('ampFault', 'amplifier', 'amplifier reports a fault');
  input('lineOpen', 'speaker-line', 'speaker line open');
  input('lineShort', 'speaker-line', 'speaker line short-circuited');
  checks.push({
    kind: 'amplifier',
    slow: false,
    read: async () => {
      const err = hw.amplifier.lastError;
      return err ? { active: true, detail: err } : { active: false };
    },
  });
  checks.push({
    kind: 'disk',
    slow: true,
    read: async () => {
      const d = await hw.system.disk();
      if (!d) return null;
      const min = ctx.config().diskMinFreeBytes;
      return d.freeBytes < min ? { active: true, detail: `${Math.floor(d.freeBytes / MIB)} MiB free, below ${Math.floor(min / MIB)} MiB` } : { active: false };
    },
  });
  checks.push({
    kind: 'clock',
    slow: true,
    read: async () => {
      const cfg = ctx.config();
      const offset = ctx.clockOffsetMs();
      if (offset !== null && Math.abs(offset) > cfg.clockMaxOffsetMs) {
        return { active: true, detail: `clock ${offset > 0 ? 'behind' : 'ahead of'} the server by ${Math.round(Math.abs(offset) / 1000)} s` };
      }
      const synced = await hw.timeSync.synchronized();
      if (synced === false && ctx.uptimeMs() > cfg.clockSyncGraceMs) return { active: true, detail: 'system clock not synchronized (NTP)' };
      if (synced === null && offset === null) return null;
      return { active: false };
    },
  });
  checks.push({
    kind: 'audio-device',
    slow: true,
    read: async () => {
      const s = await hw.audioDevice.check();
      if (!s) return null;
      return s.present ? { active: false } : { active: true, detail: s.detail };
    },
  });
  return checks;
}
