// eSpeak NG on a small pool of worker threads, behind the same TtsEngine interface as EspeakEngine.
//
// Why: the WebAssembly eSpeak runs main() synchronously, ~0.1 s per sentence plus ~3 ms per second of
// speech; on the main thread that stalls MQTT keep-alives and HTTP for every connected speaker box while a
// bulletin renders. In a worker the main thread only receives the finished samples.
//
// Workers start on first use (nothing starts in a constructor) and are unref'd while idle, so a forgotten
// close() never keeps the process alive. A worker that crashes, or whose job is cancelled mid-run (its
// synchronous wasm cannot be interrupted), is terminated and replaced on the next job.

import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isVietnameseVoice, speedToWpm, VIETNAMESE_VOICES, type BatchSynthesisRequest, type Pcm, type SynthesisRequest, type TtsEngine } from './tts-engine.js';
import type { WorkerJob, WorkerReply } from './espeak-worker.js';

export interface EspeakWorkerEngineOptions {
  /** Worker threads. Default: one per spare core, at most 2 (each holds ~60–120 MiB of eSpeak). */
  poolSize?: number;
  /** A job running longer than this is killed with its worker. Default 60 s (a 500-char chunk takes < 1 s, a batch of 8,000 chars ~1 s). */
  jobTimeoutMs?: number;
}

interface Job extends WorkerJob {
  resolve(pcms: Pcm[]): void;
  reject(err: Error): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  slot: Slot | null;
  timer: NodeJS.Timeout | null;
}

interface Slot {
  worker: Worker | null;
  /** The worker has compiled eSpeak; until then a job waits without its time limit running. */
  ready: boolean;
  job: Job | null;
}

const DEFAULT_JOB_TIMEOUT_MS = 60_000;

export class EspeakWorkerEngine implements TtsEngine {
  readonly name = 'espeak-ng';
  readonly concurrency: number;
  readonly #jobTimeoutMs: number;
  readonly #slots: Slot[];
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;

  constructor(opts: EspeakWorkerEngineOptions = {}) {
    const poolSize = opts.poolSize ?? Math.min(2, Math.max(1, availableParallelism() - 1));
    if (!Number.isInteger(poolSize) || poolSize < 1) throw new RangeError(`poolSize must be a positive integer, got ${poolSize}`);
    this.concurrency = poolSize;
    this.#jobTimeoutMs = opts.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
    this.#slots = Array.from({ length: poolSize }, () => ({ worker: null, ready: false, job: null }));
  }

  async synthesize(req: SynthesisRequest): Promise<Pcm> {
    const [pcm] = await this.#submit([req.text], req);
    return pcm!;
  }

  /** All texts as one job on one worker: one eSpeak run for the lot (EspeakEngine.synthesizeBatch). */
  synthesizeBatch(req: BatchSynthesisRequest): Promise<Pcm[]> {
    if (req.texts.length === 0) return Promise.resolve([]);
    return this.#submit(req.texts, req);
  }

  #submit(texts: string[], req: Omit<SynthesisRequest, 'text'>): Promise<Pcm[]> {
    // Checked here as well as in the worker, so a bad request fails at once instead of after a queue wait.
    if (this.#closed) return Promise.reject(new Error('espeak-ng worker pool is closed'));
    if (!isVietnameseVoice(req.voice)) {
      return Promise.reject(new Error(`unknown voice "${req.voice}"; expected one of ${VIETNAMESE_VOICES.join(', ')}`));
    }
    try {
      speedToWpm(req.speed);
    } catch (err) {
      return Promise.reject(err);
    }
    if (texts.some((t) => t.trim() === '')) return Promise.reject(new Error('text to synthesize is empty'));
    if (req.signal?.aborted) return Promise.reject(abortError(req.signal));

    return new Promise<Pcm[]>((resolve, reject) => {
      const job: Job = {
        id: this.#nextId++, texts, voice: req.voice, speed: req.speed,
        resolve, reject, signal: req.signal, slot: null, timer: null,
        onAbort: () => this.#fail(job, abortError(req.signal!)),
      };
      req.signal?.addEventListener('abort', job.onAbort, { once: true });
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  /** Terminates the workers; queued and running jobs are rejected. */
  async close(): Promise<void> {
    this.#closed = true;
    const err = new Error('espeak-ng worker pool is closed');
    for (const job of this.#queue.splice(0)) this.#settle(job, err);
    await Promise.all(this.#slots.map(async (slot) => {
      if (slot.job) this.#settle(slot.job, err);
      const w = slot.worker;
      slot.worker = null;
      slot.job = null;
      if (w) await w.terminate();
    }));
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.job || this.#queue.length === 0) continue;
      const job = this.#queue.shift()!;
      slot.job = job;
      job.slot = slot;
      const worker = (slot.worker ??= this.#spawn(slot));
      worker.ref(); // a running job must keep the process alive
      if (slot.ready) this.#start(slot, job);
    }
  }

  #start(slot: Slot, job: Job): void {
    job.timer = setTimeout(() => this.#fail(job, new Error(`espeak-ng timed out after ${this.#jobTimeoutMs} ms`)), this.#jobTimeoutMs);
    const msg: WorkerJob = { id: job.id, texts: job.texts, voice: job.voice, speed: job.speed };
    slot.worker!.postMessage(msg);
  }

  #spawn(slot: Slot): Worker {
    const worker = startWorker();
    slot.ready = false;
    worker.on('message', (reply: WorkerReply) => {
      if (slot.worker !== worker) return; // a worker we already gave up on
      const job = slot.job;
      if ('ready' in reply) {
        slot.ready = true;
        if (job) this.#start(slot, job);
        return;
      }
      if (!job || job.id !== reply.id) return; // answer to a job that was already cancelled
      if (reply.ok) this.#settle(job, null, reply.pcms);
      else this.#settle(job, new Error(reply.message));
      this.#release(slot);
    });
    const onDeath = (err: Error) => {
      if (slot.worker !== worker) return;
      slot.worker = null;
      if (slot.job) this.#settle(slot.job, new Error(`espeak-ng worker died: ${err.message}`, { cause: err }));
      this.#release(slot);
    };
    worker.on('error', onDeath);
    worker.on('exit', (code) => onDeath(new Error(`exit code ${code}`)));
    return worker;
  }

  /** Fails a job; a running one takes its worker with it, since wasm cannot be interrupted mid-call. */
  #fail(job: Job, err: Error): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) this.#queue.splice(queued, 1);
    const slot = job.slot;
    this.#settle(job, err);
    if (slot && slot.job === job) {
      const w = slot.worker;
      slot.worker = null;
      void w?.terminate();
      this.#release(slot);
    }
  }

  #release(slot: Slot): void {
    slot.job = null;
    slot.worker?.unref();
    if (!this.#closed) this.#dispatch();
  }

  #settle(job: Job, err: Error | null, pcms?: Pcm[]): void {
    if (job.timer) clearTimeout(job.timer);
    job.timer = null;
    job.signal?.removeEventListener('abort', job.onAbort);
    if (err) job.reject(err);
    else job.resolve(pcms!);
  }
}

/**
 * From source (this file is .ts, running under tsx) the worker goes through the tsx bootstrap; a build
 * that compiled the sources to .js would start espeak-worker.js directly.
 */
function startWorker(): Worker {
  const ext = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./espeak-worker${ext}`, import.meta.url);
  if (ext !== '.ts') return new Worker(entry);
  return new Worker(new URL('./ts-worker-bootstrap.mjs', import.meta.url), { workerData: { entry: entry.href } });
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error('synthesis aborted', { cause: reason });
  err.name = 'AbortError';
  return err;
}
