// Public API of the audio component: TTS engines, the speech pipeline and the media store.
export type { Pcm, SynthesisRequest, TtsEngine, VietnameseVoice } from './tts-engine.js';
export { VIETNAMESE_VOICES, DEFAULT_VOICE, MIN_SPEED, MAX_SPEED, isVietnameseVoice, speedToWpm } from './tts-engine.js';
export { EspeakEngine } from './espeak-engine.js';
export { parseWav } from './wav.js';
export { ffmpegPath, runFfmpeg, FfmpegError } from './ffmpeg.js';
export type { RunFfmpegOptions, FfmpegResult } from './ffmpeg.js';
export { splitIntoChunks } from './text-chunks.js';
export type { TextChunk } from './text-chunks.js';
export { TARGET_LUFS, LUFS_TOLERANCE, MAX_TRUE_PEAK_DB } from './loudness.js';
export { renderSpeech } from './pipeline.js';
export type { RenderSpeechRequest, RenderedSpeech, RenderProgress, RenderStage } from './pipeline.js';
export { MediaStore, isSha256, MEDIA_EXTENSIONS } from './media-store.js';
export type { MediaExt, MediaStat, StoredMedia } from './media-store.js';
