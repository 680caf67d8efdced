// Intro and outro chimes: the signal villagers know means "an announcement follows" / "it is over".
// An installation may supply its own (any file ffmpeg reads: WAV, MP3, Ogg, FLAC…); otherwise a default
// bell is made with ffmpeg's sine sources. Chimes are joined to the speech before loudness processing, so
// the −16 LUFS / −1 dBTP target holds for the whole file the speakers play; each chime is first set to a
// level relative to the speech so it neither startles nor disappears.
//
// A second built-in source, 'attention', is not a bell but an alert tone for disaster warnings (issue 18: "an
// attention signal before the speech"): it tells a listener that what follows is not the commune's daily news.

import { stat } from 'node:fs/promises';
import { runFfmpeg } from './ffmpeg.js';
import { ebur128Filter, parseEbur128Summary } from './loudness.js';

/** 'default' for the built-in bell, 'attention' for the built-in alert tone, or the path of an audio file. */
export type ChimeSource = 'default' | 'attention' | (string & {});

export interface ChimeOptions {
  /** Played before the speech. */
  intro?: ChimeSource;
  /** Played after the speech. */
  outro?: ChimeSource;
  /** Silence between a chime and the speech. Default 400 ms. */
  gapMs?: number;
  /** Chime loudness relative to the speech, LU. Default −2: a bell at equal loudness sounds louder. */
  levelLu?: number;
}

export interface Chime {
  samples: Int16Array;
  sampleRate: number;
  /** Integrated loudness as decoded, LUFS. */
  lufs: number;
}

export const DEFAULT_CHIME_GAP_MS = 400;
export const DEFAULT_CHIME_LEVEL_LU = -2;
/** A chime file longer than this is cut: it is a signal, not a programme. */
const MAX_CHIME_SECONDS = 20;
const CHIME_TIMEOUT_MS = 60_000;

// Three struck notes a third apart (C5 E5 G5), rising for the intro and falling for the outro. Each note is
// a fundamental plus a quieter, faster-decaying octave partial, which is what makes a sine sound like a bell
// rather than a test tone: a 6 ms fade in avoids a click, an exponential fade (afade's exp curve falls
// ~100 dB over its duration, so 4 s ≈ 25 dB/s) rings, and a short linear fade ends each note cleanly.
const NOTES_HZ = [523.25, 659.25, 783.99];
const NOTE_SPACING_S = 0.42;
const NOTE_S = 1.6;
const PARTIALS = [
  { ratio: 1, gain: 1, decayS: 4 },
  { ratio: 2, gain: 0.35, decayS: 1.5 },
];

/** ffmpeg arguments that synthesize the default chime as mono s16le at `sampleRate`, measuring it too. */
export function defaultChimeArgs(kind: 'intro' | 'outro', sampleRate: number): string[] {
  const notes = kind === 'intro' ? NOTES_HZ : [...NOTES_HZ].reverse();
  const totalS = NOTE_SPACING_S * (notes.length - 1) + NOTE_S;
  const inputs: string[] = [];
  const chains: string[] = [];
  notes.forEach((hz, n) => {
    for (const p of PARTIALS) {
      const i = inputs.length / 4;
      inputs.push('-f', 'lavfi', '-i', `sine=frequency=${(hz * p.ratio).toFixed(2)}:sample_rate=${sampleRate}:duration=${NOTE_S}`);
      chains.push(
        `[${i}:a]volume=${p.gain},afade=t=in:d=0.006,afade=t=out:st=0.006:d=${p.decayS}:curve=exp,afade=t=out:st=${NOTE_S - 0.25}:d=0.25,` +
          `adelay=${Math.round(n * NOTE_SPACING_S * 1000)},apad=whole_len=${Math.round(totalS * sampleRate)}[p${i}]`,
      );
    }
  });
  const count = inputs.length / 4;
  // amix divides every input by the input count; volume restores most of it (16-bit output keeps its detail).
  const mix = `${Array.from({ length: count }, (_, i) => `[p${i}]`).join('')}amix=inputs=${count}:duration=longest:dropout_transition=0,volume=${count},${ebur128Filter(false)}[out]`;
  return [...inputs, '-filter_complex', [...chains, mix].join(';'), '-map', '[out]', '-t', String(totalS), ...rawOut(sampleRate)];
}

// The attention signal: three bursts of two sines sounding together, 853 Hz and 960 Hz. That pair is the
// attention signal of broadcast emergency alerting (the US EAS, 47 CFR §11.32(a)(9)(ii), and its EBS
// predecessor): a harsh, beating interval (the two tones are ~2 semitones apart) that no music or bell uses, so
// it is heard as "warning" and never mistaken for the commune bell. The EAS signal is one continuous 8–25 s
// tone meant for receivers; a loudspeaker in a village needs only to turn heads, so it is cut into three
// 0.8 s bursts with 0.3 s pauses (≈3 s): an interrupted tone is more noticeable than a steady one at the same
// level, and three bursts are over before the listener tires of them. Each burst fades in and out in 15 ms so
// that it starts and stops without clicks.
export const ATTENTION_TONES_HZ = [853, 960] as const;
export const ATTENTION_BURSTS = 3;
export const ATTENTION_BURST_S = 0.8;
export const ATTENTION_PAUSE_S = 0.3;
const ATTENTION_FADE_S = 0.015;

/** ffmpeg arguments that synthesize the attention signal as mono s16le at `sampleRate`, measuring it too. */
export function attentionSignalArgs(sampleRate: number): string[] {
  const period = ATTENTION_BURST_S + ATTENTION_PAUSE_S;
  const totalS = period * (ATTENTION_BURSTS - 1) + ATTENTION_BURST_S;
  const inputs: string[] = [];
  const chains: string[] = [];
  for (let b = 0; b < ATTENTION_BURSTS; b++) {
    for (const hz of ATTENTION_TONES_HZ) {
      const i = inputs.length / 4;
      inputs.push('-f', 'lavfi', '-i', `sine=frequency=${hz}:sample_rate=${sampleRate}:duration=${ATTENTION_BURST_S}`);
      chains.push(
        `[${i}:a]afade=t=in:d=${ATTENTION_FADE_S},afade=t=out:st=${(ATTENTION_BURST_S - ATTENTION_FADE_S).toFixed(3)}:d=${ATTENTION_FADE_S},` +
          `adelay=${Math.round(b * period * 1000)},apad=whole_len=${Math.round(totalS * sampleRate)}[p${i}]`,
      );
    }
  }
  const count = inputs.length / 4;
  // amix divides every input by the input count and volume restores it, as for the bell. ffmpeg's sine source
  // is at 1/8 of full scale and only one burst's two tones sound at once: the peak is 1/4, far from clipping,
  // and withChimes sets the level relative to the speech anyway.
  const mix = `${Array.from({ length: count }, (_, i) => `[p${i}]`).join('')}amix=inputs=${count}:duration=longest:dropout_transition=0,volume=${count},${ebur128Filter(false)}[out]`;
  return [...inputs, '-filter_complex', [...chains, mix].join(';'), '-map', '[out]', '-t', totalS.toFixed(3), ...rawOut(sampleRate)];
}

const defaultChimes = new Map<string, Promise<Chime>>();

/**
 * Loads a chime as mono 16-bit PCM at the speech's rate. The built-in ones ('default', 'attention') are made
 * once per process and rate; the attention signal is the same before and after.
 */
export function loadChime(source: ChimeSource, kind: 'intro' | 'outro', sampleRate: number, signal?: AbortSignal): Promise<Chime> {
  if (source === 'default' || source === 'attention') {
    const key = source === 'attention' ? `attention@${sampleRate}` : `${kind}@${sampleRate}`;
    let chime = defaultChimes.get(key);
    if (!chime) {
      chime = decodeChime(source === 'attention' ? attentionSignalArgs(sampleRate) : defaultChimeArgs(kind, sampleRate), sampleRate, undefined);
      defaultChimes.set(key, chime);
      chime.catch(() => defaultChimes.delete(key));
    }
    return chime;
  }
  return loadChimeFile(source, sampleRate, signal);
}

async function loadChimeFile(path: string, sampleRate: number, signal?: AbortSignal): Promise<Chime> {
  const s = await stat(path).catch(() => null);
  if (!s?.isFile()) throw new Error(`chime file not found: ${path}`);
  try {
    // "file:" keeps a path that looks like a URL or an option ("-x.wav", "http:…") a plain local file.
    return await decodeChime(['-i', `file:${path}`, '-t', String(MAX_CHIME_SECONDS), '-af', ebur128Filter(false), ...rawOut(sampleRate)], sampleRate, signal);
  } catch (err) {
    throw new Error(`chime file ${path} cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
}

async function decodeChime(args: string[], sampleRate: number, signal: AbortSignal | undefined): Promise<Chime> {
  const { stdout, stderr } = await runFfmpeg(['-hide_banner', '-nostats', ...args], { signal, timeoutMs: CHIME_TIMEOUT_MS });
  const samples = new Int16Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.length - (stdout.length % 2)));
  if (samples.length === 0) throw new Error('no audio');
  const { lufs } = parseEbur128Summary(stderr);
  if (!Number.isFinite(lufs) || lufs < -70) throw new Error('the chime is silent');
  return { samples, sampleRate, lufs };
}

function rawOut(sampleRate: number): string[] {
  return ['-ac', '1', '-ar', String(sampleRate), '-f', 's16le', 'pipe:1'];
}

/**
 * Speech with its chimes: [intro][gap][speech][gap][outro]. Each chime is scaled to `levelLu` relative to
 * the speech's loudness (and never past full scale; the limiter downstream handles the rest).
 */
export function withChimes(speech: Int16Array, speechLufs: number, chimes: { intro?: Chime; outro?: Chime }, sampleRate: number, opts: ChimeOptions): Int16Array {
  const gap = new Int16Array(Math.round(((opts.gapMs ?? DEFAULT_CHIME_GAP_MS) * sampleRate) / 1000));
  const level = opts.levelLu ?? DEFAULT_CHIME_LEVEL_LU;
  const parts: Int16Array[] = [];
  if (chimes.intro) parts.push(scaled(chimes.intro, speechLufs + level), gap);
  parts.push(speech);
  if (chimes.outro) parts.push(gap, scaled(chimes.outro, speechLufs + level));
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function scaled(chime: Chime, lufs: number): Int16Array {
  let peak = 1;
  for (const v of chime.samples) peak = Math.max(peak, Math.abs(v));
  const gain = Math.min(10 ** ((lufs - chime.lufs) / 20), 32767 / peak);
  return Int16Array.from(chime.samples, (v) => Math.round(v * gain));
}
