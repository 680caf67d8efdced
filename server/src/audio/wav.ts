// Minimal RIFF/WAVE reader for what TTS engines write: 16-bit integer PCM. Walks the chunk list instead of
// assuming a 44-byte header, because writers may add LIST/fact chunks before `data`.

import type { Pcm } from './tts-engine.js';

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/**
 * Parses a WAV file to mono PCM (multi-channel input is averaged down).
 * A `data` size of 0 or 0xFFFFFFFF (or one larger than the file) means the writer was streaming and never
 * patched the header — eSpeak does this when writing to a pipe — so the rest of the file is the data.
 */
export function parseWav(buf: Uint8Array): Pcm {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (at: number) => String.fromCharCode(buf[at]!, buf[at + 1]!, buf[at + 2]!, buf[at + 3]!);
  if (buf.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }

  let fmt: { channels: number; sampleRate: number; bitsPerSample: number; blockAlign: number } | null = null;
  let offset = 12;
  while (offset + 8 <= buf.byteLength) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.byteLength) throw new Error('WAV fmt chunk is truncated');
      const format = view.getUint16(body, true);
      if (format !== WAVE_FORMAT_PCM && format !== WAVE_FORMAT_EXTENSIBLE) {
        throw new Error(`WAV format ${format} is not integer PCM`);
      }
      fmt = {
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
      if (fmt.bitsPerSample !== 16) throw new Error(`WAV has ${fmt.bitsPerSample}-bit samples, expected 16`);
      if (fmt.channels < 1 || fmt.sampleRate < 1) throw new Error('WAV fmt chunk is invalid');
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data chunk comes before fmt chunk');
      const rest = buf.byteLength - body;
      const streaming = size === 0 || size === 0xffffffff || size > rest;
      const length = streaming ? rest : size;
      return decodeSamples(view, body, length, fmt.channels, fmt.sampleRate);
    }
    // Chunks are padded to an even size.
    offset = body + size + (size & 1);
  }
  throw new Error('WAV has no data chunk');
}

function decodeSamples(view: DataView, start: number, length: number, channels: number, sampleRate: number): Pcm {
  const frameBytes = 2 * channels;
  const frames = Math.floor(length / frameBytes);
  const samples = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    const at = start + i * frameBytes;
    if (channels === 1) {
      samples[i] = view.getInt16(at, true);
    } else {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += view.getInt16(at + 2 * c, true);
      samples[i] = Math.round(sum / channels);
    }
  }
  return { samples, sampleRate };
}
