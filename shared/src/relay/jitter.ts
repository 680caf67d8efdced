/**
 * The relay's jitter buffer (ARCHITECTURE.md § Streams: "keeps a small jitter buffer"): decoded PCM goes in
 * as the network delivers it — in bursts (Icecast's burst-on-connect, HLS segments) and with jitter — and
 * comes out at the pace of real time, so the sink gets exactly the audio a listener hears.
 * - Output starts (and restarts after running dry) only once `prebufferMs` is held, so a little network
 *   jitter is absorbed rather than heard as clicks.
 * - At most `maxMs` is held; beyond it the oldest audio is dropped. For a plain HTTP stream this keeps the
 *   box close to live (boxes of one commune within earshot of each other stay within ~`maxMs` of one
 *   another); for HLS it must hold the segments a player is handed at once.
 * - A live voice (issue 16) has an end: once its source ended (`end()`), what is held plays out at real-time
 *   pace even below the prebuffer, and `drained` says when nothing is left ("it plays what it holds").
 * - A live voice also keeps no standing backlog (`skipToLive`): output paced at real time never catches up, so
 *   audio that arrived at once — the server's burst on joining, an encoder's start, what a 4G hiccup held back
 *   — would stay that much late for the whole airing (measured: a 1 s burst kept a box 0.9 s behind). So
 *   when output (re)starts, what is held beyond the prebuffer is dropped (it was never heard), and while it
 *   flows, when even the least held over `windowMs` exceeds the prebuffer by `slackMs`, the excess is dropped
 *   (a skip of old audio, rare: jitter alone never holds the least that high).
 * Pure: the caller passes the time (milliseconds on any monotonic clock).
 */
import { PCM_BYTES_PER_MS } from './pcm.js';

export interface JitterOptions {
  prebufferMs: number;
  maxMs: number;
  /** A live voice (issue 16): drop any standing backlog beyond the prebuffer (see above). */
  skipToLive?: { windowMs: number; slackMs: number };
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
  /** No more input will come (`end()`): play out what is held without waiting for the prebuffer. */
  private ended = false;
  /** skipToLive: when the current window began, and the least held in it (bytes). */
  private windowAt = 0;
  private least = Infinity;
  /** Times the buffer ran dry while playing. */
  underruns = 0;
  /** Milliseconds dropped because more than `maxMs` arrived at once, or as a backlog (`skipToLive`). */
  droppedMs = 0;

  constructor(private readonly opts: JitterOptions) {}

  get bufferedMs(): number {
    return this.bytes / PCM_BYTES_PER_MS;
  }

  /** Whether output is flowing (false before the prebuffer filled, and after running dry). */
  get flowing(): boolean {
    return this.playing;
  }

  /** Whether the input ended and everything held has been taken. */
  get drained(): boolean {
    return this.ended && this.bytes === 0;
  }

  /** The input ended (a live voice's stream closed): the rest plays out, and `drained` follows. */
  end(): void {
    this.ended = true;
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
      if (this.bytes === 0 || (this.bytes < bytesFor(this.opts.prebufferMs) && !this.ended)) return Buffer.alloc(0);
      this.playing = true;
      this.lastAt = now;
      this.owed = 0;
      if (this.opts.skipToLive && !this.ended) {
        this.dropOldest(this.bytes - bytesFor(this.opts.prebufferMs));
        this.windowAt = now;
        this.least = Infinity;
      }
      return Buffer.alloc(0);
    }
    this.owed += Math.max(0, now - this.lastAt) * PCM_BYTES_PER_MS;
    this.lastAt = now;
    let want = Math.floor(this.owed);
    want -= want % 2;
    if (want <= 0) return Buffer.alloc(0);
    if (this.bytes >= want) {
      this.owed -= want;
      const out = this.shift(want);
      this.trimBacklog(now);
      return out;
    }
    // Ran dry: what is left goes out, and output waits for the prebuffer again (the debt is forgiven, not
    // paid back in a burst later).
    const rest = this.shift(this.bytes - (this.bytes % 2));
    this.playing = false;
    this.owed = 0;
    // The end of an ended input is not an underrun: nothing more was coming.
    if (!this.ended) this.underruns += 1;
    return rest;
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
    this.playing = false;
    this.owed = 0;
    this.ended = false;
  }

  /** skipToLive: at the end of each window, drops what was held all through it beyond the prebuffer and slack. */
  private trimBacklog(now: number): void {
    const live = this.opts.skipToLive;
    if (!live || this.ended) return;
    this.least = Math.min(this.least, this.bytes);
    if (now - this.windowAt < live.windowMs) return;
    if (this.least > bytesFor(this.opts.prebufferMs + live.slackMs)) this.dropOldest(this.least - bytesFor(this.opts.prebufferMs));
    this.windowAt = now;
    this.least = Infinity;
  }

  private dropOldest(bytes: number): void {
    const n = Math.min(this.bytes, bytes - (bytes % 2));
    if (n <= 0) return;
    this.shift(n);
    this.droppedMs += n / PCM_BYTES_PER_MS;
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
