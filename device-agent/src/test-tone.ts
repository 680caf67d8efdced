/**
 * The test tone an installer or the province plays to check a box's audio chain end to end: a sine as a
 * 16-bit mono WAV (every player reads it; no ffmpeg needed to make it), with 20 ms fades so the speaker
 * does not click, written once per frequency and length into the state folder.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

const RATE = 22_050;
const FADE_S = 0.02;

export function sineWav(frequencyHz: number, durationMs: number, amplitude = 0.5): Buffer {
  const samples = Math.round((RATE * durationMs) / 1000);
  const data = Buffer.alloc(samples * 2);
  const fade = Math.max(1, Math.round(RATE * FADE_S));
  for (let i = 0; i < samples; i++) {
    const env = Math.min(1, i / fade, (samples - 1 - i) / fade);
    const v = Math.sin((2 * Math.PI * frequencyHz * i) / RATE) * amplitude * Math.max(0, env);
    data.writeInt16LE(Math.round(v * 32_767), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(RATE, 24);
  header.writeUInt32LE(RATE * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** The tone's file in `dir`, made when missing. */
export async function testToneFile(dir: string, frequencyHz: number, durationMs: number): Promise<string> {
  const file = join(dir, `test-tone-${frequencyHz}hz-${durationMs}ms.wav`);
  const exists = await access(file).then(() => true, () => false);
  if (!exists) await writeFileAtomic(file, sineWav(frequencyHz, durationMs));
  return file;
}
