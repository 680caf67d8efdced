/**
 * Builds the server's TTS engine from the configuration: the configured engines in order of preference,
 * each falling back to the next when it fails or is slow, with the embedded eSpeak NG (in worker threads,
 * so synthesis never stalls MQTT or HTTP) as the last resort.
 */
import type { Logger } from 'pino';
import type { Config, TtsEngineName } from './config.js';
import {
  EspeakWorkerEngine,
  FallbackEngine,
  FptTtsEngine,
  SherpaOnnxEngine,
  ViettelTtsEngine,
  ZaloTtsEngine,
  type TtsEngine,
} from './audio/index.js';

export interface ClosableEngine extends TtsEngine {
  close(): Promise<void>;
}

function build(name: TtsEngineName, config: Config, espeak: EspeakWorkerEngine): TtsEngine {
  const t = config.tts;
  switch (name) {
    case 'espeak':
      return espeak;
    case 'zalo':
      return new ZaloTtsEngine({ apiKey: t.zalo.apiKey!, ...(t.zalo.url ? { url: t.zalo.url } : {}) });
    case 'viettel':
      return new ViettelTtsEngine({ token: t.viettel.token!, ...(t.viettel.url ? { url: t.viettel.url } : {}) });
    case 'fpt':
      return new FptTtsEngine({ apiKey: t.fpt.apiKey!, ...(t.fpt.url ? { url: t.fpt.url } : {}) });
    case 'piper':
      return new SherpaOnnxEngine({ model: t.piper.model!, tokens: t.piper.tokens!, ...(t.piper.dataDir ? { dataDir: t.piper.dataDir } : {}) });
  }
}

export function buildTtsEngine(config: Config, logger: Logger): ClosableEngine {
  const espeak = new EspeakWorkerEngine(config.tts.workers ? { poolSize: config.tts.workers } : {});
  const names = config.tts.engines.includes('espeak') ? config.tts.engines : [...config.tts.engines, 'espeak' as const];
  if (names.length === 1) return espeak;
  const log = logger.child({ module: 'tts' });
  return new FallbackEngine(
    names.map((n) => ({ engine: build(n, config, espeak), timeoutMs: config.tts.engineTimeoutMs })),
    { onFallback: (e) => log.warn({ failed: e.failed, next: e.next, err: e.error.message }, 'TTS engine failed; using the next one') },
  );
}
