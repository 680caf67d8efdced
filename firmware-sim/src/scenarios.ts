/**
 * Named behaviours of the simulated boxes, each driving the simulated twins (SimBoard, SimClock,
 * MediaPath, FlakyLink) so the real agent meets the failure through its normal readers. Timings and the
 * share of boxes affected have field-like defaults (minutes) and are set short in tests.
 */
import type { DeviceAgent } from '@loaxa/device-agent';
import type { Logger } from 'pino';
import type { SimBox } from './sim-box.js';
import { SimError } from './state-file.js';

export interface ScenarioOptions {
  /** Share of boxes affected, 0–1 (at least one box when above 0). */
  share?: number;
  /** First occurrence after this long. */
  delayMs?: number;
  /** Repeat every this long (0: once). For 4g-flapping, the mean time between drops of one box. */
  periodMs?: number;
  /** How long each occurrence lasts (0: until the simulation stops). */
  durationMs?: number;
  /** 4g-flapping: chance that a chunk waits for a retransmission, and the added latency. */
  loss?: number;
  latencyMs?: number;
  /** slow-downloads: throughput of media downloads. */
  bytesPerSecond?: number;
  /** clock-drift: how far each affected clock moves per minute of simulation. */
  driftMsPerMinute?: number;
}

export interface ScenarioContext {
  boxes: readonly SimBox[];
  /** The boxes' agents (the same order as `boxes`). */
  agents: readonly DeviceAgent[];
  logger: Logger;
  options: ScenarioOptions;
  random: () => number;
}

export interface Scenario {
  description: string;
  /** Boxes reach the broker through a FlakyLink while this scenario runs. */
  needsLink?: boolean;
  /** Starts the behaviour; returns what undoes it at stop. */
  start(ctx: ScenarioContext): () => void | Promise<void>;
}

const MIN = 60_000;

/** A random subset of `share` of the boxes (at least one when share > 0). */
export function pickBoxes<T>(boxes: readonly T[], share: number, random: () => number): T[] {
  if (share <= 0 || boxes.length === 0) return [];
  const n = Math.max(1, Math.round(boxes.length * Math.min(1, share)));
  const copy = [...boxes];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

/** Timers that an undo clears at once. */
class Timers {
  private readonly set = new Set<NodeJS.Timeout>();
  stopped = false;
  after(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.set.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.set.add(t);
  }
  clear(): void {
    this.stopped = true;
    for (const t of this.set) clearTimeout(t);
    this.set.clear();
  }
}

/**
 * An episode on a share of the boxes: `on` at `delayMs`, `off` after `durationMs` (unless 0), again every
 * `periodMs` (unless 0). Undo turns every affected box off.
 */
function episodes(defaults: Required<Pick<ScenarioOptions, 'share' | 'delayMs' | 'periodMs' | 'durationMs'>>, on: (b: SimBox) => void, off: (b: SimBox) => void): Scenario['start'] {
  return (ctx) => {
    const o = { ...defaults, ...ctx.options };
    const timers = new Timers();
    const touched = new Set<SimBox>();
    const run = (): void => {
      const picked = pickBoxes(ctx.boxes, o.share, ctx.random);
      for (const b of picked) {
        touched.add(b);
        on(b);
      }
      if (o.durationMs > 0) timers.after(o.durationMs, () => picked.forEach(off));
      if (o.periodMs > 0) timers.after(o.periodMs, run);
    };
    timers.after(o.delayMs, run);
    return () => {
      timers.clear();
      touched.forEach(off);
    };
  };
}

const sometime = (mean: number, random: () => number): number => Math.round(mean * (0.5 + random()));

export const SCENARIOS = {
  steady: {
    description: 'boxes behave normally: online, heartbeats, every command answered and played',
    start: () => () => undefined,
  },
  'power-loss': {
    description: 'mains fails on a share of the boxes (30 %) for 3 min every 10 min; the UPS keeps them running',
    start: episodes(
      { share: 0.3, delayMs: MIN, periodMs: 10 * MIN, durationMs: 3 * MIN },
      (b) => (b.board.inputs.powerLost = true),
      (b) => (b.board.inputs.powerLost = false),
    ),
  },
  '4g-flapping': {
    description: 'every box on a bad 4G link: 5 % packet loss, 150 ms latency, drops for ~15 s about once a minute',
    needsLink: true,
    start: (ctx) => {
      const o = { share: 1, periodMs: MIN, durationMs: 15_000, loss: 0.05, latencyMs: 150, ...ctx.options };
      const timers = new Timers();
      const boxes = pickBoxes(ctx.boxes, o.share, ctx.random).filter((b) => b.link);
      const flap = (b: SimBox): void => {
        timers.after(sometime(o.periodMs, ctx.random), () => {
          b.link!.setDown(true);
          timers.after(sometime(o.durationMs, ctx.random), () => {
            b.link!.setDown(false);
            flap(b);
          });
        });
      };
      for (const b of boxes) {
        b.link!.loss = o.loss;
        b.link!.latencyMs = o.latencyMs;
        flap(b);
      }
      return () => {
        timers.clear();
        for (const b of boxes) {
          b.link!.loss = 0;
          b.link!.latencyMs = 0;
          b.link!.setDown(false);
        }
      };
    },
  },
  'amplifier-failure': {
    description: 'the amplifier of a share of the boxes (10 %) reports a fault after 30 s and stays broken',
    start: episodes(
      { share: 0.1, delayMs: 30_000, periodMs: 0, durationMs: 0 },
      (b) => (b.board.inputs.ampFault = true),
      (b) => (b.board.inputs.ampFault = false),
    ),
  },
  'speaker-line-cut': {
    description: 'the speaker line of a share of the boxes (10 %) is cut (open circuit) after 30 s',
    start: episodes(
      { share: 0.1, delayMs: 30_000, periodMs: 0, durationMs: 0 },
      (b) => (b.board.inputs.lineOpen = true),
      (b) => (b.board.inputs.lineOpen = false),
    ),
  },
  'disk-full': {
    description: 'the SD card of a share of the boxes (10 %) fills up after 30 s (5 MiB left): disk fault, downloads refused',
    start: (ctx) => {
      const saved = new Map<SimBox, number>();
      return episodes(
        { share: 0.1, delayMs: 30_000, periodMs: 0, durationMs: 0 },
        (b) => {
          if (!saved.has(b)) saved.set(b, b.board.disk.freeBytes);
          b.board.disk.freeBytes = 5 * 1024 ** 2;
        },
        (b) => (b.board.disk.freeBytes = saved.get(b) ?? b.board.disk.freeBytes),
      )(ctx);
    },
  },
  'clock-drift': {
    description: 'the clocks of a share of the boxes (20 %) lose NTP and drift 30 s per minute (minutes off after a while)',
    start: (ctx) => {
      const o = { share: 0.2, driftMsPerMinute: 30_000, ...ctx.options };
      const boxes = pickBoxes(ctx.boxes, o.share, ctx.random);
      const stepMs = 1_000;
      for (const b of boxes) b.board.clockSynced = false;
      const timer = setInterval(() => {
        for (const b of boxes) b.clock.offsetMs -= (o.driftMsPerMinute * stepMs) / MIN;
      }, stepMs);
      return () => {
        clearInterval(timer);
        for (const b of boxes) {
          b.board.clockSynced = true;
          b.clock.offsetMs = 0;
        }
      };
    },
  },
  'slow-downloads': {
    description: 'media downloads crawl at 4 KB/s (a congested cell): long bulletins arrive late or miss their window',
    start: (ctx) => {
      const o = { share: 1, bytesPerSecond: 4_096, ...ctx.options };
      const boxes = pickBoxes(ctx.boxes, o.share, ctx.random);
      for (const b of boxes) b.media.bytesPerSecond = o.bytesPerSecond;
      return () => boxes.forEach((b) => (b.media.bytesPerSecond = 0));
    },
  },
  'reboot-storm': {
    description: 'every 5 min all boxes lose power together and come back at the same instant (a feeder trips)',
    start: (ctx) => {
      const o = { delayMs: MIN, periodMs: 5 * MIN, ...ctx.options };
      const timers = new Timers();
      let cycling: Promise<unknown> = Promise.resolve();
      const storm = (): void => {
        ctx.logger.info({ boxes: ctx.agents.length }, 'reboot storm');
        cycling = Promise.allSettled(ctx.agents.map((a) => a.stop({ abrupt: true, timeoutMs: 1_000 }))).then(() =>
          timers.stopped ? undefined : Promise.allSettled(ctx.agents.map((a) => a.start())),
        );
        if (o.periodMs > 0) timers.after(o.periodMs, storm);
      };
      timers.after(o.delayMs, storm);
      return async () => {
        timers.clear();
        await cycling;
      };
    },
  },
  'corrupt-audio': {
    description: 'every media download arrives with a flipped byte: the hash check refuses it and the delivery fails',
    start: (ctx) => {
      const boxes = pickBoxes(ctx.boxes, ctx.options.share ?? 1, ctx.random);
      for (const b of boxes) b.media.corrupt = true;
      return () => boxes.forEach((b) => (b.media.corrupt = false));
    },
  },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}

/** Checks scenario names; the message lists the known ones. */
export function checkScenarios(names: readonly string[]): ScenarioName[] {
  const unknown = names.filter((n) => !isScenarioName(n));
  if (unknown.length > 0) {
    throw new SimError(`unknown scenario ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known scenarios: ${Object.keys(SCENARIOS).join(', ')}`);
  }
  return names as ScenarioName[];
}
