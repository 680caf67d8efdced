// Zalo AI text-to-speech. Documented shape: POST https://api.zalo.ai/v1/tts/synthesize with
// form-urlencoded fields `input` (≤ 2000 characters), `speaker_id` (1–6), `speed` (0.8–1.2) and
// `encode_type` (0 = WAV, 1 = MP3), API key in the `apikey` header. It answers JSON
// `{error_code, error_message, data: {url}}`; the audio is then downloaded from data.url.

import { CloudTtsEngine, voiceTable, type CloudEngineOptions, type ProviderCall } from './cloud-engine.js';
import { assertOk, httpCall, parseJson } from './http-call.js';
import { TtsError } from './tts-errors.js';

export interface ZaloEngineOptions extends CloudEngineOptions {
  apiKey: string;
  /** Our voice → speaker_id. Default: vi → 2 (Northern female), vi-vn-x-south → 1 (Southern female). */
  voices?: Partial<Record<string, number>>;
  /** Default 'mp3': a fifth of the WAV download on a commune's uplink, and it is re-encoded anyway. */
  format?: 'wav' | 'mp3';
}

export const ZALO_TTS_URL = 'https://api.zalo.ai/v1/tts/synthesize';
export const ZALO_MAX_CHARS = 2000;

// Zalo offers Northern and Southern speakers only; a Central request is left to the next engine
// (add `'vi-vn-x-central': n` to voices to accept it anyway).
const DEFAULT_VOICES: Record<string, number> = { vi: 2, 'vi-vn-x-south': 1 };

interface ZaloAnswer {
  error_code?: unknown;
  error_message?: unknown;
  data?: { url?: unknown } | null;
}

export class ZaloTtsEngine extends CloudTtsEngine<number> {
  readonly #apiKey: string;
  readonly #encodeType: '0' | '1';

  constructor(opts: ZaloEngineOptions) {
    const voices = voiceTable(DEFAULT_VOICES, opts.voices);
    for (const [voice, id] of Object.entries(voices)) {
      if (!Number.isInteger(id) || id < 1 || id > 6) throw new TtsError('zalo-ai', 'config', `speaker_id for "${voice}" must be 1–6, got ${id}`);
    }
    const format = opts.format ?? 'mp3';
    super(
      { name: 'zalo-ai', defaultUrl: ZALO_TTS_URL, maxChars: ZALO_MAX_CHARS, speedRange: [0.8, 1.2], voices, audioFormat: format },
      opts,
      { label: 'Zalo AI apiKey', value: opts.apiKey },
    );
    this.#apiKey = opts.apiKey;
    this.#encodeType = format === 'wav' ? '0' : '1';
  }

  protected async request(call: ProviderCall<number>): Promise<Buffer> {
    const http = { engine: this.name, timeoutMs: call.timeoutMs, signal: call.signal };
    const form = new URLSearchParams({
      input: call.text,
      speaker_id: String(call.voice),
      speed: String(call.speed),
      encode_type: this.#encodeType,
    });
    const answer = await httpCall({ method: 'POST', url: call.url, headers: { apikey: this.#apiKey }, body: form }, http);
    assertOk(answer, this.name, 'synthesis request');
    const json = parseJson(answer, this.name, 'synthesis request') as ZaloAnswer;
    if (json.error_code !== 0) {
      throw new TtsError(this.name, 'provider', `error_code ${String(json.error_code)}: ${String(json.error_message ?? 'no message')}`);
    }
    const audioUrl = json.data?.url;
    if (typeof audioUrl !== 'string' || !/^https?:\/\//.test(audioUrl)) {
      throw new TtsError(this.name, 'provider', 'answer has no audio URL in data.url');
    }
    const audio = await httpCall({ method: 'GET', url: audioUrl }, http);
    assertOk(audio, this.name, 'audio download');
    return audio.body;
  }
}
