/**
 * The restream's encoded bytes, fanned out to every listener of one source (issue 15), like an Icecast mount:
 * - a joiner first gets a short burst of the latest output (Icecast's burst-on-connect), so its decoder and
 *   jitter buffer fill at once instead of waiting in real time; the burst starts on an MP3 frame boundary
 *   (constant-bitrate frames of `frameBytes`, no ID3 tag or Xing header, so frame k starts at byte k × size);
 * - a listener that does not keep up is dropped rather than buffered without end: once more than
 *   `maxBacklogBytes` wait in its socket, it is destroyed. Its box sees the connection cut, counts an error
 *   and comes back through its own failover (device-agent/src/relay/), with a fresh burst. One slow box on a
 *   weak 4G link must not hold memory, nor the others' audio, hostage.
 */

/** What the restream needs of a listener: node's http.ServerResponse is one. */
export interface Listener {
  write(chunk: Buffer): unknown;
  /** Bytes queued in the socket, not yet sent. */
  readonly writableLength: number;
  end(): unknown;
  destroy(): unknown;
}

export interface FanoutOptions {
  /** Output kept for joiners. */
  burstBytes: number;
  /** A listener with more than this queued is dropped. */
  maxBacklogBytes: number;
  /** Size of one MP3 frame of the output (CBR). */
  frameBytes: number;
}

export class Fanout {
  private readonly listeners = new Set<Listener>();
  private recent: Buffer[] = [];
  private recentBytes = 0;
  /** Bytes sent since the encoder started: where the first kept chunk begins is `sent - recentBytes`. */
  private sent = 0;
  /** Listeners dropped for falling behind. */
  dropped = 0;

  constructor(private readonly opts: FanoutOptions) {}

  get size(): number {
    return this.listeners.size;
  }

  add(l: Listener): void {
    if (this.recentBytes > 0) {
      const start = this.sent - this.recentBytes;
      const skip = (this.opts.frameBytes - (start % this.opts.frameBytes)) % this.opts.frameBytes;
      const burst = Buffer.concat(this.recent, this.recentBytes).subarray(skip);
      if (burst.length) l.write(burst);
    }
    this.listeners.add(l);
  }

  /** Whether `l` was listening (false: it was dropped or never added). */
  remove(l: Listener): boolean {
    return this.listeners.delete(l);
  }

  push(chunk: Buffer): void {
    this.sent += chunk.length;
    this.recent.push(chunk);
    this.recentBytes += chunk.length;
    while (this.recent.length > 1 && this.recentBytes - this.recent[0]!.length >= this.opts.burstBytes) this.recentBytes -= this.recent.shift()!.length;
    for (const l of this.listeners) {
      if (l.writableLength > this.opts.maxBacklogBytes) {
        this.listeners.delete(l);
        this.dropped += 1;
        l.destroy();
      } else l.write(chunk);
    }
  }

  /** Ends every listener's response (their boxes see the stream end) and forgets them. */
  endAll(): void {
    for (const l of this.listeners) l.end();
    this.listeners.clear();
  }
}
