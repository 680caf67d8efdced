/**
 * Text → announcer's words → audio, the way every bulletin and preview is spoken: the normalizer with the
 * operators' dictionary over the shipped one, then the configured engines through the audio pipeline.
 */
import { normalizeVietnamese, type NormalizeResult } from '@loaxa/shared';
import { renderSpeech, type ChimeOptions, type PcmChunkCache, type TtsEngine } from '../audio/index.js';
import type { DictionaryRepository } from '../repos/dictionary.js';
import type { RenderedSpeech, SpeechRenderer } from './bulletin-service.js';

export type ReadingStyle = 'north' | 'south';

/** The southern voice reads numbers the southern way unless told otherwise (vi-reading.md). */
export const styleForVoice = (voice: string): ReadingStyle => (voice === 'vi-vn-x-south' ? 'south' : 'north');

export class SpeechService {
  constructor(
    private readonly deps: { engine: TtsEngine; chunkCache: PcmChunkCache | undefined; dictionary: DictionaryRepository; chime?: ChimeOptions | undefined },
  ) {}

  normalize(text: string, style: ReadingStyle): NormalizeResult {
    return normalizeVietnamese(text, { style, dictionary: this.deps.dictionary.asRecord() });
  }

  /** Engines only ever see the normalized words: they misread digits, dates, symbols and capitals. */
  readonly render: SpeechRenderer = (req): Promise<RenderedSpeech> =>
    renderSpeech({
      engine: this.deps.engine,
      text: this.normalize(req.text, req.style ?? styleForVoice(req.voice)).text,
      voice: req.voice,
      speed: req.speed,
      onProgress: req.onProgress,
      ...(this.deps.chunkCache ? { chunkCache: this.deps.chunkCache } : {}),
      ...(this.deps.chime ? { chime: this.deps.chime } : {}),
      // The MP3 rendition is for people who download a bulletin; the boxes get Opus.
      mp3: true,
    });
}
