/**
 * The microphone, for live voice and for recording in the app (issue 16): opened on the user's press (phones
 * allow it only then), refused in words the operator can act on.
 */
import { t } from '../i18n/vi.js';
import { micProblem } from '../logic/live.js';

/** Thrown when the microphone cannot be opened; `message` is the Vietnamese sentence to show. */
export class MicrophoneError extends Error {}

function environment() {
  return {
    secure: window.isSecureContext,
    hasMediaDevices: typeof navigator.mediaDevices?.getUserMedia === 'function',
    hasRecorder: typeof MediaRecorder === 'function',
  };
}

/**
 * A mono voice track. Noise suppression stays on (wind and rain outdoors; the server cannot remove them
 * cheaply). Echo cancellation is off: nothing plays on the page while the microphone is open, and the
 * loudspeakers' sound two seconds later is no echo it could cancel. Gain control is off too: the server brings
 * live audio and uploads to broadcast loudness, and two gain controls in a row pump.
 */
export async function openMicrophone(): Promise<MediaStream> {
  const env = environment();
  if (!env.secure || !env.hasMediaDevices || !env.hasRecorder) throw new MicrophoneError(t.mic[micProblem(null, env)]);
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: true, autoGainControl: false } });
  } catch (err) {
    throw new MicrophoneError(t.mic[micProblem((err as { name?: string } | null)?.name ?? null, env)]);
  }
}

export function releaseMicrophone(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/**
 * Reads the level of a stream on this device, every `everyMs`: the meter while recording, and on the live
 * page until the server's own levels arrive. Answers the stop function.
 */
export function watchLevel(stream: MediaStream, onBlock: (samples: Float32Array) => void, everyMs = 100): () => void {
  let ctx: AudioContext;
  try {
    ctx = new AudioContext();
  } catch {
    return () => undefined; // no Web Audio: the meter stays still, the recording works regardless
  }
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 2048;
  ctx.createMediaStreamSource(stream).connect(analyser);
  void ctx.resume().catch(() => undefined);
  const block = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(block);
    onBlock(block);
  }, everyMs);
  return () => {
    clearInterval(timer);
    void ctx.close().catch(() => undefined);
  };
}
