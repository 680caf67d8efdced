// FPT.AI text-to-speech v5. Documented shape: POST https://api.fpt.ai/hmi/tts/v5 with the raw UTF-8 text
// as the body and headers `api-key`, `voice`, `speed`; it answers `{async: <audio URL>, error, request_id}`.
// The audio is rendered in the background and appears at that URL after a few seconds (until then the URL
// answers 404), so we poll it with backoff, bounded by pollTimeoutMs.

import { setTimeout as sleep } from 'node:timers/promises';
import { CloudTtsEngine, voiceTable, type CloudEngineOptions, type ProviderCall } from './cloud-engine.js';
import { assertOk, httpCall, parseJson } from './http-call.js';
import { TtsError, TtsTimeoutError } from './tts-errors.js';

export interface FptEngineOptions extends CloudEngineOptions {
  apiKey: string;
  /** Our voice → FPT voice. Default: vi → banmai, vi-vn-x-central → myan, vi-vn-x-south → lannhi. */
  voices?: Partial<Record<string, string>>;
  /** Total wait for the audio to appear at the async URL. Default 60 s. */
  pollTimeoutMs?: number;
  /** First wait before polling; it grows ×1.5 per miss up to maxPollIntervalMs. Default 500 ms. */
  pollIntervalMs?: number;
  /** Default 4 s. */
  maxPollIntervalMs?: number;
}

export const FPT_TTS_URL = 'https://api.fpt.ai/hmi/tts/v5';
export const FPT_MAX_CHARS = 5000;

const DEFAULT_VOICES: Record<string, string> = { vi: 'banmai', 'vi-vn-x-central': 'myan', 'vi-vn-x-south': 'lannhi' };
// FPT's speed header is an integer from -3 (slowest) to +3 (fastest), 0 normal. It documents no multiplier
// per step; we take one step as 0.1×, so the accepted range is 0.7–1.3.
const SPEED_STEP = 0.1;
const MAX_SPEED_STEPS = 3;
// 404 while rendering; some storage fronts answer 403 for a key that does not exist yet.
const NOT_READY = new Set([403, 404]);

interface FptAnswer {
  async?: unknown;
  error?: unknown;
  message?: unknown;
  request_id?: unknown;
}

export class FptTtsEngine extends CloudTtsEngine<string> {
  readonly #apiKey: string;
  readonly #pollTimeoutMs: number;
  readonly #pollIntervalMs: number;
  readonly #maxPollIntervalMs: number;

  constructor(opts: FptEngineOptions) {
    const range = [1 - MAX_SPEED_STEPS * SPEED_STEP, 1 + MAX_SPEED_STEPS * SPEED_STEP] as const;
    super(
      { name: 'fpt-ai', defaultUrl: FPT_TTS_URL, maxChars: FPT_MAX_CHARS, speedRange: range, voices: voiceTable(DEFAULT_VOICES, opts.voices), audioFormat: 'mp3' },
      opts,
      { label: 'FPT.AI apiKey', value: opts.apiKey },
    );
    this.#apiKey = opts.apiKey;
    this.#pollTimeoutMs = opts.pollTimeoutMs ?? 60_000;
    this.#pollIntervalMs = opts.pollIntervalMs ?? 500;
    this.#maxPollIntervalMs = opts.maxPollIntervalMs ?? 4_000;
  }

  protected async request(call: ProviderCall<string>): Promise<Buffer> {
    const http = { engine: this.name, timeoutMs: call.timeoutMs, signal: call.signal };
    const headers = {
      'api-key': this.#apiKey,
      voice: call.voice,
      speed: String(Math.round((call.speed - 1) / SPEED_STEP)),
      'content-type': 'text/plain; charset=utf-8',
    };
    const answer = await httpCall({ method: 'POST', url: call.url, headers, body: Buffer.from(call.text, 'utf8') }, http);
    assertOk(answer, this.name, 'synthesis request');
    const json = parseJson(answer, this.name, 'synthesis request') as FptAnswer;
    if (json.error !== 0) {
      throw new TtsError(this.name, 'provider', `error ${String(json.error)}: ${String(json.message ?? 'no message')}`);
    }
    if (typeof json.async !== 'string' || !/^https?:\/\//.test(json.async)) {
      throw new TtsError(this.name, 'provider', 'answer has no audio URL in "async"');
    }
    return this.#poll(json.async, String(json.request_id ?? '?'), http);
  }

  /** Polls the async URL until the audio is there, waiting longer after each miss, within pollTimeoutMs. */
  async #poll(url: string, requestId: string, http: { engine: string; timeoutMs: number; signal: AbortSignal | undefined }): Promise<Buffer> {
    const deadline = Date.now() + this.#pollTimeoutMs;
    let wait = this.#pollIntervalMs;
    for (let attempt = 1; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(wait, left), undefined, { signal: http.signal });
      const res = await httpCall({ method: 'GET', url }, { ...http, timeoutMs: Math.min(http.timeoutMs, Math.max(1, deadline - Date.now())) }).catch((err: unknown) => {
        // A poll cut short by the overall deadline is the deadline's failure, reported below.
        if (err instanceof TtsTimeoutError && Date.now() >= deadline) return null;
        throw err;
      });
      if (!res) break;
      if (NOT_READY.has(res.status) || (res.status === 200 && res.body.length === 0)) {
        wait = Math.min(this.#maxPollIntervalMs, wait * 1.5);
        continue;
      }
      assertOk(res, this.name, `audio download (attempt ${attempt})`);
      return res.body;
    }
    throw new TtsTimeoutError(this.name, `audio for request ${requestId} did not appear within ${this.#pollTimeoutMs} ms`);
  }
}
