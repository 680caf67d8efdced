// Worker-thread side of EspeakWorkerEngine: runs the WebAssembly eSpeak off the main thread, because its
// main() is synchronous (~0.1 s per sentence) and would otherwise stall MQTT and HTTP for every speaker box.
// One job at a time per worker; the pool in espeak-worker-engine.ts does the queueing.

import { parentPort } from 'node:worker_threads';
import { EspeakEngine } from './espeak-engine.js';

export interface WorkerJob {
  id: number;
  text: string;
  voice: string;
  speed: number;
}

export type WorkerReply =
  | { id: number; ok: true; samples: Int16Array; sampleRate: number }
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
  engine.synthesize({ text: job.text, voice: job.voice, speed: job.speed }).then(
    (pcm) => {
      const reply: WorkerReply = { id: job.id, ok: true, samples: pcm.samples, sampleRate: pcm.sampleRate };
      // Transfer, not copy: a minute of speech is 2.6 MB.
      port.postMessage(reply, [pcm.samples.buffer as ArrayBuffer]);
    },
    (err: unknown) => {
      const reply: WorkerReply = { id: job.id, ok: false, message: err instanceof Error ? err.message : String(err) };
      port.postMessage(reply);
    },
  );
});
