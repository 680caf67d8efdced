/**
 * One live airing while it runs (issue 16), in memory: the operator's socket in, one encoder
 * (live-encoder.ts), the boxes' streams out (live-stream.ts), the recording on disk (live-recording.ts). The
 * service (live-service.ts) makes it, writes what it reports to the database and decides what follows its end;
 * this file knows no SQL and no HTTP. Just over 300 lines: an airing's states, bounds and end are one machine.
 *
 *   operator ──start, chunks──▶ LiveEncoder ──mp3──▶ LiveStream ──▶ boxes (GET /live/{id}), and Icecast when set
 *                                           ──pcm──▶ LiveRecording (disk)
 *                                           ──level─▶ operator (every 100 ms), `boxes` every second
 *
 * - Bounded: one operator socket; its bytes per second (a voice in Opus is 2–16 KB/s); 10 s without audio
 *   (no chunk, or chunks that decode to nothing) ends the airing (`no-audio`), as does waiting 30 s for the
 *   voice to begin; LIVE_MAX_MS (`too-long`); two streams per box; a box more than 6 s behind is dropped.
 * - The end, whatever its cause: the encoder drains what it holds, then every box's stream ends (the box plays
 *   what it buffered and reports `played` with the ms aired), the recording is closed, the operator is told.
 */
import type { Logger } from 'pino';
import { LIVE_MAX_MS, liveClientMessageSchema, liveServerMessageSchema, type LiveEndReason, type LiveServerMessage } from '@loaxa/shared';
import type { Listener } from '../relay/fanout.js';
import { LiveEncoder, LIVE_INPUTS, type LiveInputType } from './live-encoder.js';
import { LiveRecording } from './live-recording.js';
import { LiveStream, type LiveSink } from './live-stream.js';

export interface LiveTuning {
  /** The voice must begin within this long of the airing's creation. */
  waitMs: number;
  /** This long without audio from the operator (no chunk, or chunks that decode to nothing) ends the airing (`no-audio`). */
  noAudioMs: number;
  maxMs: number;
  /** Audio a joining box gets at once. */
  burstMs: number;
  /** The encoder's output is gathered this long and written to every box at once (LiveStream). */
  flushMs: number;
  maxBacklogBytes: number;
  /** The operator's bytes per second, averaged over `rateWindowMs`. */
  maxBytesPerSecond: number;
  rateWindowMs: number;
  /** How often the operator hears how many boxes play. */
  boxesEveryMs: number;
  /** Streams one box may hold (2: a reconnecting box may briefly hold its old one, as restream.ts). */
  maxPerBox: number;
  /** The encoder is killed if it has not drained this long after the end. */
  drainMs: number;
}

export const DEFAULT_LIVE_TUNING: LiveTuning = {
  waitMs: 30_000,
  noAudioMs: 10_000,
  maxMs: LIVE_MAX_MS,
  burstMs: 300,
  // bench:live (issue 16): writing each of the encoder's ~15 outputs a second to 2,000 boxes cost 2.2–3.1× the
  // CPU of Icecast serving the same listeners (a write costs the same on both sides; Icecast writes ~5.7 a
  // second). Gathered in 100 ms pieces (LiveStream), 150 ms at most, it is well under 1.5×; the ~50 ms it adds
  // is well inside the 2 s budget, and the box's 200 ms prebuffer holds two writes.
  flushMs: 150,
  // 6 s of the output, as the restream: a box that far behind is no longer live.
  maxBacklogBytes: 48 * 1024,
  // Opus from MediaRecorder is 2–16 KB/s, AAC up to 32 KB/s; four times the most, over 5 s.
  maxBytesPerSecond: 128 * 1024,
  rateWindowMs: 5_000,
  boxesEveryMs: 1_000,
  maxPerBox: 2,
  drainMs: 5_000,
};

/** The operator's socket, as the airing needs it. */
export interface OperatorLink {
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface AiringResult {
  reason: LiveEndReason;
  endedBy: string | null;
  airedMs: number;
  /** Milliseconds in the recording file (0: no file worth mastering). */
  recordedMs: number;
  /** The recording could not be written (a full disk): the airing went on, its recording is lost. */
  recordingError: Error | null;
}

export interface AiringDeps {
  id: string;
  ffmpegPath: string;
  recordingPath: string;
  logger: Logger;
  tuning: LiveTuning;
  /** The voice arrived. */
  onAir(inputType: LiveInputType): void;
  /** Boxes of the airing playing it, and sent it (the database's delivery states). */
  counts(): { playing: number; total: number };
  /** Once, when everything has ended. */
  finished(result: AiringResult): void;
  /** Another place the MP3 goes (an Icecast mount), opened when the airing begins. */
  openSink?: () => LiveSink;
}

export type AiringState = 'waiting' | 'on-air' | 'ending' | 'ended';


export class LiveAiring {
  state: AiringState = 'waiting';
  private readonly stream: LiveStream;
  private link: OperatorLink | null = null;
  private encoder: LiveEncoder | null = null;
  private recording: LiveRecording | null = null;
  private readonly createdAt = performance.now();
  private onAirAt = 0;
  /** When the encoder last gave audio: chunks that decode to nothing (a corrupt stream) are no audio either. */
  private lastAudioAt = 0;
  private rate: { at: number; bytes: number } = { at: 0, bytes: 0 };
  private timer: NodeJS.Timeout | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private ending: { reason: LiveEndReason; by: string | null } | null = null;
  private readonly log: Logger;

  constructor(private readonly deps: AiringDeps) {
    this.log = deps.logger.child({ module: 'live', liveId: deps.id });
    let sink: LiveSink | null = null;
    try {
      sink = deps.openSink?.() ?? null;
    } catch (err) {
      this.log.error({ err }, 'live: could not open the Icecast mount');
    }
    this.stream = new LiveStream(deps.tuning, sink);
  }

  /** Starts the clock (the voice must begin within `waitMs`) and the boxes' stream (silence until the voice). */
  begin(): void {
    // Not unref'd: a running airing is work in progress, ended by the server's stop (LiveService.stopAll).
    this.timer = setInterval(() => this.tick(), Math.min(1_000, this.deps.tuning.boxesEveryMs));
    this.stream.startSilence();
  }

  /** Settles once the Icecast mount takes audio, or has failed; true at once without one. */
  get sinkReady(): Promise<boolean> {
    return this.stream.sinkReady;
  }

  get airedMs(): number {
    return this.encoder?.producedMs ?? 0;
  }

  get listeners(): number {
    return this.stream.listeners;
  }

  /** Whether an operator's socket may still attach (none has, and the airing runs). */
  get canAttach(): boolean {
    return !this.link && (this.state === 'waiting' || this.state === 'on-air');
  }

  /** The operator's socket; false when one is already attached (one socket per airing) or it has ended. */
  attach(link: OperatorLink): boolean {
    if (!this.canAttach) return false;
    this.link = link;
    this.sendBoxes();
    return true;
  }

  /** A text frame: `start` (once, first) or `stop`. */
  onText(text: string, by: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.refuse('a text frame must be JSON: {"type":"start","mimeType":…} or {"type":"stop"}');
    }
    const m = liveClientMessageSchema.safeParse(json);
    if (!m.success) return this.refuse(`unknown message: ${m.error.issues[0]?.message ?? 'invalid'}`);
    if (m.data.type === 'stop') return this.end('stopped', by);
    if (this.state !== 'waiting' || this.encoder) return this.refuse('the airing has already started');
    const base = m.data.mimeType.split(';')[0]!.trim().toLowerCase();
    if (!(base in LIVE_INPUTS)) return this.refuse(`cannot read ${base || 'that'}: send ${Object.keys(LIVE_INPUTS).join(', ')} (MediaRecorder's mimeType)`);
    this.startEncoder(base as LiveInputType);
  }

  /** A binary frame: a chunk of the recorder's output. */
  onBinary(chunk: Buffer): void {
    if (this.state !== 'on-air' || !this.encoder) {
      if (this.state === 'waiting') this.refuse('send {"type":"start","mimeType":…} before the audio');
      return;
    }
    const now = performance.now();
    const t = this.deps.tuning;
    if (now - this.rate.at > t.rateWindowMs) this.rate = { at: now, bytes: 0 };
    this.rate.bytes += chunk.length;
    if (this.rate.bytes > (t.maxBytesPerSecond * t.rateWindowMs) / 1000) {
      return this.refuse(`more than ${Math.round(t.maxBytesPerSecond / 1024)} KiB a second: a voice is far less; send the recorder's chunks as they come`);
    }
    this.encoder.write(chunk);
  }

  /** The operator's socket closed: without a `stop` first, the link dropped (issue 16: boxes play what they hold, then stop). */
  onLinkClosed(by: string): void {
    this.link = null;
    this.end('link-dropped', by);
  }

  /** Why a box may not tune in now (the route answers 410 or 429), or null: asked right before `listen`. */
  refusal(deviceId: string): 'gone' | 'busy' | null {
    if (this.state === 'ending' || this.state === 'ended') return 'gone';
    return this.stream.full(deviceId) ? 'busy' : null;
  }

  /** A box's stream; answers how to take it off. */
  listen(deviceId: string, listener: Listener): () => void {
    return this.stream.add(deviceId, listener);
  }

  /** Cuts a box's streams at once (its credentials changed, it was revoked or deleted). */
  cut(deviceId: string): number {
    return this.stream.cut(deviceId);
  }

  /** Ends the airing (idempotent: the first reason stands). The encoder drains, then `finished` follows. */
  end(reason: LiveEndReason, by: string | null): void {
    if (this.ending) return;
    this.ending = { reason, by };
    const wasOnAir = this.state === 'on-air';
    this.state = 'ending';
    this.log.info({ reason, by, airedMs: Math.round(this.airedMs) }, 'live airing ending');
    if (!wasOnAir || !this.encoder) return void this.finish(null);
    if (reason === 'server-stopping') this.encoder.kill();
    else this.encoder.end();
    this.drainTimer = setTimeout(() => this.encoder?.kill(), this.deps.tuning.drainMs);
  }

  private startEncoder(inputType: LiveInputType): void {
    const { ffmpegPath, recordingPath } = this.deps;
    this.recording = new LiveRecording(recordingPath);
    this.recording.open();
    const enc = new LiveEncoder({ ffmpegPath, inputType });
    this.encoder = enc;
    enc.on('mp3', (mp3) => this.stream.push(mp3));
    enc.on('pcm', (pcm) => {
      this.lastAudioAt = performance.now();
      this.recording?.write(pcm);
    });
    enc.on('level', (l) => this.send({ type: 'level', peakDb: finite(l.peakDb), rmsDb: finite(l.rmsDb), elapsedMs: Math.round(enc.producedMs) }));
    enc.on('ended', (err) => {
      if (err) this.log.error({ err }, 'live encoder failed');
      // An encoder that stops on its own (a corrupt recording, ffmpeg killed) ends the airing.
      if (!this.ending) this.ending = { reason: 'encoder-failed', by: null };
      this.state = 'ending';
      void this.finish(err);
    });
    enc.start();
    this.state = 'on-air';
    this.onAirAt = this.lastAudioAt = performance.now();
    this.deps.onAir(inputType);
  }

  private tick(): void {
    const now = performance.now();
    const t = this.deps.tuning;
    if (this.state === 'waiting' && now - this.createdAt > t.waitMs) return this.end('no-audio', null);
    if (this.state === 'on-air' && now - this.lastAudioAt > t.noAudioMs) return this.end('no-audio', null);
    if (this.state === 'on-air' && now - this.onAirAt > t.maxMs) return this.end('too-long', null);
    this.sendBoxes();
  }

  private sendBoxes(): void {
    if (!this.link) return;
    const c = this.deps.counts();
    this.send({ type: 'boxes', playing: c.playing, listening: this.stream.listeners, total: c.total });
  }

  /** Tells the operator what is wrong and closes its socket, which ends the airing as a dropped link. */
  private refuse(message: string): void {
    this.send({ type: 'error', message });
    this.link?.close(1008, message.slice(0, 120));
  }

  private send(m: LiveServerMessage): void {
    if (!this.link) return;
    try {
      this.link.send(JSON.stringify(liveServerMessageSchema.parse(m)));
    } catch (err) {
      this.log.warn({ err }, 'live: could not send the operator a message');
    }
  }

  private async finish(encoderError: Error | null): Promise<void> {
    if (this.state === 'ended') return;
    this.state = 'ended';
    if (this.timer) clearInterval(this.timer);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.timer = this.drainTimer = null;
    // The boxes first: their streams end now and each plays out what it holds.
    this.stream.end();
    let recordingError: Error | null = null;
    try {
      await this.recording?.close();
    } catch (err) {
      recordingError = err as Error;
      this.log.error({ err }, 'live: the recording could not be written');
    }
    const { reason, by } = this.ending ?? { reason: encoderError ? 'encoder-failed' : 'stopped', by: null };
    const airedMs = Math.round(this.airedMs);
    this.send({ type: 'ended', reason, airedMs });
    this.link?.close(1000, reason);
    this.link = null;
    this.deps.finished({ reason, endedBy: by, airedMs, recordedMs: recordingError ? 0 : (this.recording?.ms ?? 0), recordingError });
  }
}

const finite = (db: number): number | null => (Number.isFinite(db) ? Math.round(db * 10) / 10 : null);
