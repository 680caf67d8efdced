/**
 * The boxes' side of one live airing (issue 16): the MP3 fanned out to every box that tunes in, per box at
 * most `maxPerBox` streams, and to the Icecast mount when there is one (icecast-push.ts).
 * - Latency first (issue 16: mouth to speaker p99 ≤ 2 s): the encoder's output goes out in ~100 ms pieces (or
 *   after `flushMs` at the latest) — not every 250 ms as the restream does for 2,000 listeners of a station,
 *   nor each piece the moment it comes, which cost 2–3× Icecast's CPU in bench:live — and a box that joins
 *   gets only ~0.3 s of burst: a longer burst starts it sooner but keeps it that much further behind the voice
 *   for the whole airing. The Icecast mount gets each piece at once (one connection).
 * - Until the voice begins, silence at the pace of real time: the boxes tune in as soon as the play reaches
 *   them, before the operator's first word, and a stream that sends nothing looks dead to a player (and Icecast
 *   drops a source that sends nothing for its source-timeout, refusing listeners 404 until it comes back).
 *   Silence paced in real time fills no box's buffer ahead of the voice, so it adds no delay.
 */
import { Fanout, type Listener } from '../relay/fanout.js';
import { OUTPUT_KBPS } from '../relay/restream.js';

const FRAME_BYTES = (144 * OUTPUT_KBPS * 1000) / 48_000;
const BYTES_PER_MS = (OUTPUT_KBPS * 1000) / 8 / 1000;
const FRAME_MS = 24;
/** 100 ms of the output: what LiveStream gathers before writing it to the boxes. */
const FLUSH_BYTES = 100 * BYTES_PER_MS;
/**
 * One frame of the output's format (MPEG-1 layer III, 64 kbit/s, 48 kHz, mono: header FF FB 54 C4) whose side
 * information and audio are all zero: it decodes to 24 ms of digital silence and needs no other frame (its
 * main data begins in itself), so any number of them may precede the encoder's first frame.
 */
export const SILENT_MP3_FRAME = Buffer.concat([Buffer.from([0xff, 0xfb, 0x54, 0xc4]), Buffer.alloc(FRAME_BYTES - 4)]);

/** Where else the MP3 goes; `ready` settles once it takes audio (true) or has failed (false). */
export interface LiveSink {
  write(chunk: Buffer): void;
  end(): void;
  ready: Promise<boolean>;
}

export class LiveStream {
  private readonly fanout: Fanout;
  private readonly perBox = new Map<string, Set<Listener>>();
  private silence: { timer: NodeJS.Timeout; at: number; owedMs: number } | null = null;
  /** Output gathered since the last write to the boxes, and the timer that writes it. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: { burstMs: number; flushMs: number; maxBacklogBytes: number; maxPerBox: number },
    private readonly sink: LiveSink | null,
  ) {
    this.fanout = new Fanout({ burstBytes: opts.burstMs * BYTES_PER_MS, maxBacklogBytes: opts.maxBacklogBytes, frameBytes: FRAME_BYTES });
  }

  get listeners(): number {
    return this.fanout.size;
  }

  /** Settles once the Icecast mount takes audio, or has failed; true at once without one. */
  get sinkReady(): Promise<boolean> {
    return this.sink?.ready ?? Promise.resolve(true);
  }

  /** Silence until `push` brings the voice. */
  startSilence(): void {
    this.silence ??= { at: performance.now(), owedMs: 0, timer: setInterval(() => this.fillSilence(), 100) };
    this.fillSilence();
  }

  /** The encoder's MP3: it takes over from the silence at its first frame (both are whole 192-byte frames). */
  push(mp3: Buffer): void {
    this.stopSilence();
    this.out(mp3);
  }

  /** 'busy' when the box holds `maxPerBox` streams already. */
  full(deviceId: string): boolean {
    return (this.perBox.get(deviceId)?.size ?? 0) >= this.opts.maxPerBox;
  }

  /** A box's stream (the recent burst at once, then every chunk as it comes); answers how to take it off. */
  add(deviceId: string, listener: Listener): () => void {
    let set = this.perBox.get(deviceId);
    if (!set) this.perBox.set(deviceId, (set = new Set()));
    set.add(listener);
    this.fanout.add(listener);
    const boxSet = set;
    return () => {
      this.fanout.remove(listener);
      boxSet.delete(listener);
      if (boxSet.size === 0 && this.perBox.get(deviceId) === boxSet) this.perBox.delete(deviceId);
    };
  }

  /** Cuts a box's streams at once (destroyed, not ended); answers how many. */
  cut(deviceId: string): number {
    const set = this.perBox.get(deviceId);
    if (!set) return 0;
    for (const l of set) {
      this.fanout.remove(l);
      l.destroy();
    }
    this.perBox.delete(deviceId);
    return set.size;
  }

  /** Every box's stream ends (each plays what it holds), and the Icecast source. */
  end(): void {
    this.stopSilence();
    this.flush();
    this.fanout.endAll();
    this.perBox.clear();
    this.sink?.end();
  }

  private fillSilence(): void {
    const s = this.silence;
    if (!s) return;
    const now = performance.now();
    s.owedMs += now - s.at;
    s.at = now;
    const frames = Math.floor(s.owedMs / FRAME_MS);
    if (frames <= 0) return;
    s.owedMs -= frames * FRAME_MS;
    const chunk = Buffer.alloc(frames * FRAME_BYTES);
    for (let i = 0; i < frames; i++) SILENT_MP3_FRAME.copy(chunk, i * FRAME_BYTES);
    this.out(chunk);
  }

  private stopSilence(): void {
    if (this.silence) clearInterval(this.silence.timer);
    this.silence = null;
  }

  private out(mp3: Buffer): void {
    this.sink?.write(mp3);
    if (this.opts.flushMs <= 0) return this.fanout.push(mp3);
    this.pending.push(mp3);
    this.pendingBytes += mp3.length;
    // Written once 100 ms of audio is gathered (about every second piece of the encoder), or after `flushMs` at
    // the latest. Gathering by time alone made the writes ~240 ms apart in bench:live (a piece that came just
    // after a write waited for the next two), longer than the box's 200 ms prebuffer holds: every upstream hiccup
    // then emptied every box's buffer at once.
    if (this.pendingBytes >= FLUSH_BYTES) return this.flush();
    this.flushTimer ??= setTimeout(() => this.flush(), this.opts.flushMs);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.pending.length) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.fanout.push(chunk);
  }
}
