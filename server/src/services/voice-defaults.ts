import type { EffectiveVoice } from '../repos/voice-settings.js';
import type { AppContext } from './context.js';

/**
 * The voice and speed a text of `areaCode` is read with when its author does not choose (issue 20): the most
 * local area setting, else LOAXA_TTS_VOICE at speed 1. Bulletins (routes/bulletins.ts) and previews use it.
 */
export function defaultVoiceFor(deps: Pick<AppContext, 'config' | 'areas' | 'voiceSettings'>, areaCode: string | null): EffectiveVoice {
  return deps.voiceSettings.effective(areaCode === null ? [] : deps.areas.ancestry(areaCode), { voice: deps.config.ttsVoice, speed: 1 });
}
