// What the Zalo AI, Viettel AI and FPT.AI adapters share: option defaults, the voice table, the provider's
// speed range, splitting long texts under the provider's request limit, a cap on requests in flight, and
// decoding the returned MP3/WAV with ffmpeg. Each adapter only writes its request and reads its answer.

import { Limiter } from './concurrency.js';
import { decodeAudio, synthesizeLongText } from './pcm-tools.js';
import { TtsError } from './tts-errors.js';
import type { Pcm, SynthesisRequest, TtsEngine } from './tts-engine.js';

export interface CloudEngineOptions {
  /** Endpoint; defaults to the provider's documented URL. Tests point it at a local stand-in. */
  url?: string;
  /** Per HTTP request, up to the last body byte. Default 20 s. */
  timeoutMs?: number;
  /** Requests in flight to this provider across all callers. Default 4. */
  concurrency?: number;
  /** Characters per request; defaults to the provider's documented limit. Longer texts are split. */
  maxChars?: number;
}

export interface ProviderSpec<V> {
  name: string;
  defaultUrl: string;
  maxChars: number;
  /** Inclusive speed range the provider documents, as a multiplier. */
  speedRange: readonly [number, number];
  /** Our voice names (eSpeak's: vi, vi-vn-x-central, vi-vn-x-south) → the provider's voice. */
  voices: Readonly<Record<string, V>>;
  /** Mentioned in cacheKey so a changed voice table or format never reuses old audio. */
  audioFormat: string;
}

export interface ProviderCall<V> {
  text: string;
  voice: V;
  speed: number;
  url: string;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_CONCURRENCY = 4;

export abstract class CloudTtsEngine<V> implements TtsEngine {
  readonly name: string;
  readonly cacheKey: string;
  readonly concurrency: number;
  protected readonly url: string;
  protected readonly timeoutMs: number;
  readonly #spec: ProviderSpec<V>;
  readonly #maxChars: number;
  readonly #limiter: Limiter;

  constructor(spec: ProviderSpec<V>, opts: CloudEngineOptions, secret: { label: string; value: string | undefined }) {
    // Fail at configuration time, not at the first bulletin: an empty key would only show up as a 401 later.
    if (!secret.value) throw new TtsError(spec.name, 'config', `${secret.label} is required`);
    this.#spec = spec;
    this.name = spec.name;
    this.url = opts.url ?? spec.defaultUrl;
    new URL(this.url); // throws on a malformed URL now rather than per request
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    this.#limiter = new Limiter(this.concurrency);
    this.#maxChars = Math.min(opts.maxChars ?? spec.maxChars, spec.maxChars);
    this.cacheKey = `${spec.name}:${spec.audioFormat}:${JSON.stringify(spec.voices)}`;
  }

  async synthesize(req: SynthesisRequest): Promise<Pcm> {
    const { name } = this;
    const text = req.text.trim();
    if (text === '') throw new TtsError(name, 'unsupported', 'text to synthesize is empty');
    const [lo, hi] = this.#spec.speedRange;
    // Refused, not clamped (as everywhere in this project): a FallbackEngine then hands the chunk to an
    // engine that can read at the requested speed.
    if (!Number.isFinite(req.speed) || req.speed < lo || req.speed > hi) {
      throw new TtsError(name, 'unsupported', `speed ${req.speed} is outside the provider's range ${lo}–${hi}`);
    }
    const voice = Object.hasOwn(this.#spec.voices, req.voice) ? this.#spec.voices[req.voice] : undefined;
    if (voice === undefined) {
      throw new TtsError(name, 'unsupported', `no voice configured for "${req.voice}" (configured: ${Object.keys(this.#spec.voices).join(', ')})`);
    }
    return synthesizeLongText(text, { engine: name, maxChars: this.#maxChars, concurrency: this.concurrency }, async (piece) => {
      const audio = await this.#limiter.run(() =>
        this.request({ text: piece, voice, speed: req.speed, url: this.url, timeoutMs: this.timeoutMs, signal: req.signal }),
      );
      return decodeAudio(audio, name, req.signal);
    });
  }

  /** One request for a text under the provider's limit; resolves to the audio file's bytes. */
  protected abstract request(call: ProviderCall<V>): Promise<Buffer>;
}

/** Merges an operator's voice table over the defaults; `undefined` entries remove a default. */
export function voiceTable<V>(defaults: Record<string, V>, overrides: Partial<Record<string, V>> | undefined): Record<string, V> {
  const out: Record<string, V> = { ...defaults };
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}
