/** Fixtures for the programme tests (issue 15): recordings made with ffmpeg, decoded audio and its levels. */
import { runFfmpeg, parseWav } from '../../server/src/audio/index.js';
import type { httpApi } from './server.js';

/** A sine tone of `seconds` at `hz` as a WAV file, uploaded as a recorded bulletin; answers its id. */
export async function uploadTone(base: string, token: string, o: { hz: number; seconds: number; title: string; tremoloHz?: number }): Promise<{ id: string; durationMs: number }> {
  // With `tremoloHz` the tone swells and fades like a played note rather than a test tone.
  const shape = o.tremoloHz ? `*(0.55+0.45*sin(2*PI*${o.tremoloHz}*t))` : '';
  const { stdout } = await runFfmpeg(['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', `aevalsrc=0.25*sin(2*PI*${o.hz}*t)${shape}:s=24000:d=${o.seconds}`, '-ac', '1', '-c:a', 'pcm_s16le', '-f', 'wav', 'pipe:1']);
  const form = new FormData();
  form.set('title', o.title);
  form.set('file', new Blob([new Uint8Array(stdout)], { type: 'audio/wav' }), 'tone.wav');
  const res = await fetch(`${base}/api/v1/bulletins/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const body = (await res.json()) as { id: string; status: string; audio?: { durationMs: number } };
  if (res.status !== 201 || !body.audio) throw new Error(`upload failed: ${res.status} ${JSON.stringify(body)}`);
  return { id: body.id, durationMs: body.audio.durationMs };
}

/** Any audio file ffmpeg reads (a path or its bytes), decoded to mono 16-bit PCM at `rate`. */
export async function decodeFile(input: string | Buffer, rate = 24_000): Promise<{ samples: Int16Array; sampleRate: number }> {
  const source = typeof input === 'string' ? ['-i', `file:${input}`] : ['-i', 'pipe:0'];
  const { stdout } = await runFfmpeg(['-hide_banner', '-v', 'error', ...source, '-ac', '1', '-ar', String(rate), '-c:a', 'pcm_s16le', '-f', 'wav', 'pipe:1'], typeof input === 'string' ? {} : { input });
  return parseWav(stdout);
}

/** The amplitude (dBFS) of the `hz` component between `fromS` and `toS`: a single-bin DFT, so other tones do not count. */
export function toneLevelDb(pcm: { samples: Int16Array; sampleRate: number }, hz: number, fromS: number, toS: number): number {
  const a = Math.round(fromS * pcm.sampleRate);
  const b = Math.min(pcm.samples.length, Math.round(toS * pcm.sampleRate));
  let re = 0;
  let im = 0;
  for (let i = a; i < b; i++) {
    const w = (2 * Math.PI * hz * i) / pcm.sampleRate;
    const v = (pcm.samples[i] as number) / 32768;
    re += v * Math.cos(w);
    im += v * Math.sin(w);
  }
  const amplitude = (2 * Math.hypot(re, im)) / Math.max(1, b - a);
  return 20 * Math.log10(Math.max(amplitude, 1e-9));
}

type Api = ReturnType<typeof httpApi>;

/** A user of `role` in `areaCode`, logged in; answers the token. */
export async function userToken(api: Api, adminToken: string, username: string, role: string, areaCode: string | null): Promise<string> {
  const made = await api('POST', '/api/v1/users', { username, password: 'a-long-password', role, areaCode }, adminToken);
  if (made.status !== 201) throw new Error(`user ${username}: ${made.status} ${JSON.stringify(made.body)}`);
  return (await api('POST', '/api/v1/auth/login', { username, password: 'a-long-password' })).body.token as string;
}

/** The RMS level (dBFS) between `fromS` and `toS`. */
export function rmsDb(pcm: { samples: Int16Array; sampleRate: number }, fromS: number, toS: number): number {
  const a = Math.round(fromS * pcm.sampleRate);
  const b = Math.min(pcm.samples.length, Math.round(toS * pcm.sampleRate));
  let sum = 0;
  for (let i = a; i < b; i++) sum += ((pcm.samples[i] as number) / 32768) ** 2;
  return 10 * Math.log10(Math.max(sum / Math.max(1, b - a), 1e-18));
}
