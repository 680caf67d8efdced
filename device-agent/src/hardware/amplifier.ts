/**
 * Amplifier power. Amplifiers in roadside boxes are powered only around playback (they hum, heat up and
 * draw current all day otherwise): the line is switched on before the first sample, given `warmupMs` to
 * settle (relay and amplifier soft start, so the start of a bulletin is not clipped), and switched off
 * `holdMs` after the last item, so back-to-back items do not cycle the relay.
 */
import type { Logger } from 'pino';
import type { Player, PlayOptions, PreparedPlay } from '../player.js';
import { after, sleep, systemClock, type Clock } from '../timing.js';
import type { GpioOutput } from './gpio.js';

export interface Amplifier {
  /** Whether the agent has the amplifier powered; null when it has no power control. */
  readonly on: boolean | null;
  /** The last switching error, cleared by the next success (reported as an amplifier fault). */
  readonly lastError: string | null;
  powerOn(): Promise<void>;
  powerOff(): Promise<void>;
}

/** No power control: the amplifier is wired always-on (or there is none). */
export class FixedAmplifier implements Amplifier {
  readonly on = null;
  readonly lastError = null;
  async powerOn(): Promise<void> {}
  async powerOff(): Promise<void> {}
}

export class GpioAmplifier implements Amplifier {
  private state = false;
  private error: string | null = null;

  constructor(private readonly opts: { output: GpioOutput; warmupMs: number }) {}

  get on(): boolean {
    return this.state;
  }

  get lastError(): string | null {
    return this.error;
  }

  async powerOn(): Promise<void> {
    if (this.state) return;
    await this.switch(true);
    await sleep(this.opts.warmupMs);
  }

  async powerOff(): Promise<void> {
    await this.switch(false);
  }

  private async switch(on: boolean): Promise<void> {
    try {
      await this.opts.output.set(on);
      this.state = on;
      this.error = null;
    } catch (err) {
      this.error = `cannot switch amplifier power ${on ? 'on' : 'off'}: ${(err as Error).message}`;
      throw err;
    }
  }
}

/** A player that powers the amplifier around playback. */
export class AmplifiedPlayer implements Player {
  private active = 0;
  /** Cancels the pending switch-off; null when none is due. */
  private offTimer: (() => void) | null = null;

  constructor(
    private readonly inner: Player,
    private readonly amplifier: Amplifier,
    /** `clock` times the hold (default the system clock; a test passes a fake one). */
    private readonly opts: { holdMs: number; logger: Logger; clock?: Clock },
  ) {}

  play(file: string, opts: PlayOptions): Promise<void> {
    return this.hold(opts.signal, () => this.inner.play(file, opts));
  }

  /** A prepared file (issue 15: a programme's next item) plays with the amplifier powered, like any file. */
  prepare(file: string, volume: number): PreparedPlay {
    const inner = this.inner.prepare?.(file, volume);
    if (!inner) return { play: (opts) => this.play(file, opts), cancel: () => undefined };
    return { play: (opts) => this.hold(opts.signal, () => inner.play(opts)), cancel: () => inner.cancel() };
  }

  /** Powers the amplifier around `fn`, as around a file: a relay writing to its sink (issue 15). */
  async hold<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    this.active += 1;
    this.offTimer?.();
    this.offTimer = null;
    try {
      try {
        await this.amplifier.powerOn();
      } catch (err) {
        // Play anyway: the amplifier may be wired always-on, and the fault monitor reports the failure.
        this.opts.logger.error({ err: (err as Error).message }, 'amplifier power on failed; playing anyway');
      }
      signal.throwIfAborted();
      return await fn();
    } finally {
      this.active -= 1;
      if (this.active === 0) {
        this.offTimer = after(this.opts.clock ?? systemClock, this.opts.holdMs, () => {
          this.offTimer = null;
          if (this.active === 0) void this.off();
        });
      }
    }
  }

  /** Switches off now (the agent is stopping). */
  async shutdown(): Promise<void> {
    this.offTimer?.();
    this.offTimer = null;
    await this.off();
  }

  private async off(): Promise<void> {
    try {
      await this.amplifier.powerOff();
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message }, 'amplifier power off failed');
    }
  }
}
