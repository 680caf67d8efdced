/**
 * The relay's jitter buffer (ARCHITECTURE.md § Streams: "keeps a small jitter buffer"): decoded PCM goes in
 * as the network delivers it — in bursts (Icecast's burst-on-connect, HLS segments) and with jitter — and
 * comes out at the pace of real time, so the sink gets exactly the audio a listener hears.
 * - Output starts (and restarts after running dry) only once `prebufferMs` is held, so a little network
 *   jitter is absorbed rather than heard as clicks.
 * - At most `maxMs` is held; beyond it the oldest audio is dropped. For a plain HTTP stream this keeps the
 *   box close to live (boxes of one commune within earshot of each other stay within ~`maxMs` of one
 *   another); for HLS it must hold the segments a player is handed at once.
 * Pure: the caller passes the time (milliseconds on any monotonic clock).
 */
import { PCM_BYTES_PER_MS } from './pcm.js';

export interface JitterOptions {
  prebufferMs: number;
  maxMs: number;
}

/** Whole samples only: a cut in the middle of a sample would swap the bytes of everything after it. */
function bytesFor(ms: number): number {
  const bytes = Math.floor(ms * PCM_BYTES_PER_MS);
  return bytes - (bytes % 2);
}

export class JitterBuffer {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private playing = false;
  private lastAt = 0;
  /** Audio owed to the output since the last take, in bytes (fractions of a sample carried). */
  private owed = 0;
  /** Times the buffer ran dry while playing. */
  underruns = 0;
  /** Milliseconds dropped because more than `maxMs` arrived at once. */
  droppedMs = 0;

  constructor(private readonly opts: JitterOptions) {}

  get bufferedMs(): number {
    return this.bytes / PCM_BYTES_PER_MS;
  }

  /** Whether output is flowing (false before the prebuffer filled, and after running dry). */
  get flowing(): boolean {
    return this.playing;
  }

  push(pcm: Buffer): void {
    if (pcm.length === 0) return;
    this.chunks.push(pcm);
    this.bytes += pcm.length;
    const max = bytesFor(this.opts.maxMs);
    if (this.bytes > max) {
      const drop = this.bytes - max;
      this.shift(drop - (drop % 2));
      this.droppedMs += drop / PCM_BYTES_PER_MS;
    }
  }

  /** The audio due for output at `now` (possibly empty). */
  take(now: number): Buffer {
    if (!this.playing) {
      if (this.bytes < bytesFor(this.opts.prebufferMs) || this.bytes === 0) return Buffer.alloc(0);
      this.playing = true;
      this.lastAt = now;
      this.owed = 0;
      return Buffer.alloc(0);
    }
    this.owed += Math.max(0, now - this.lastAt) * PCM_BYTES_PER_MS;
    this.lastAt = now;
    let want = Math.floor(this.owed);
    want -= want % 2;
    if (want <= 0) return Buffer.alloc(0);
    if (this.bytes >= want) {
      this.owed -= want;
      return this.shift(want);
    }
    // Ran dry: what is left goes out, and output waits for the prebuffer again (the debt is forgiven, not
    // paid back in a burst later).
    const rest = this.shift(this.bytes - (this.bytes % 2));
    this.playing = false;
    this.owed = 0;
    this.underruns += 1;
    return rest;
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
    this.playing = false;
    this.owed = 0;
  }

  private shift(n: number): Buffer {
    const out: Buffer[] = [];
    let left = n;
    while (left > 0 && this.chunks.length) {
      const head = this.chunks[0]!;
      if (head.length <= left) {
        out.push(head);
        this.chunks.shift();
        left -= head.length;
      } else {
        out.push(head.subarray(0, left));
        this.chunks[0] = head.subarray(left);
        left = 0;
      }
    }
    const taken = n - left;
    this.bytes -= taken;
    return out.length === 1 ? out[0]! : Buffer.concat(out, taken);
  }
}
