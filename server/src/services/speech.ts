/**
 * Text → announcer's words → audio, the way every bulletin and preview is spoken: the normalizer with the
 * operators' dictionary over the shipped one, then the configured engines through the audio pipeline.
 */
import { normalizeVietnamese, type NormalizeResult } from '@loaxa/shared';
import { renderSpeech, type ChimeOptions, type PcmChunkCache, type TtsEngine } from '../audio/index.js';
import type { AreaRepository } from '../repos/areas.js';
import type { DictionaryRepository } from '../repos/dictionary.js';
import type { RenderedSpeech, SpeechRenderer } from './bulletin-service.js';

export type ReadingStyle = 'north' | 'south';

/** The southern voice reads numbers the southern way unless told otherwise (vi-reading.md). */
export const styleForVoice = (voice: string): ReadingStyle => (voice === 'vi-vn-x-south' ? 'south' : 'north');

export class SpeechService {
  constructor(
    private readonly deps: {
      engine: TtsEngine;
      chunkCache: PcmChunkCache | undefined;
      dictionary: DictionaryRepository;
      /** The imported provinces and communes, read as places when a bulletin runs a name together (issue 19). */
      areas?: Pick<AreaRepository, 'placeNames'> | undefined;
      chime?: ChimeOptions | undefined;
    },
  ) {}

  /**
   * The words for a text of `areaCode` (a bulletin's area, a previewing user's; null: installation-wide):
   * dictionary entries apply only in their own area's subtree, the most local one winning.
   */
  normalize(text: string, style: ReadingStyle, areaCode: string | null): NormalizeResult {
    // placeNames() answers the same array until an import changes the areas: the normalizer builds its
    // table of places once per array.
    const places = this.deps.areas?.placeNames();
    return normalizeVietnamese(text, { style, dictionary: this.deps.dictionary.readingsFor(areaCode), ...(places ? { places } : {}) });
  }

  /** Engines only ever see the normalized words: they misread digits, dates, symbols and capitals. */
  readonly render: SpeechRenderer = (req): Promise<RenderedSpeech> =>
    renderSpeech({
      engine: this.deps.engine,
      // The sentence cache is keyed by these words, so one area's reading never reuses another's audio.
      text: this.normalize(req.text, req.style ?? styleForVoice(req.voice), req.areaCode ?? null).text,
      voice: req.voice,
      speed: req.speed,
      onProgress: req.onProgress,
      ...(this.deps.chunkCache ? { chunkCache: this.deps.chunkCache } : {}),
      ...(req.attention
        // Issue 18: a disaster warning opens with the attention signal instead of the configured intro (the
        // bell means "the commune's news"; this means "warning"). The configured outro and gap stay. Joined
        // before mastering (pipeline.ts), so −16 LUFS / −1 dBTP holds for the signal and the speech together.
        ? { chime: { ...this.deps.chime, intro: 'attention' as const } }
        : this.deps.chime ? { chime: this.deps.chime } : {}),
      // The MP3 rendition is for people who download a bulletin; the boxes get Opus.
      mp3: true,
    });
}
