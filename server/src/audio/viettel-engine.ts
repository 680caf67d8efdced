// Viettel AI text-to-speech. Documented shape: POST https://viettelai.vn/tts/speech_synthesis with a JSON
// body `{text, voice, speed, tts_return_option, token, without_filter}`; it answers the audio bytes
// (tts_return_option 2 = WAV, 3 = MP3). Errors come back as JSON instead of audio.

import { CloudTtsEngine, voiceTable, type CloudEngineOptions, type ProviderCall } from './cloud-engine.js';
import { assertOk, httpCall, parseJson, snippet } from './http-call.js';
import { TtsError } from './tts-errors.js';

export interface ViettelEngineOptions extends CloudEngineOptions {
  token: string;
  /** Our voice → Viettel voice id. Default: vi → hn-quynhanh, central → hue-maingoc, south → hcm-diemmy. */
  voices?: Partial<Record<string, string>>;
  /** Default 'mp3' (smaller download; it is re-encoded anyway). */
  format?: 'wav' | 'mp3';
  /** Viettel's own text normalization is skipped when true. Default false. */
  withoutFilter?: boolean;
}

export const VIETTEL_TTS_URL = 'https://viettelai.vn/tts/speech_synthesis';
// Viettel publishes no hard limit for this endpoint; 2000 keeps requests the size Zalo accepts.
export const VIETTEL_MAX_CHARS = 2000;

const DEFAULT_VOICES: Record<string, string> = { vi: 'hn-quynhanh', 'vi-vn-x-central': 'hue-maingoc', 'vi-vn-x-south': 'hcm-diemmy' };
const RETURN_OPTION = { wav: 2, mp3: 3 } as const;

export class ViettelTtsEngine extends CloudTtsEngine<string> {
  readonly #token: string;
  readonly #returnOption: number;
  readonly #withoutFilter: boolean;

  constructor(opts: ViettelEngineOptions) {
    const format = opts.format ?? 'mp3';
    super(
      // Speed 0.7–1.3 is the range Viettel's console offers.
      { name: 'viettel-ai', defaultUrl: VIETTEL_TTS_URL, maxChars: VIETTEL_MAX_CHARS, speedRange: [0.7, 1.3], voices: voiceTable(DEFAULT_VOICES, opts.voices), audioFormat: format },
      opts,
      { label: 'Viettel AI token', value: opts.token },
    );
    this.#token = opts.token;
    this.#returnOption = RETURN_OPTION[format];
    this.#withoutFilter = opts.withoutFilter ?? false;
  }

  protected async request(call: ProviderCall<string>): Promise<Buffer> {
    const body = JSON.stringify({
      text: call.text,
      voice: call.voice,
      speed: call.speed,
      tts_return_option: this.#returnOption,
      token: this.#token,
      without_filter: this.#withoutFilter,
    });
    const answer = await httpCall(
      { method: 'POST', url: call.url, headers: { 'content-type': 'application/json' }, body },
      { engine: this.name, timeoutMs: call.timeoutMs, signal: call.signal },
    );
    assertOk(answer, this.name, 'synthesis request');
    // A 200 with JSON is an error report (bad token, unknown voice), not audio.
    if (/json|text\//i.test(answer.contentType)) {
      const json = parseJson(answer, this.name, 'synthesis request') as Record<string, unknown>;
      const message = json.en_message ?? json.vi_message ?? json.message ?? snippet(answer.body);
      throw new TtsError(this.name, 'provider', `code ${String(json.code ?? json.status ?? '?')}: ${String(message)}`);
    }
    return answer.body;
  }
}
