// Worker-thread side of EspeakWorkerEngine: runs the WebAssembly eSpeak off the main thread, because its
// main() is synchronous (~0.1 s per sentence) and would otherwise stall MQTT and HTTP for every speaker box.
// One job at a time per worker; the pool in espeak-worker-engine.ts does the queueing.

import { parentPort } from 'node:worker_threads';
import { EspeakEngine } from './espeak-engine.js';

export interface WorkerJob {
  id: number;
  /** One text (a plain call) or several (a batch: one eSpeak run, cut at the breaks). */
  texts: string[];
  voice: string;
  speed: number;
}

export interface WorkerPcm {
  samples: Int16Array;
  sampleRate: number;
}

export type WorkerReply =
  | { id: number; ok: true; pcms: WorkerPcm[] }
  | { id: number; ok: false; message: string }
  /** Sent once the wasm is compiled, so job time limits measure synthesis, not thread start-up. */
  | { ready: true };

if (!parentPort) throw new Error('espeak-worker.ts must run in a worker thread');
const port = parentPort;
// One engine per worker: it compiles the 18 MB wasm once and reuses it for every job.
const engine = new EspeakEngine();
// A failed compile is reported by the first job instead (the engine retries it).
void engine.warmUp().catch(() => {}).finally(() => port.postMessage({ ready: true } satisfies WorkerReply));

port.on('message', (job: WorkerJob) => {
  const request = { voice: job.voice, speed: job.speed };
  const work = job.texts.length === 1
    ? engine.synthesize({ ...request, text: job.texts[0]! }).then((pcm) => [pcm])
    : engine.synthesizeBatch({ ...request, texts: job.texts });
  work.then(
    (pcms) => {
      const reply: WorkerReply = { id: job.id, ok: true, pcms: pcms.map((p) => ({ samples: p.samples, sampleRate: p.sampleRate })) };
      // Transfer, not copy: a minute of speech is 2.6 MB.
      port.postMessage(reply, pcms.map((p) => p.samples.buffer as ArrayBuffer));
    },
    (err: unknown) => {
      const reply: WorkerReply = { id: job.id, ok: false, message: err instanceof Error ? err.message : String(err) };
      port.postMessage(reply);
    },
  );
});
