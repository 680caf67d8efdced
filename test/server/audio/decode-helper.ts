// Independent check of rendered audio: decodes with the installer's ffmpeg directly (not through the code
// under test) and measures with loudnorm's analyzer, a different filter than the pipeline's ebur128.
import { spawnSync } from 'node:child_process';
import ffmpeg from '@ffmpeg-installer/ffmpeg';

export interface DecodedAudio {
  durationMs: number;
  lufs: number;
  truePeakDb: number;
  samples: Int16Array;
}

export function decodeAndMeasure(file: Buffer): DecodedAudio {
  const pcm = spawnSync(ffmpeg.path, ['-hide_banner', '-v', 'error', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', '48000', 'pipe:1'], {
    input: file,
    maxBuffer: 1 << 30,
  });
  if (pcm.status !== 0) throw new Error(`decode failed: ${pcm.stderr.toString()}`);
  const meter = spawnSync(ffmpeg.path, ['-hide_banner', '-nostats', '-i', 'pipe:0', '-af', 'loudnorm=print_format=json', '-f', 'null', '-'], {
    input: file,
    maxBuffer: 1 << 30,
  });
  const stderr = meter.stderr.toString();
  const json = JSON.parse(stderr.slice(stderr.lastIndexOf('{'), stderr.lastIndexOf('}') + 1)) as { input_i: string; input_tp: string };
  const bytes: Buffer = pcm.stdout;
  const samples = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return { durationMs: (samples.length / 48000) * 1000, lufs: Number(json.input_i), truePeakDb: Number(json.input_tp), samples };
}
