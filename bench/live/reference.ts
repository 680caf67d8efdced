/**
 * bench:live's reference box (issue 16): one listener of a side that keeps every frame it receives, decodes
 * them afterwards with ffmpeg and finds the markers in the sound (firmware-sim's MarkerDetector, the detector
 * of the simulated boxes in test/web/live-browser.test.ts). Every box of a side receives the same frames, so
 * the frame whose decoding first yields a marker's onset, known by its CRC-32, is what each lightweight
 * listener (../relay/listener.ts) looks for: when it arrived there is when that box could decode the marker.
 * 2,000 ffmpeg decoders would not run on two cores; one does, and the frames say the rest.
 *
 * The decoder yields 1,152 samples for each MPEG-1 Layer III frame, in order, so sample n of its output comes
 * from frame ⌊n / 1152⌋ (checked: the samples must be a whole number of frames, a frame it dropped at the start,
 * where the bit reservoir refers to bytes sent before the listener joined, being counted).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { crc32 } from 'node:zlib';
import { MarkerDetector } from '../../firmware-sim/src/live-markers.js';
import { ffmpegBin } from '../../test/helpers/streams.js';
import { audioKind, createAudioCounter, type AudioCounter } from '../relay/frames.js';
import type { WatchedFrame } from '../relay/listener.js';

const SAMPLES_PER_FRAME = 1152;
const RATE = 48_000;

export interface ReferenceMarker {
  /** When it left the speaker's side (epoch ms), and when its onset frame reached the reference. */
  mouthAt: number;
  arrivedAt: number;
  crc: number;
}

export class ReferenceListener {
  private frames: Buffer[] = [];
  private arrivals: number[] = [];
  private req: http.ClientRequest | null = null;
  private counter: AudioCounter | null = null;
  failed: string | null = null;

  constructor(private readonly url: string, private readonly authorization: string | null) {}

  start(): void {
    this.req = http.get(this.url, { headers: this.authorization ? { authorization: this.authorization } : {} }, (res) => {
      if (res.statusCode !== 200) {
        this.failed = `HTTP ${res.statusCode}`;
        res.resume();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        if (!this.counter) {
          const kind = audioKind(res.headers['content-type'], chunk);
          if (kind !== 'mp3') {
            this.failed = `not MP3 (${res.headers['content-type'] ?? '?'})`;
            return void res.destroy();
          }
          this.counter = createAudioCounter(kind, (frame) => {
            this.frames.push(Buffer.from(frame));
            this.arrivals.push(performance.timeOrigin + performance.now());
          });
        }
        this.counter.push(chunk);
      });
      res.on('error', (err) => (this.failed ??= err.message));
    });
    this.req.on('error', (err) => (this.failed ??= err.message));
  }

  stop(): void {
    this.req?.destroy();
  }

  /**
   * Decodes what it received and finds the markers: each onset's frame, matched to the last marker that left
   * the speaker before that frame arrived (markers are `everyMs` apart, so any latency under that is read
   * right). Only onsets whose frame arrived in [from, to].
   */
  async markers(mouthTimes: number[], everyMs: number, from: number, to: number): Promise<{ markers: ReferenceMarker[]; droppedFrames: number; frames: number }> {
    const mp3 = Buffer.concat(this.frames);
    const pcm = await decode(mp3);
    const decodedFrames = pcm.length / 2 / SAMPLES_PER_FRAME;
    if (!Number.isInteger(decodedFrames) || decodedFrames > this.frames.length) {
      throw new Error(`the reference decoded ${pcm.length / 2} samples from ${this.frames.length} frames: not whole frames, the onsets cannot be placed`);
    }
    const dropped = this.frames.length - decodedFrames;
    const detector = new MarkerDetector();
    // Sample times in ms from the first decoded sample: the onset's block start, its middle placing the frame.
    detector.feed(pcm, 0);
    const out: ReferenceMarker[] = [];
    for (const onsetMs of detector.onsets) {
      const k = dropped + Math.floor(((onsetMs + 5) * RATE) / 1000 / SAMPLES_PER_FRAME);
      const arrivedAt = this.arrivals[k];
      if (arrivedAt === undefined || arrivedAt < from || arrivedAt > to) continue;
      const mouthAt = mouthTimes.filter((m) => m <= arrivedAt).pop();
      if (mouthAt === undefined || arrivedAt - mouthAt >= everyMs) continue;
      out.push({ mouthAt, arrivedAt, crc: crc32(this.frames[k]!) });
    }
    return { markers: out, droppedFrames: dropped, frames: this.frames.length };
  }
}

/** What the listeners look for: each marker's onset frame, arrived after the marker left and within 10 s. */
export function watchList(markers: ReferenceMarker[]): WatchedFrame[] {
  return markers.map((m) => ({ crc: m.crc, from: m.mouthAt, to: m.mouthAt + 10_000 }));
}

function decode(mp3: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const ff = spawn(ffmpegBin(), ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'mp3', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', String(RATE), 'pipe:1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    ff.stdout.on('data', (d: Buffer) => out.push(d));
    ff.stderr.on('data', (d: Buffer) => (err += d.toString()));
    ff.stdin.on('error', () => undefined);
    ff.on('error', reject);
    ff.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg decoding the reference: ${code} ${err.slice(-500)}`))));
    ff.stdin.end(mp3);
  });
}
