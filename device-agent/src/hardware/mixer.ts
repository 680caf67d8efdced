/**
 * Output volume. With `amixer` the hardware mixer control is set (`amixer -q -M -D <device> sset <control>
 * <n>%`, `-M` for the mapped, perceptual scale) and players run at full scale; with `software` the player
 * scales the samples itself (ffmpeg's volume filter) and nothing outside the agent is touched.
 */
import { tail, type CommandRunner } from './command.js';

export const MIXER_KINDS = ['software', 'amixer'] as const;
export type MixerKind = (typeof MIXER_KINDS)[number];

export interface Mixer {
  /** True when the player must apply the volume itself. */
  readonly software: boolean;
  setVolume(volume: number): Promise<void>;
  /** The level the mixer reports, or null when it cannot say. */
  getVolume(): Promise<number | null>;
}

export class SoftwareMixer implements Mixer {
  readonly software = true;
  private level: number | null = null;

  async setVolume(volume: number): Promise<void> {
    this.level = volume;
  }

  async getVolume(): Promise<number | null> {
    return this.level;
  }
}

const clamp = (v: number): number => Math.max(0, Math.min(100, Math.round(v)));

export class AmixerMixer implements Mixer {
  readonly software = false;

  constructor(private readonly opts: { runner: CommandRunner; device: string; control: string }) {}

  async setVolume(volume: number): Promise<void> {
    const args = ['-q', '-M', '-D', this.opts.device, 'sset', this.opts.control, `${clamp(volume)}%`];
    const r = await this.opts.runner.run('amixer', args, { timeoutMs: 3_000 });
    if (r.code !== 0) throw new Error(`amixer ${args.join(' ')} exited with ${r.code}: ${tail(r.stderr)}`);
  }

  async getVolume(): Promise<number | null> {
    const args = ['-M', '-D', this.opts.device, 'sget', this.opts.control];
    const r = await this.opts.runner.run('amixer', args, { timeoutMs: 3_000 });
    if (r.code !== 0) return null;
    // "  Mono: Playback -1200 [75%] [-12.00dB] [on]": the first percentage is the level.
    const m = /\[(\d{1,3})%\]/.exec(r.stdout);
    return m ? clamp(Number(m[1])) : null;
  }
}
