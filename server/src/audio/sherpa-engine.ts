// Piper/VITS ONNX voices through sherpa-onnx-node (prebuilt native binaries from npm). No Vietnamese voice
// model ships with any npm package, so an installation supplies one: the .onnx model, its tokens.txt and,
// for Piper voices, the espeak-ng-data directory Piper phonemizes with (the layout of sherpa-onnx's
// converted `vits-piper-vi_VN-*` releases).
//
// The package is imported lazily, on the first synthesis: the server starts and runs on eSpeak without it,
// and a missing package or model file becomes a clear TtsError (kind 'config') that a FallbackEngine
// passes over. Synthesis runs through generateAsync, which does its work off the main thread.

import { access, constants, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Limiter } from './concurrency.js';
import { TtsError } from './tts-errors.js';
import { assertSpeed, VIETNAMESE_VOICES, type Pcm, type SynthesisRequest, type TtsEngine } from './tts-engine.js';

export interface SherpaOnnxEngineOptions {
  /** Path to the VITS/Piper .onnx model. */
  model: string;
  /** Path to the model's tokens.txt. */
  tokens: string;
  /** Piper voices: path to espeak-ng-data. */
  dataDir?: string;
  /** Some VITS models (not Piper) use a lexicon instead. */
  lexicon?: string;
  /** Our voice → speaker id inside the model. Default: every Vietnamese voice → 0 (a Piper model has one). */
  voices?: Partial<Record<string, number>>;
  /** ONNX runtime threads per synthesis. Default 1, leaving the other core to the server. */
  numThreads?: number;
  /** Name recorded on bulletins. Default 'piper'. */
  name?: string;
  /** For tests and unusual installs: how to load the package. Default: import('sherpa-onnx-node'). */
  loadModule?: () => Promise<unknown>;
}

/** The part of sherpa-onnx-node's API we use (it ships JSDoc, not TypeScript types). */
export interface SherpaOfflineTts {
  readonly sampleRate: number;
  readonly numSpeakers: number;
  generateAsync(req: { text: string; sid: number; speed: number }): Promise<{ samples: Float32Array; sampleRate: number }>;
}
interface SherpaModule {
  OfflineTts: { createAsync(config: unknown): Promise<SherpaOfflineTts> };
}

const ESPEAK_DATA_FILES = ['phontab', 'phonindex', 'phondata', 'intonations'];

export class SherpaOnnxEngine implements TtsEngine {
  readonly name: string;
  readonly cacheKey: string;
  // One generation at a time per model: sherpa's OfflineTts handle is not documented as re-entrant.
  readonly concurrency = 1;
  readonly #opts: SherpaOnnxEngineOptions;
  readonly #voices: Record<string, number>;
  readonly #limiter = new Limiter(1);
  #tts: Promise<SherpaOfflineTts> | null = null;

  constructor(opts: SherpaOnnxEngineOptions) {
    this.name = opts.name ?? 'piper';
    if (!opts.model || !opts.tokens) throw new TtsError(this.name, 'config', 'model and tokens paths are required');
    this.#opts = opts;
    this.#voices = { ...Object.fromEntries(VIETNAMESE_VOICES.map((v) => [v, 0])), ...opts.voices } as Record<string, number>;
    this.cacheKey = `${this.name}:${opts.model}:${JSON.stringify(this.#voices)}`;
  }

  async synthesize(req: SynthesisRequest): Promise<Pcm> {
    const sid = Object.hasOwn(this.#voices, req.voice) ? this.#voices[req.voice] : undefined;
    if (sid === undefined) throw new TtsError(this.name, 'unsupported', `no speaker configured for voice "${req.voice}"`);
    assertSpeed(req.speed);
    if (req.text.trim() === '') throw new TtsError(this.name, 'unsupported', 'text to synthesize is empty');
    const tts = await this.#load();
    if (sid >= tts.numSpeakers) throw new TtsError(this.name, 'config', `speaker ${sid} not in model (it has ${tts.numSpeakers})`);
    req.signal?.throwIfAborted();
    const audio = await this.#limiter.run(() => tts.generateAsync({ text: req.text, sid, speed: req.speed }));
    return { samples: floatToInt16(audio.samples), sampleRate: audio.sampleRate };
  }

  async close(): Promise<void> {
    this.#tts = null; // the native handle is freed when garbage-collected; nothing else holds it
  }

  /** Loads once; a failure is not cached, so a model copied into place later is picked up. */
  #load(): Promise<SherpaOfflineTts> {
    if (!this.#tts) {
      this.#tts = this.#create();
      this.#tts.catch(() => { this.#tts = null; });
    }
    return this.#tts;
  }

  async #create(): Promise<SherpaOfflineTts> {
    const o = this.#opts;
    // Checked here because sherpa's own message is "Failed to create OfflineTts. Check your config!",
    // with the real reason only on stderr.
    await mustBeFile(this.name, 'model', o.model);
    await mustBeFile(this.name, 'tokens', o.tokens);
    if (o.lexicon) await mustBeFile(this.name, 'lexicon', o.lexicon);
    if (o.dataDir) {
      await mustBeDir(this.name, 'dataDir', o.dataDir);
      // sherpa checks these too, but reports which one is missing only on stderr
      for (const file of ESPEAK_DATA_FILES) {
        const s = await stat(join(o.dataDir, file)).catch(() => null);
        if (!s?.isFile()) throw new TtsError(this.name, 'config', `dataDir ${o.dataDir} is not an espeak-ng-data directory (no ${file})`);
      }
    }

    let mod: SherpaModule;
    try {
      const loaded = (await (o.loadModule ?? (() => import('sherpa-onnx-node')))()) as { default?: SherpaModule } & Partial<SherpaModule>;
      mod = (loaded.OfflineTts ? loaded : loaded.default) as SherpaModule;
      if (!mod?.OfflineTts) throw new Error('it has no OfflineTts');
    } catch (err) {
      throw new TtsError(this.name, 'config', `cannot load sherpa-onnx-node (npm install sherpa-onnx-node): ${(err as Error).message}`, { cause: err });
    }
    const config = {
      model: {
        vits: { model: o.model, tokens: o.tokens, dataDir: o.dataDir ?? '', lexicon: o.lexicon ?? '' },
        numThreads: o.numThreads ?? 1,
        provider: 'cpu',
        debug: 0,
      },
      // One sentence per call: the pipeline already feeds sentence chunks and inserts its own pauses.
      maxNumSentences: 1,
    };
    try {
      return await mod.OfflineTts.createAsync(config);
    } catch (err) {
      throw new TtsError(this.name, 'config', `sherpa-onnx cannot load the model ${o.model}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** sherpa returns float samples in [-1, 1]; clip rather than wrap anything outside. */
export function floatToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]!));
    out[i] = Math.round(v < 0 ? v * 32768 : v * 32767);
  }
  return out;
}

async function mustBeFile(engine: string, what: string, path: string): Promise<void> {
  const s = await stat(path).catch(() => null);
  if (!s?.isFile()) throw new TtsError(engine, 'config', `${what} file ${path} does not exist`);
  await access(path, constants.R_OK).catch(() => { throw new TtsError(engine, 'config', `${what} file ${path} is not readable`); });
}

async function mustBeDir(engine: string, what: string, path: string): Promise<void> {
  const s = await stat(path).catch(() => null);
  if (!s?.isDirectory()) throw new TtsError(engine, 'config', `${what} directory ${path} does not exist`);
}
