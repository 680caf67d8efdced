/**
 * One simulated speaker box: the real DeviceAgent on a SimBoard (GPIO inputs, amplifier, mixer, disk,
 * modem, sound card), a clock that can drift, a media path that can be slow or corrupt, and optionally a
 * flaky 4G link to the broker. Scenarios change these; the agent notices through its normal readers.
 */
import type { DeviceAgent, FetchLike, SimBoard } from '@loaxa/device-agent';
import type { FlakyLink } from './flaky-link.js';
import type { MarkerSink } from './live-markers.js';
import type { SimPlayer } from './sim-player.js';

/** The box's clock: the real one plus an offset a scenario can move (clock drift, a bad RTC). */
export class SimClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

/** What happens to media downloads of one box. */
export class MediaPath {
  /** Bytes per second the body is throttled to (0 = no limit). */
  bytesPerSecond = 0;
  /** Flip a byte in every body (corrupt audio served). */
  corrupt = false;
  /** Downloads that went through. */
  requests = 0;

  constructor(private readonly inner: FetchLike = globalThis.fetch) {}

  readonly fetch: FetchLike = async (input, init) => {
    this.requests += 1;
    const res = await this.inner(input, init);
    if (!res.body || (!this.corrupt && this.bytesPerSecond === 0)) return res;
    const { corrupt, bytesPerSecond } = this;
    const reader = res.body.getReader();
    let flipped = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        let chunk = value;
        if (corrupt && !flipped && chunk.length > 0) {
          chunk = new Uint8Array(chunk);
          chunk[Math.floor(chunk.length / 2)]! ^= 0xff;
          flipped = true;
        }
        if (bytesPerSecond > 0) await new Promise((r) => setTimeout(r, (chunk.length / bytesPerSecond) * 1000));
        controller.enqueue(chunk);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

export interface SimBox {
  id: string;
  agent: DeviceAgent;
  board: SimBoard;
  clock: SimClock;
  media: MediaPath;
  /**
   * The box's speaker for relays and live voice: counts the seconds of stream it actually decoded and sent
   * out, audible and silent apart (issue 15), and notes when marker tones reached it (issue 16).
   */
  sink: MarkerSink;
  /** Onsets of the live-voice markers this box's speaker got, epoch ms (live-markers.ts; issue 16's latency proof). */
  markers(): number[];
  /** The box's file player: when each file's decoding started and ended, for gaps and seconds decoded (issue 15). */
  player: SimPlayer;
  /** Present when a scenario needs the box's link to the broker to misbehave. */
  link: FlakyLink | null;
}
