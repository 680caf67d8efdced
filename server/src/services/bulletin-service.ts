/**
 * Turns a text bulletin into stored audio in the background, recording progress in SQLite so
 * `GET /api/v1/bulletins/{id}` can show it, and resuming work a restart interrupted.
 */
import type { Logger } from 'pino';
import { rm } from 'node:fs/promises';
import type { BulletinRepository, Bulletin } from '../repos/bulletins.js';
import type { MediaStore } from '../audio/index.js';
import { Histogram, SYNTHESIS_BUCKETS_SECONDS } from '../metrics/exposition.js';


export interface RenderedSpeech {
  ogg: Buffer;
  /** The same audio as MP3 48 kbps, for download. */
  mp3?: Buffer | undefined;
  durationMs: number;
  lufs: number | null;
  truePeakDb: number | null;
  engine: string;
}

export type SpeechRenderer = (req: {
  text: string;
  voice: string;
  speed: number;
  style?: 'north' | 'south';
  /** Whose dictionary entries apply: the bulletin's area (the most local entry wins); absent or null: installation-wide ones only. */
  areaCode?: string | null;
  /** Open with the attention signal (audio/chime.ts 'attention'): a disaster warning's reading (issue 18). */
  attention?: boolean;
  onProgress: (percent: number, stage: string) => void;
}) => Promise<RenderedSpeech>;

export class BulletinService {
  private readonly jobs = new Map<string, Promise<Bulletin>>();
  /** Wall seconds of each synthesis that ended, by outcome (`GET /metrics`). */
  readonly synthesisSeconds = { ready: new Histogram(SYNTHESIS_BUCKETS_SECONDS), failed: new Histogram(SYNTHESIS_BUCKETS_SECONDS) };
  private readonly log: Logger;
  private stopped = false;

  constructor(
    private readonly deps: {
      bulletins: BulletinRepository;
      media: MediaStore;
      render: SpeechRenderer;
      /** Makes broadcast audio from an uploaded recording on disk. */
      renderRecording?: (path: string, onProgress: (percent: number, stage: string) => void) => Promise<RenderedSpeech>;
      logger: Logger;
    },
  ) {
    this.log = deps.logger.child({ module: 'bulletins' });
  }

  /** Bulletins being synthesized or waiting for an engine (a stuck engine shows as a queue that never empties). */
  get queueLength(): number {
    return this.jobs.size;
  }

  /** Restarts synthesis of bulletins a previous process left unfinished. */
  start(): void {
    // synthesize() records a failure on the bulletin and never rejects: nothing to wait for or catch here.
    for (const b of this.deps.bulletins.interrupted()) void this.synthesize(b.id);
  }

  /** Starts (or joins) synthesis of a stored bulletin; resolves with its final state, never rejects. */
  synthesize(id: string): Promise<Bulletin> {
    const running = this.jobs.get(id);
    if (running) return running;
    const job = this.run(id).finally(() => this.jobs.delete(id));
    this.jobs.set(id, job);
    return job;
  }

  private async run(id: string): Promise<Bulletin> {
    const { bulletins, media, render } = this.deps;
    const b = bulletins.get(id);
    if (!b) throw new Error(`bulletin ${id} vanished`);
    const log = this.log.child({ bulletinId: id });
    const started = Date.now();
    try {
      const onProgress = (percent: number, stage: string) => {
        if (!this.stopped) bulletins.setProgress(id, percent, stage);
      };
      const out =
        // A live voice's recording (issue 16) is mastered exactly as an upload: "the upload path's loudness treatment".
        (b.source === 'recording' || b.source === 'live') && b.uploadPath && this.deps.renderRecording
          ? await this.deps.renderRecording(b.uploadPath, onProgress)
          : await render({ text: b.text, voice: b.voice, speed: b.speed, areaCode: b.areaCode, ...(b.attention ? { attention: true } : {}), onProgress });
      const stored = await media.put(out.ogg, 'ogg');
      const mp3 = out.mp3 ? await media.put(out.mp3, 'mp3') : null;
      bulletins.markReady(id, { sha256: stored.sha256, bytes: stored.bytes, durationMs: out.durationMs, engine: out.engine, lufs: out.lufs, truePeakDb: out.truePeakDb, mp3Sha256: mp3?.sha256 ?? null });
      log.info({ durationMs: out.durationMs, wallMs: Date.now() - started, sha256: stored.sha256 }, 'bulletin synthesized');
      this.synthesisSeconds.ready.observe((Date.now() - started) / 1000);
      if (b.uploadPath) await rm(b.uploadPath, { force: true });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error({ err }, 'synthesis failed');
      this.synthesisSeconds.failed.observe((Date.now() - started) / 1000);
      if (!this.stopped) {
        bulletins.markFailed(id, `synthesis failed: ${message.slice(0, 500)}`);
        if (b.uploadPath) await rm(b.uploadPath, { force: true }).catch(() => undefined);
      }
    }
    return bulletins.get(id)!;
  }

  /** Waits for running jobs up to `timeoutMs`; unfinished ones resume at the next start. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    const all = Promise.allSettled([...this.jobs.values()]);
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }
}
