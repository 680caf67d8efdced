/**
 * Marker tones for measuring a live voice's latency (issue 16, "Proof": "the time from each marker leaving the
 * browser to each box decoding it: p99 ≤ 2 s"). A marker is a short burst of one frequency after silence —
 * 100 ms of 2.5 kHz by default, ramped in and out over 5 ms so the codecs on the way (the phone's Opus, the
 * server's MP3) do not smear it into clicks. 2.5 kHz survives both codecs and the server's level chain (a
 * high-pass at 80 Hz, a compressor, a limiter: server/src/live/live-encoder.ts) and sits where speech puts
 * little of its energy, so a spoken word is not mistaken for one.
 *
 * The detector runs on the PCM a simulated box sends to its speaker (MarkerSink): a Goertzel filter at the
 * marker's frequency over 10 ms blocks. A block is "tone" when it is loud enough and most of its energy is at
 * that frequency (for a burst starting inside a block, the share is the part of the block it covers, so a
 * share of one half places the onset within 5 ms). A marker is `minBlocks` tone blocks in a row after at least
 * `gapMs` without any; its onset is when its first tone block was heard, in real time (epoch milliseconds with
 * the fraction performance.now() gives), so a test compares it with when the marker left the browser.
 * Pure but for the sink at the end, which reads the clock.
 */
import { CountingSink, type PcmOutput } from '@loaxa/device-agent';
import { PCM_RATE } from '@loaxa/shared';

export const MARKER_HZ = 2_500;
export const MARKER_MS = 100;
const SAMPLES_PER_MS = PCM_RATE / 1000;
const RAMP_MS = 5;

/** s16le mono 48 kHz of one marker: `durationMs` of `frequencyHz` at `amplitude` (0–1 of full scale). */
export function markerPcm(opts: { frequencyHz?: number; durationMs?: number; amplitude?: number } = {}): Buffer {
  const f = opts.frequencyHz ?? MARKER_HZ;
  const n = Math.round((opts.durationMs ?? MARKER_MS) * SAMPLES_PER_MS);
  const amp = (opts.amplitude ?? 0.5) * 32767;
  const ramp = RAMP_MS * SAMPLES_PER_MS;
  const out = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const edge = Math.min(i, n - 1 - i);
    const gain = edge < ramp ? 0.5 - 0.5 * Math.cos((Math.PI * edge) / ramp) : 1;
    out.writeInt16LE(Math.round(amp * gain * Math.sin((2 * Math.PI * f * i) / PCM_RATE)), i * 2);
  }
  return out;
}

/**
 * A recording of `totalMs` with a marker at each of `markersAt` (ms from its start) over `background` (s16le
 * mono 48 kHz, looped; silence by default): what a fake microphone plays.
 */
export function markerTrack(totalMs: number, markersAt: readonly number[], background?: Buffer): Buffer {
  const out = Buffer.alloc(Math.round(totalMs * SAMPLES_PER_MS) * 2);
  if (background?.length) for (let at = 0; at < out.length; at += background.length) background.copy(out, at);
  const marker = markerPcm();
  for (const ms of markersAt) marker.copy(out, Math.round(ms * SAMPLES_PER_MS) * 2);
  return out;
}

/** A WAV file of s16le mono 48 kHz PCM (Chromium's `--use-file-for-fake-audio-capture` reads these). */
export function wavFile(pcm: Buffer): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + pcm.length, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(PCM_RATE, 24);
  h.writeUInt32LE(PCM_RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([h, pcm]);
}

export interface MarkerDetectorOptions {
  frequencyHz?: number;
  /** Least share of a block's energy at the frequency (0–1). */
  minShare?: number;
  /** Least RMS level of a tone block, dBFS (after the box's volume). */
  minDbfs?: number;
  /** Tone blocks in a row that make a marker (10 ms each). */
  minBlocks?: number;
  /** Least time without tone before a marker's onset (one long burst is one marker). */
  gapMs?: number;
}

export const BLOCK_MS = 10;
const BLOCK = BLOCK_MS * SAMPLES_PER_MS;

export class MarkerDetector {
  /** Onsets found so far, epoch milliseconds, in order. */
  readonly onsets: number[] = [];
  private readonly coeff: number;
  private readonly minShare: number;
  private readonly minPower: number;
  private readonly minBlocks: number;
  private readonly gapMs: number;
  // The block being filled: Goertzel state, energy, samples, when its first sample was heard.
  private s1 = 0;
  private s2 = 0;
  private energy = 0;
  private count = 0;
  private blockAt = 0;
  private odd: number | null = null;
  // Tone blocks in a row, when the run began, and how long since the last block of a marker (a run of
  // `minBlocks` or more: a blip of tone in speech does not hide the marker after it).
  private run = 0;
  private runAt = 0;
  private sinceMarkerMs = Infinity;
  private runEligible = false;

  constructor(opts: MarkerDetectorOptions = {}) {
    this.coeff = 2 * Math.cos((2 * Math.PI * (opts.frequencyHz ?? MARKER_HZ)) / PCM_RATE);
    this.minShare = opts.minShare ?? 0.5;
    this.minPower = (32768 * 10 ** ((opts.minDbfs ?? -45) / 20)) ** 2;
    this.minBlocks = opts.minBlocks ?? 3;
    this.gapMs = opts.gapMs ?? 200;
  }

  /**
   * Feeds PCM whose first sample is heard at `at` (epoch ms; later samples at the sample rate). Returns the
   * onsets it completed.
   */
  feed(pcm: Buffer, at: number): number[] {
    const found: number[] = [];
    let i = 0;
    let index = 0;
    if (this.odd !== null && pcm.length) {
      // A sample split between two writes (a pipe cuts where it likes).
      this.sample(Buffer.from([this.odd, pcm[0]!]).readInt16LE(0), at, found);
      this.odd = null;
      i = 1;
    }
    for (; i + 1 < pcm.length; i += 2) this.sample(pcm.readInt16LE(i), at + index++ / SAMPLES_PER_MS, found);
    if (i < pcm.length) this.odd = pcm[i]!;
    return found;
  }

  /** A new stretch of audio (the speaker reopened): a block or run in progress does not continue into it. */
  reset(): void {
    this.s1 = this.s2 = this.energy = this.count = 0;
    this.odd = null;
    this.run = 0;
    this.sinceMarkerMs = Infinity;
  }

  private sample(x: number, at: number, found: number[]): void {
    if (this.count === 0) this.blockAt = at;
    const s0 = x + this.coeff * this.s1 - this.s2;
    this.s2 = this.s1;
    this.s1 = s0;
    this.energy += x * x;
    if (++this.count === BLOCK) this.endBlock(found);
  }

  private endBlock(found: number[]): void {
    // |X(f)|² of the block; a pure tone of the block's whole length gives share 1 (2|X|² = N·Σx²).
    const power = this.s1 * this.s1 + this.s2 * this.s2 - this.coeff * this.s1 * this.s2;
    const share = this.energy > 0 ? (2 * power) / (BLOCK * this.energy) : 0;
    const tone = this.energy / BLOCK >= this.minPower && share >= this.minShare;
    const at = this.blockAt;
    this.s1 = this.s2 = this.energy = this.count = 0;
    if (!tone) {
      this.run = 0;
      this.sinceMarkerMs += BLOCK_MS;
      return;
    }
    if (this.run === 0) {
      this.runAt = at;
      // A burst broken by a dropout (a lost packet) continues the marker it belongs to.
      this.runEligible = this.sinceMarkerMs >= this.gapMs;
    }
    this.run += 1;
    if (this.run < this.minBlocks) {
      this.sinceMarkerMs += BLOCK_MS;
      return;
    }
    if (this.run === this.minBlocks && this.runEligible) {
      this.onsets.push(this.runAt);
      found.push(this.runAt);
    }
    this.sinceMarkerMs = 0;
  }
}

/**
 * A simulated box's speaker for streams that also listens for markers (issue 16): counts like the CountingSink
 * (the `played` report's airedMs is checked against it) and notes when each marker's onset reached it.
 */
export class MarkerSink extends CountingSink {
  private readonly detector: MarkerDetector;

  constructor(opts: MarkerDetectorOptions = {}) {
    super();
    this.detector = new MarkerDetector(opts);
  }

  /** Onsets of the markers heard so far, epoch milliseconds (performance.timeOrigin + performance.now()). */
  markers(): number[] {
    return [...this.detector.onsets];
  }

  override open(): PcmOutput {
    const inner = super.open();
    this.detector.reset();
    let closed = false;
    return {
      get error() {
        return inner.error;
      },
      write: (pcm) => {
        if (closed) return;
        // The sink is written at real-time pace: this chunk's first sample is heard now.
        this.detector.feed(pcm, performance.timeOrigin + performance.now());
        inner.write(pcm);
      },
      close: () => {
        closed = true;
        return inner.close();
      },
    };
  }
}
