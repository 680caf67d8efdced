/**
 * `npm run bench:tts` — a 1,000-word commune bulletin through the whole TTS pipeline, against a reference
 * made in the same run (issue 3):
 *
 * - ours: the text normalized as the server does (`normalizeVietnamese`, northern reading), then
 *   `renderSpeech` with the worker-thread eSpeak engine the server builds (default pool size, warm, no chunk
 *   cache): synthesis, loudness fitting, Opus encoding, decoding the final file to measure it;
 * - reference: Debian's `espeak-ng -v vi` writing a WAV of the same text, then ffmpeg encoding that WAV with
 *   the same Opus settings and no loudness processing.
 *
 * Each side runs BENCH_RUNS times (default 5), interleaved, after one warm-up; medians are reported, with
 * the load average before and after (other work on the machine slows both sides, not always equally).
 * Writes bench/results/tts.json and the results block of bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeVietnamese } from '@loaxa/shared';
import { EspeakWorkerEngine, renderSpeech, runFfmpeg, LUFS_TOLERANCE, MAX_TRUE_PEAK_DB, TARGET_LUFS, type RenderTimings } from '../server/src/audio/index.js';
import { OPUS_OUTPUT_ARGS } from '../server/src/audio/loudness-chain.js';
import { updateReadmeBlock } from './readme-block.js';

const HERE = new URL('.', import.meta.url);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const TARGET_RTF = 60;
const TARGET_RATIO = 1.3;

const log = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const round = (x: number, d = 0) => Number(x.toFixed(d));

/**
 * CPU time of this process (all threads) and of its finished children, in ms: what a run costs whatever
 * else the machine is doing, where wall time depends on getting the second core. Linux: /proc/self/stat.
 */
function cpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const ticks = (i: number) => Number(fields[i - 3]); // field numbers as in proc(5), counted after "(comm)"
  const children = ((ticks(16) + ticks(17)) * 1000) / 100; // cutime + cstime; USER_HZ is 100 on Linux
  const self = process.cpuUsage();
  return (self.user + self.system) / 1000 + children;
}

/** Debian's espeak-ng is the reference; install it when missing (the benchmark runs as root on our machines). */
function ensureEspeakNg(): string {
  const probe = () => spawnSync('espeak-ng', ['--version'], { encoding: 'utf8' });
  let v = probe();
  if (v.error) {
    log('espeak-ng not found: running `apt-get install -y espeak-ng` (Debian package, the reference engine)');
    const r = spawnSync('apt-get', ['install', '-y', 'espeak-ng'], { stdio: 'inherit' });
    if (r.status !== 0) {
      log('apt-get install failed; running `apt-get update` and trying again');
      spawnSync('apt-get', ['update'], { stdio: 'inherit' });
      spawnSync('apt-get', ['install', '-y', 'espeak-ng'], { stdio: 'inherit' });
    }
    v = probe();
    if (v.error) throw new Error('espeak-ng is still missing; install it with `apt-get install -y espeak-ng`');
  }
  return v.stdout.trim();
}

/** Independent meter (loudnorm's analyzer, not the pipeline's ebur128) on the decoded file. */
async function meter(file: Buffer): Promise<{ lufs: number; truePeakDb: number }> {
  const { stderr } = await runFfmpeg(['-hide_banner', '-nostats', '-i', 'pipe:0', '-af', 'loudnorm=print_format=json', '-f', 'null', '-'], { input: file });
  const json = JSON.parse(stderr.slice(stderr.lastIndexOf('{'), stderr.lastIndexOf('}') + 1)) as { input_i: string; input_tp: string };
  return { lufs: Number(json.input_i), truePeakDb: Number(json.input_tp) };
}

async function reference(dir: string, textFile: string): Promise<{ wallMs: number; cpuMs: number; espeakMs: number; encodeMs: number; ogg: Buffer }> {
  const wav = join(dir, 'ref.wav');
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const r = spawnSync('espeak-ng', ['-v', 'vi', '-w', wav, '-f', textFile]);
  if (r.status !== 0) throw new Error(`espeak-ng failed: ${r.stderr.toString()}`);
  const t1 = performance.now();
  const { stdout: ogg } = await runFfmpeg(['-hide_banner', '-nostats', '-v', 'error', '-i', wav, ...OPUS_OUTPUT_ARGS, 'pipe:1']);
  const t2 = performance.now();
  return { wallMs: t2 - t0, cpuMs: cpuMs() - cpu0, espeakMs: t1 - t0, encodeMs: t2 - t1, ogg };
}

async function main(): Promise<void> {
  const espeakVersion = ensureEspeakNg();
  const loadBefore = loadavg()[0]!;
  const source = await readFile(new URL('bulletin-vi.txt', HERE), 'utf8');
  const reading = normalizeVietnamese(source, { style: 'north' });
  const text = reading.text;
  const dir = await mkdtemp(join(tmpdir(), 'loaxa-bench-'));
  const textFile = join(dir, 'reading.txt');
  await writeFile(textFile, text);
  log(`bulletin: ${source.split(/\s+/u).filter(Boolean).length} words written, ${text.split(/\s+/u).filter(Boolean).length} read aloud; ${RUNS} runs per side`);

  const engine = new EspeakWorkerEngine(); // the server's default pool size for this machine
  const render = (extra: { mp3?: boolean } = {}) => renderSpeech({ engine, text, voice: 'vi', speed: 1, ...extra });
  try {
    let t0 = performance.now();
    await render();
    const coldMs = performance.now() - t0;
    await reference(dir, textFile);
    log(`warm-up: ours ${Math.round(coldMs)} ms (includes starting the worker and compiling eSpeak)`);

    const ours: Array<{ wallMs: number; cpuMs: number; timings: RenderTimings }> = [];
    const refs: Array<Awaited<ReturnType<typeof reference>>> = [];
    let last: Awaited<ReturnType<typeof render>> | null = null;
    for (let i = 0; i < RUNS; i++) {
      const cpu0 = cpuMs();
      t0 = performance.now();
      last = await render();
      ours.push({ wallMs: performance.now() - t0, cpuMs: cpuMs() - cpu0, timings: last.timings });
      refs.push(await reference(dir, textFile));
      log(`run ${i + 1}: ours ${Math.round(ours[i]!.wallMs)} ms (CPU ${Math.round(ours[i]!.cpuMs)} ms) ${JSON.stringify(last.timings)}; ` +
        `reference ${Math.round(refs[i]!.wallMs)} ms (CPU ${Math.round(refs[i]!.cpuMs)} ms); load ${loadavg()[0]!.toFixed(2)}`);
    }
    t0 = performance.now();
    const withMp3 = await render({ mp3: true });
    const mp3WallMs = performance.now() - t0;

    const out = last!;
    const ourMeter = await meter(out.ogg);
    const refMeter = await meter(refs.at(-1)!.ogg);
    const audioSeconds = out.durationMs / 1000;
    const wallMs = median(ours.map((o) => o.wallMs));
    const refWallMs = median(refs.map((r) => r.wallMs));
    const cpu = median(ours.map((o) => o.cpuMs));
    const refCpu = median(refs.map((r) => r.cpuMs));
    const stages = Object.fromEntries(
      (Object.keys(out.timings) as Array<keyof RenderTimings>).map((k) => [k, median(ours.map((o) => o.timings[k]))]),
    ) as unknown as RenderTimings;
    const rtf = audioSeconds / (wallMs / 1000);
    const ratio = wallMs / refWallMs;
    const inBounds = Math.abs(ourMeter.lufs - TARGET_LUFS) <= LUFS_TOLERANCE && ourMeter.truePeakDb <= MAX_TRUE_PEAK_DB;
    const result = {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage1m: { before: round(loadBefore, 2), after: round(loadavg()[0]!, 2) } },
      reference: { engine: espeakVersion, wallMs: round(refWallMs), cpuMs: round(refCpu), espeakMs: round(median(refs.map((r) => r.espeakMs))), encodeMs: round(median(refs.map((r) => r.encodeMs))), lufs: refMeter.lufs, truePeakDb: refMeter.truePeakDb },
      ours: {
        audioSeconds: round(audioSeconds, 1), wallMs: round(wallMs), cpuMs: round(cpu), coldWallMs: round(coldMs), stages, bytes: out.ogg.length,
        lufs: ourMeter.lufs, truePeakDb: ourMeter.truePeakDb, pipelineLufs: out.lufs, pipelineTruePeakDb: out.truePeakDb,
        withMp3WallMs: round(mp3WallMs), mp3Bytes: withMp3.mp3?.length ?? 0,
      },
      runs: RUNS,
      targets: {
        realTimeFactor: { value: round(rtf, 1), target: `>= ${TARGET_RTF}`, met: rtf >= TARGET_RTF },
        wallRatioToReference: { value: round(ratio, 2), target: `<= ${TARGET_RATIO}`, met: ratio <= TARGET_RATIO },
        loudness: { lufs: ourMeter.lufs, truePeakDb: ourMeter.truePeakDb, target: `${TARGET_LUFS} ±${LUFS_TOLERANCE} LUFS, <= ${MAX_TRUE_PEAK_DB} dBTP`, met: inBounds },
      },
    };
    await writeFile(new URL('results/tts.json', HERE), `${JSON.stringify(result, null, 2)}\n`);
    const table = [
      '| measure | value | target | met |',
      '|---|---|---|---|',
      `| audio | ${audioSeconds.toFixed(1)} s | | |`,
      `| our wall time (median of ${RUNS}, warm) | ${(wallMs / 1000).toFixed(2)} s | | |`,
      `| real-time factor | ${rtf.toFixed(1)}× | ≥ ${TARGET_RTF}× | ${rtf >= TARGET_RTF ? 'yes' : '**no**'} |`,
      `| reference wall time (espeak-ng ${Math.round(result.reference.espeakMs)} ms + Opus ${Math.round(result.reference.encodeMs)} ms) | ${(refWallMs / 1000).toFixed(2)} s | | |`,
      `| ours / reference | ${ratio.toFixed(2)}× | ≤ ${TARGET_RATIO}× | ${ratio <= TARGET_RATIO ? 'yes' : '**no**'} |`,
      `| CPU time, ours / reference (median) | ${(cpu / 1000).toFixed(2)} s / ${(refCpu / 1000).toFixed(2)} s | | |`,
      `| loudness, true peak (decoded, loudnorm meter) | ${ourMeter.lufs} LUFS, ${ourMeter.truePeakDb} dBTP | ${TARGET_LUFS} ±${LUFS_TOLERANCE}, ≤ ${MAX_TRUE_PEAK_DB} | ${inBounds ? 'yes' : '**no**'} |`,
      `| stages (median ms) | synthesis ${stages.synthesisMs}, measure ${stages.measureMs}, compress ${stages.compressMs}, fit ${stages.fitMs} (${stages.fitPasses} passes), Opus ${stages.encodeMs} (${stages.repairedSegments} segments repaired), verify ${stages.verifyMs} | | |`,
      `| with the MP3 rendition too (one run) | ${(mp3WallMs / 1000).toFixed(2)} s | | |`,
      `| cold first render (worker start, wasm compile) | ${(coldMs / 1000).toFixed(2)} s | | |`,
    ].join('\n');
    log(`\n${table}`);
    const conditions = `${result.machine.cores} cores (${result.machine.cpu}), Node ${process.version}, load average ${result.machine.loadAverage1m.before} before / ${result.machine.loadAverage1m.after} after`;
    await updateReadmeBlock(new URL('README.md', HERE), 'tts', `Last run ${result.date.slice(0, 10)}, ${conditions}:\n\n${table}`);
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:tts failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
