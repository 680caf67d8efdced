/**
 * Speech, wired for app.ts: the TTS engines, the cache of rendered sentences, and the bulletin service that
 * renders bulletins into media files.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { PcmChunkCache } from '../audio/index.js';
import { buildTtsEngine, type ClosableEngine } from '../tts-engines.js';
import { SpeechService } from '../services/speech.js';
import { renderRecording } from '../services/recording.js';
import { BulletinService, type SpeechRenderer } from '../services/bulletin-service.js';
import type { Storage } from './storage.js';

export interface Speech {
  /** Closed last at shutdown (its worker threads). */
  engine: ClosableEngine;
  speech: SpeechService;
  /** The renderer bulletins and previews use (the speech service's, unless a test replaces it). */
  render: SpeechRenderer;
  bulletinService: BulletinService;
}

export function wireSpeech(
  config: Config,
  deps: { logger: Logger; dataDir: string; storage: Pick<Storage, 'dictionary' | 'bulletins' | 'media' | 'areas'>; render: SpeechRenderer | undefined },
): Speech {
  const { logger, dataDir } = deps;
  const engine = buildTtsEngine(config, logger);
  // Sentences already rendered (same engine, voice, speed, words) are reused: editing one sentence of a
  // bulletin re-synthesizes only that sentence.
  const chunkCache = new PcmChunkCache({ dir: join(dataDir, 'tts-chunks'), onError: (err) => logger.warn({ err }, 'TTS chunk cache error') });
  const chime = config.tts.chimeIntro || config.tts.chimeOutro
    ? { ...(config.tts.chimeIntro ? { intro: config.tts.chimeIntro } : {}), ...(config.tts.chimeOutro ? { outro: config.tts.chimeOutro } : {}) }
    : undefined;
  const speech = new SpeechService({ engine, chunkCache, dictionary: deps.storage.dictionary, areas: deps.storage.areas, chime });
  const render: SpeechRenderer = deps.render ?? speech.render;
  const bulletinService = new BulletinService({ bulletins: deps.storage.bulletins, media: deps.storage.media, render, renderRecording, logger });
  return { engine, speech, render, bulletinService };
}
