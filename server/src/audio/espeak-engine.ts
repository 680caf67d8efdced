// eSpeak NG compiled to WebAssembly (npm espeak-ng@1.0.2, GPL-3.0, voice data inside the .wasm).
//
// The package only exposes the espeak-ng command line: main() runs once when a module instance starts.
// Reusing one instance by calling its exported main() again does NOT work — musl's getopt keeps `optind`
// from the first run, so the second run ignores every option (voice, -w) and writes no file (measured).
// So each call gets a fresh instance. What we can share is the compiled WebAssembly.Module (via
// Emscripten's `instantiateWasm` hook): that drops the per-call cost from ~230–350 ms to ~110–160 ms,
// most of which is eSpeak loading its Vietnamese dictionary inside main().
//
// main() runs synchronously on the calling thread (~0.1 s + ~3 ms per second of speech), so the
// pipeline feeds it sentence-sized chunks to keep event-loop stalls short. The server should use
// EspeakWorkerEngine (espeak-worker-engine.ts), which runs this class on worker threads.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ESpeakNg from 'espeak-ng';
import { parseWav } from './wav.js';
import { batchSsml, splitBatch } from './espeak-batch.js';
import { isVietnameseVoice, speedToWpm, VIETNAMESE_VOICES, type BatchSynthesisRequest, type Pcm, type SynthesisRequest, type TtsEngine } from './tts-engine.js';

// The WebAssembly global exists in Node, but its types live in the DOM lib, which this project does not load.
type CompiledWasm = { readonly __compiledWasm: unique symbol };
interface WasmApi {
  compile(bytes: Uint8Array): Promise<CompiledWasm>;
  instantiate(module: CompiledWasm, imports: unknown): Promise<unknown>;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const TEXT_FILE = '/input.txt';
const WAV_FILE = '/output.wav';
const UTF8_INPUT = '1'; // espeak-ng `-b 1`: input text is UTF-8
// eSpeak's default amplitude (100) clips: 80–180 full-scale samples per 10 s on the Vietnamese voices,
// measured. At 50 the peaks sit 4–5 dB below full scale; the pipeline sets the final level anyway.
const AMPLITUDE = '50';

export class EspeakEngine implements TtsEngine {
  readonly name = 'espeak-ng';
  #compiled: Promise<CompiledWasm> | null = null;

  async synthesize(req: SynthesisRequest): Promise<Pcm> {
    const wpm = checkRequest(req.voice, req.speed);
    if (req.text.trim() === '') throw new Error('text to synthesize is empty');
    req.signal?.throwIfAborted();
    return this.#run(req.text, req.voice, wpm, false);
  }

  /**
   * Reads all texts in one eSpeak run (SSML with long breaks between them) and cuts the audio at the
   * breaks (espeak-batch.ts); falls back to one run per text if the cut does not come out right.
   */
  async synthesizeBatch(req: BatchSynthesisRequest): Promise<Pcm[]> {
    const wpm = checkRequest(req.voice, req.speed);
    if (req.texts.length === 0) return [];
    if (req.texts.some((t) => t.trim() === '')) throw new Error('text to synthesize is empty');
    req.signal?.throwIfAborted();
    if (req.texts.length > 1) {
      const whole = await this.#run(batchSsml(req.texts), req.voice, wpm, true);
      const pieces = splitBatch(whole.samples, whole.sampleRate, req.texts.length);
      if (pieces) return pieces.map((samples) => ({ samples, sampleRate: whole.sampleRate }));
    }
    const out: Pcm[] = [];
    for (const text of req.texts) {
      req.signal?.throwIfAborted();
      out.push(await this.#run(text, req.voice, wpm, false));
    }
    return out;
  }

  async #run(text: string, voice: string, wpm: number, ssml: boolean): Promise<Pcm> {
    const compiled = await this.#compile();
    const messages: string[] = [];
    let instantiateFailed: (err: unknown) => void = () => {};
    const failure = new Promise<never>((_, reject) => { instantiateFailed = reject; });

    // The text goes in through a file in the module's in-memory FS (`-f`), never through argv: a text
    // starting with "-" cannot be read as an option, and a long text cannot overflow the 64 KiB wasm stack
    // that argv strings are copied onto. `-m`: the text is SSML (batches only).
    const args = ['-v', voice, '-s', String(wpm), '-a', AMPLITUDE, '-b', UTF8_INPUT, ...(ssml ? ['-m'] : []), '-w', WAV_FILE, '-f', TEXT_FILE];

    // Emscripten's exit path sets process.exitCode to main()'s status (1 on any eSpeak error), which
    // would leak into the server's own exit code; put it back afterwards.
    const exitCodeBefore = process.exitCode;
    let module;
    try {
      module = await Promise.race([
        ESpeakNg({
          arguments: args,
          thisProgram: 'espeak-ng',
          print: (line) => messages.push(line),
          printErr: (line) => messages.push(line),
          preRun: [(m) => m.FS.writeFile(TEXT_FILE, text)],
          instantiateWasm: (imports, receive) => {
            wasm.instantiate(compiled, imports).then((instance) => receive(instance, compiled), instantiateFailed);
            return {};
          },
        }),
        failure,
      ]);
    } finally {
      process.exitCode = exitCodeBefore;
    }

    let wav: Uint8Array;
    try {
      wav = module.FS.readFile(WAV_FILE);
    } catch {
      const detail = messages.filter((m) => !m.startsWith('program exited')).join('; ');
      throw new Error(`espeak-ng produced no audio${detail ? `: ${detail}` : ''}`);
    }
    return parseWav(wav);
  }

  /** Compiles the wasm ahead of the first call (the worker pool does this before it takes jobs). */
  async warmUp(): Promise<void> {
    await this.#compile();
  }

  /** Compiles the 18 MB wasm once per engine; a failed compile is retried on the next call. */
  #compile(): Promise<CompiledWasm> {
    if (!this.#compiled) {
      this.#compiled = readFile(espeakWasmPath()).then((bytes) => wasm.compile(bytes));
      this.#compiled.catch(() => { this.#compiled = null; });
    }
    return this.#compiled;
  }
}

/** Validates voice and speed; returns eSpeak's words per minute. */
function checkRequest(voice: string, speed: number): number {
  if (!isVietnameseVoice(voice)) {
    // Also keeps caller strings out of argv: only these fixed voice names ever reach it.
    throw new Error(`unknown voice "${voice}"; expected one of ${VIETNAMESE_VOICES.join(', ')}`);
  }
  return speedToWpm(speed);
}

function espeakWasmPath(): string {
  const entry = createRequire(import.meta.url).resolve('espeak-ng');
  return join(dirname(entry), 'espeak-ng.wasm');
}
